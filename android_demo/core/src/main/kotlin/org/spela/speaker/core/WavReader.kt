package org.spela.speaker.core

import java.io.File

/** A RIFF WAV file that cannot be read as PCM16; the message names the file and the problem. */
class WavFormatException(message: String) : Exception(message)

/** Decoded PCM16 audio: interleaved `samples` of `channels` channels at `sampleRate` Hz. */
class WavAudio(val sampleRate: Int, val channels: Int, val samples: ShortArray) {
    /** Number of sample frames (samples per channel). */
    val frames: Int get() = samples.size / channels

    /** Mono floats, channels averaged, scaled as the training pipeline scales PCM16. */
    fun monoFloats(scale: Float = Pcm16.DEFAULT_SCALE): FloatArray {
        val all = Pcm16.toFloats(samples, scale)
        if (channels == 1) return all
        val mono = FloatArray(frames)
        for (frame in 0 until frames) {
            var sum = 0f
            for (channel in 0 until channels) sum += all[frame * channels + channel]
            mono[frame] = sum / channels
        }
        return mono
    }
}

/**
 * Reader of RIFF/WAVE files holding 16-bit PCM ("fmt " format 1).
 *
 * Every header field is checked against the bounds below before anything is allocated;
 * anything else is a [WavFormatException] naming the file, never another exception.
 */
object WavReader {
    /** Lowest and highest sample rate accepted, in Hz. */
    const val MIN_SAMPLE_RATE = 4000
    const val MAX_SAMPLE_RATE = 384000

    /** Most channels accepted. */
    const val MAX_CHANNELS = 16

    /** Largest file [read] loads, in bytes (64 MiB: 35 minutes of 16 kHz mono PCM16). */
    const val MAX_FILE_BYTES = 64L * 1024 * 1024

    fun read(file: File): WavAudio {
        if (!file.isFile) throw WavFormatException("${file.path}: no such file")
        val length = file.length()
        if (length > MAX_FILE_BYTES) {
            throw WavFormatException("${file.path}: $length bytes, more than the $MAX_FILE_BYTES allowed")
        }
        return parse(file.readBytes(), file.path)
    }

    fun parse(bytes: ByteArray, name: String = "WAV data"): WavAudio {
        fun fail(problem: String): Nothing = throw WavFormatException("$name: $problem")
        if (bytes.size < 12 || tag(bytes, 0) != "RIFF" || tag(bytes, 8) != "WAVE") {
            fail("not a RIFF/WAVE file")
        }
        var position = 12
        var format = -1
        var channels = 0
        var sampleRate = 0
        var bits = 0
        while (position.toLong() + 8 <= bytes.size) {
            val id = tag(bytes, position)
            val size = int32(bytes, position + 4)
            val body = position + 8
            // Chunk sizes are unsigned 32-bit: compare in Long so that no size wraps around.
            if (size < 0 || body.toLong() + size > bytes.size) {
                fail("chunk '${printable(id)}' of ${size.toLong() and 0xFFFFFFFFL} bytes runs past the end of the file")
            }
            when (id) {
                "fmt " -> {
                    if (size < 16) fail("fmt chunk of $size bytes is too short")
                    format = int16(bytes, body)
                    channels = int16(bytes, body + 2)
                    sampleRate = int32(bytes, body + 4)
                    bits = int16(bytes, body + 14)
                }
                "data" -> {
                    if (format == -1) fail("data chunk before the fmt chunk")
                    if (format != 1 || bits != 16) {
                        fail("format $format with $bits-bit samples; only PCM16 (format 1) is supported")
                    }
                    if (channels !in 1..MAX_CHANNELS) fail("$channels channels; allowed 1 to $MAX_CHANNELS")
                    if (sampleRate !in MIN_SAMPLE_RATE..MAX_SAMPLE_RATE) {
                        fail("sample rate ${sampleRate.toLong() and 0xFFFFFFFFL} Hz; allowed $MIN_SAMPLE_RATE to $MAX_SAMPLE_RATE Hz")
                    }
                    val usable = size - size % (2 * channels)
                    if (usable == 0) fail("no audio samples")
                    return WavAudio(sampleRate, channels, Pcm16.fromLittleEndian(bytes, body, usable))
                }
            }
            position = body + size + (size and 1)
            if (position < 0) break
        }
        fail(if (format == -1) "no fmt chunk" else "no data chunk")
    }

    private fun tag(bytes: ByteArray, at: Int): String =
        String(bytes, at, 4, Charsets.US_ASCII)

    private fun printable(id: String): String =
        id.map { if (it in ' '..'~') it else '?' }.joinToString("")

    private fun int16(bytes: ByteArray, at: Int): Int =
        (bytes[at].toInt() and 0xFF) or ((bytes[at + 1].toInt() and 0xFF) shl 8)

    private fun int32(bytes: ByteArray, at: Int): Int =
        int16(bytes, at) or (int16(bytes, at + 2) shl 16)
}
