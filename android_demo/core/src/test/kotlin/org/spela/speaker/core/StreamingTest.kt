package org.spela.speaker.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test

class StreamingTest {
    @Test
    fun ringKeepsTheLatestSamplesInOrder() {
        val ring = RingBuffer(5)
        val out = FloatArray(5)
        ring.latest(out)
        assertArrayEquals(FloatArray(5), out, 0f)
        ring.write(floatArrayOf(1f, 2f, 3f))
        ring.latest(out)
        assertArrayEquals(floatArrayOf(0f, 0f, 1f, 2f, 3f), out, 0f)
        ring.write(floatArrayOf(4f, 5f, 6f, 7f))
        ring.latest(out)
        assertArrayEquals(floatArrayOf(3f, 4f, 5f, 6f, 7f), out, 0f)
        ring.write(FloatArray(12) { it + 10f }, 2, 8)  // longer than the ring
        ring.latest(out)
        assertArrayEquals(floatArrayOf(15f, 16f, 17f, 18f, 19f), out, 0f)
        val three = FloatArray(3)
        ring.latest(three)
        assertArrayEquals(floatArrayOf(17f, 18f, 19f), three, 0f)
        assertEquals(5, ring.size)
        ring.clear()
        assertEquals(0, ring.size)
    }

    @Test
    fun schedulerWaitsForAClipThenEveryHop() {
        val scheduler = WindowScheduler.everyMillis(16000, 16000, 250)
        assertEquals(4000, scheduler.hopSamples)
        val due = (1..13).map { scheduler.onSamples(1600) }  // 100 ms reads
        // The first second fills the clip (read 10); 250 ms later read 13 is due (4800 >= 4000).
        assertEquals((1..13).filter { due[it - 1] }, listOf(10, 13))
        assertTrue(scheduler.onSamples(20000))  // a big chunk: one classification
        assertFalse(scheduler.onSamples(1000))
        scheduler.reset()
        assertFalse(scheduler.onSamples(8000))
    }

    @Test(expected = IllegalArgumentException::class)
    fun schedulerRefusesNonPositiveHops() {
        WindowScheduler(16000, 0)
    }
}
