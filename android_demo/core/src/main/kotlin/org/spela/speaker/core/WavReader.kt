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

/** Reader of RIFF/WAVE files holding 16-bit PCM ("fmt " format 1), any rate and channel count. */
object WavReader {
    fun read(file: File): WavAudio {
        if (!file.isFile) throw WavFormatException("${file.path}: no such file")
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
        while (position + 8 <= bytes.size) {
            val id = tag(bytes, position)
            val size = int32(bytes, position + 4)
            val body = position + 8
            if (size < 0 || body + size > bytes.size) fail("chunk '$id' runs past the end of the file")
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
                    if (channels < 1 || sampleRate <= 0) fail("$channels channels at $sampleRate Hz")
                    val usable = size - size % (2 * channels)
                    if (usable == 0) fail("no audio samples")
                    return WavAudio(sampleRate, channels, Pcm16.fromLittleEndian(bytes, body, usable))
                }
            }
            position = body + size + (size and 1)
        }
        fail(if (format == -1) "no fmt chunk" else "no data chunk")
    }

    private fun tag(bytes: ByteArray, at: Int): String =
        String(bytes, at, 4, Charsets.US_ASCII)

    private fun int16(bytes: ByteArray, at: Int): Int =
        (bytes[at].toInt() and 0xFF) or ((bytes[at + 1].toInt() and 0xFF) shl 8)

    private fun int32(bytes: ByteArray, at: Int): Int =
        int16(bytes, at) or (int16(bytes, at + 2) shl 16)
}
