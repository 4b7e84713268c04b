package org.spela.speaker.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

class Pcm16Test {
    @Test
    fun scalesByTheTrainingDivisor() {
        val floats = Pcm16.toFloats(shortArrayOf(0, 16384, -32768, 32767, 1))
        assertArrayEquals(floatArrayOf(0f, 0.5f, -1f, 32767f / 32768f, 1f / 32768f), floats, 0f)
    }

    @Test
    fun decodesLittleEndianBytes() {
        val samples = Pcm16.fromLittleEndian(byteArrayOf(0x01, 0x00, 0xFF.toByte(), 0x7F, 0x00, 0x80.toByte()))
        assertArrayEquals(shortArrayOf(1, 32767, -32768), samples)
    }

    @Test(expected = IllegalArgumentException::class)
    fun refusesOddByteCounts() {
        Pcm16.fromLittleEndian(byteArrayOf(1, 2, 3))
    }

    @Test
    fun measuresLevels() {
        assertEquals(Float.NEGATIVE_INFINITY, Pcm16.rmsDbfs(FloatArray(10)), 0f)
        assertEquals(-6.0206f, Pcm16.rmsDbfs(FloatArray(100) { if (it % 2 == 0) 0.5f else -0.5f }), 1e-3f)
        assertTrue(Pcm16.rmsDbfs(floatArrayOf(1f, -1f)) == 0f)
    }
}
