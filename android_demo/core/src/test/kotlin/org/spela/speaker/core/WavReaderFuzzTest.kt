package org.spela.speaker.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.ByteArrayOutputStream
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.random.Random

/** Hostile WAV bytes against [WavReader]: each parse returns valid audio or a named [WavFormatException]. */
class WavReaderFuzzTest {
    private class Chunk(val id: String, val body: ByteArray, val claimedSize: Long = body.size.toLong())

    private fun fmtBody(format: Int, channels: Int, rate: Long, bits: Int): ByteArray =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
            .putShort(format.toShort()).putShort(channels.toShort()).putInt(rate.toInt())
            .putInt((rate * channels * bits / 8).toInt()).putShort((channels * bits / 8).toShort())
            .putShort(bits.toShort()).array()

    private fun riff(chunks: List<Chunk>, claimedRiffSize: Long? = null): ByteArray {
        val out = ByteArrayOutputStream()
        fun int32(v: Long) { for (s in 0..3) out.write(((v shr (8 * s)) and 0xFF).toInt()) }
        val total = 4 + chunks.map { 8 + it.body.size + (it.body.size and 1) }.sum()
        out.write("RIFF".toByteArray()); int32(claimedRiffSize ?: total.toLong()); out.write("WAVE".toByteArray())
        for (chunk in chunks) {
            out.write(chunk.id.toByteArray(Charsets.ISO_8859_1)); int32(chunk.claimedSize)
            out.write(chunk.body)
            if (chunk.body.size and 1 == 1) out.write(0)
        }
        return out.toByteArray()
    }

    private val hostileSizes = longArrayOf(
        0, 1, 15, 16, 17, 0x7FFFFFF0, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFF
    )

    private fun hostile(random: Random): ByteArray {
        val format = if (random.nextInt(4) == 0) random.nextInt(0, 65536) else 1
        val channels = if (random.nextInt(4) == 0) random.nextInt(0, 65536) else random.nextInt(1, 3)
        val rate = when (random.nextInt(5)) {
            0 -> random.nextLong(0, 0x100000000)
            1 -> listOf(0L, 1L, 3999L, 384001L, 48_000_000L, 0xFFFFFFFFL).random(random)
            else -> listOf(8000L, 16000L, 44100L).random(random)
        }
        val bits = if (random.nextInt(4) == 0) random.nextInt(0, 65536) else 16
        val samples = ByteArray(random.nextInt(0, 64)) { random.nextInt().toByte() }
        fun size(body: ByteArray): Long =
            if (random.nextInt(3) == 0) hostileSizes.random(random) else body.size.toLong()
        val fmt = fmtBody(format, channels, rate, bits)
        val chunks = mutableListOf(Chunk("fmt ", fmt, size(fmt)), Chunk("data", samples, size(samples)))
        if (random.nextInt(3) == 0) chunks.add(random.nextInt(chunks.size + 1), Chunk("LIST", ByteArray(random.nextInt(8)), random.nextLong(0, 0x100000000)))
        if (random.nextInt(5) == 0) chunks.shuffle(random)
        var bytes = riff(chunks, if (random.nextInt(4) == 0) hostileSizes.random(random) else null)
        when (random.nextInt(4)) {
            0 -> bytes = bytes.copyOf(random.nextInt(0, bytes.size + 1))
            1 -> repeat(random.nextInt(1, 6)) { bytes[random.nextInt(bytes.size)] = random.nextInt().toByte() }
            else -> {}
        }
        return bytes
    }

    @Test
    fun everyHostileFileIsAudioOrANamedError() {
        val random = Random(20261125)
        var accepted = 0
        var rejected = 0
        repeat(20000) { case ->
            val bytes = hostile(random)
            try {
                val audio = WavReader.parse(bytes, "case$case.wav")
                assertTrue(audio.channels in 1..WavReader.MAX_CHANNELS)
                assertTrue(audio.sampleRate in WavReader.MIN_SAMPLE_RATE..WavReader.MAX_SAMPLE_RATE)
                assertTrue(audio.samples.isNotEmpty() && audio.samples.size % audio.channels == 0)
                assertTrue(audio.samples.size * 2 <= bytes.size)
                accepted++
            } catch (error: WavFormatException) {
                assertTrue(error.message!!, error.message!!.startsWith("case$case.wav: "))
                rejected++
            } catch (error: Throwable) {
                fail("case $case (${bytes.size} bytes) threw ${error::class.java.name}: ${error.message}")
            }
        }
        assertTrue("accepted $accepted", accepted > 1000)
        assertTrue("rejected $rejected", rejected > 1000)
    }

    @Test
    fun chunkSizesNearTwoToThe31DoNotWrapAround() {
        for (claimed in longArrayOf(0x7FFFFFF0, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF8)) {
            val fmt = fmtBody(1, 1, 16000, 16)
            for (bytes in listOf(
                riff(listOf(Chunk("fmt ", fmt), Chunk("data", ByteArray(8), claimed))),
                riff(listOf(Chunk("LIST", ByteArray(4), claimed), Chunk("fmt ", fmt))),
                riff(listOf(Chunk("fmt ", fmt, claimed)))
            )) {
                try {
                    WavReader.parse(bytes, "tiny.wav")
                    fail("accepted a chunk of $claimed bytes in a ${bytes.size}-byte file")
                } catch (error: WavFormatException) {
                    assertTrue(error.message!!, error.message!!.contains("runs past the end"))
                }
            }
        }
    }

    @Test
    fun sampleRateAndChannelsOutsideTheBoundsAreNamed() {
        for ((rate, channels, problem) in listOf(
            Triple(1L, 1, "sample rate 1 Hz"), Triple(48_000_000L, 1, "sample rate 48000000 Hz"),
            Triple(16000L, 0, "0 channels"), Triple(16000L, 17, "17 channels")
        )) {
            val bytes = riff(listOf(Chunk("fmt ", fmtBody(1, channels, rate, 16)), Chunk("data", ByteArray(68))))
            try {
                WavReader.parse(bytes, "odd.wav")
                fail("accepted $problem")
            } catch (error: WavFormatException) {
                assertTrue(error.message!!, error.message!!.contains(problem))
            }
        }
    }

    @Test
    fun filesLargerThanTheBoundAreRefusedBeforeReading() {
        val file = File.createTempFile("huge", ".wav")
        try {
            java.io.RandomAccessFile(file, "rw").use { it.setLength(WavReader.MAX_FILE_BYTES + 1) }
            try {
                WavReader.read(file)
                fail("read a file over the bound")
            } catch (error: WavFormatException) {
                assertTrue(error.message!!, error.message!!.contains("bytes, more than"))
            }
        } finally {
            file.delete()
        }
        assertEquals(64L * 1024 * 1024, WavReader.MAX_FILE_BYTES)
    }
}
