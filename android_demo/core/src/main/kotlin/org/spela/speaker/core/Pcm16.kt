package org.spela.speaker.core

import kotlin.math.log10
import kotlin.math.sqrt

/**
 * PCM16 to float conversion, exactly as the training pipeline scales audio:
 * `float = sample / pcm16Scale` in single precision (`model.json` gives the scale, 32768).
 */
object Pcm16 {
    /** Default divisor of the training pipeline (Python: `int16 / float32(32768)`). */
    const val DEFAULT_SCALE = 32768f

    /** Converts `count` samples of `source` starting at `offset` into `target` (same length). */
    fun toFloats(source: ShortArray, offset: Int, count: Int, scale: Float, target: FloatArray) {
        require(scale > 0f) { "scale must be positive, got $scale" }
        require(offset >= 0 && count >= 0 && offset + count <= source.size) {
            "offset=$offset count=$count outside a source of ${source.size} samples"
        }
        require(target.size >= count) { "target holds ${target.size} floats, need $count" }
        for (i in 0 until count) {
            target[i] = source[offset + i].toFloat() / scale
        }
    }

    /** Converts a whole array of samples to a new float array. */
    fun toFloats(source: ShortArray, scale: Float = DEFAULT_SCALE): FloatArray {
        val target = FloatArray(source.size)
        toFloats(source, 0, source.size, scale, target)
        return target
    }

    /** Decodes little-endian 16-bit samples from raw bytes (an even number of them). */
    fun fromLittleEndian(bytes: ByteArray, offset: Int = 0, length: Int = bytes.size - offset): ShortArray {
        require(length % 2 == 0) { "PCM16 data needs an even number of bytes, got $length" }
        val samples = ShortArray(length / 2)
        for (i in samples.indices) {
            val low = bytes[offset + 2 * i].toInt() and 0xFF
            val high = bytes[offset + 2 * i + 1].toInt()
            samples[i] = ((high shl 8) or low).toShort()
        }
        return samples
    }

    /** Root-mean-square level of float samples in dB relative to full scale (-inf for silence). */
    fun rmsDbfs(samples: FloatArray): Float {
        if (samples.isEmpty()) return Float.NEGATIVE_INFINITY
        var sum = 0.0
        for (value in samples) sum += value.toDouble() * value
        val rms = sqrt(sum / samples.size)
        return if (rms == 0.0) Float.NEGATIVE_INFINITY else (20.0 * log10(rms)).toFloat()
    }
}
