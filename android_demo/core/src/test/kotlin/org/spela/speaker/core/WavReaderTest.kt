package org.spela.speaker.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.ByteArrayOutputStream
import java.io.File

class WavReaderTest {
    private fun wav(rate: Int, channels: Int, samples: ShortArray, bits: Int = 16, format: Int = 1,
                    extraChunk: Boolean = false): ByteArray {
        val out = ByteArrayOutputStream()
        fun int32(v: Int) { for (s in 0..3) out.write((v shr (8 * s)) and 0xFF) }
        fun int16(v: Int) { out.write(v and 0xFF); out.write((v shr 8) and 0xFF) }
        val data = samples.size * 2
        out.write("RIFF".toByteArray()); int32(36 + data + if (extraChunk) 12 else 0); out.write("WAVE".toByteArray())
        out.write("fmt ".toByteArray()); int32(16); int16(format); int16(channels); int32(rate)
        int32(rate * channels * bits / 8); int16(channels * bits / 8); int16(bits)
        if (extraChunk) { out.write("LIST".toByteArray()); int32(3); out.write(byteArrayOf(1, 2, 3, 0)) }
        out.write("data".toByteArray()); int32(data)
        for (s in samples) int16(s.toInt())
        return out.toByteArray()
    }

    @Test
    fun readsMonoPcm16() {
        val audio = WavReader.parse(wav(16000, 1, shortArrayOf(1, -2, 300)))
        assertEquals(16000, audio.sampleRate)
        assertArrayEquals(shortArrayOf(1, -2, 300), audio.samples)
    }

    @Test
    fun skipsUnknownChunksWithPadding() {
        val audio = WavReader.parse(wav(8000, 1, shortArrayOf(7, 8), extraChunk = true))
        assertArrayEquals(shortArrayOf(7, 8), audio.samples)
    }

    @Test
    fun averagesStereo() {
        val audio = WavReader.parse(wav(16000, 2, shortArrayOf(16384, 0, -32768, -32768)))
        assertEquals(2, audio.frames)
        assertArrayEquals(floatArrayOf(0.25f, -1f), audio.monoFloats(), 0f)
    }

    @Test
    fun namesTheProblem() {
        val cases = mapOf(
            "not a RIFF/WAVE file" to "hello".toByteArray(),
            "only PCM16" to wav(16000, 1, shortArrayOf(1), bits = 8),
            "only PCM16 (format 1)" to wav(16000, 1, shortArrayOf(1), format = 3),
            "runs past the end" to wav(16000, 1, shortArrayOf(1, 2, 3)).copyOf(46)
        )
        for ((problem, bytes) in cases) {
            try {
                WavReader.parse(bytes, "clip.wav")
                fail("expected an error for $problem")
            } catch (error: WavFormatException) {
                assertTrue(error.message!!, error.message!!.startsWith("clip.wav: "))
                assertTrue(error.message!!, error.message!!.contains(problem))
            }
        }
    }

    @Test
    fun reportsMissingFiles() {
        try {
            WavReader.read(File("/nonexistent/x.wav"))
            fail("expected an error")
        } catch (error: WavFormatException) {
            assertTrue(error.message!!.contains("x.wav"))
        }
    }
}
