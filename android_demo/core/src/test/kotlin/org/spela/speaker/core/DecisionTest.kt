package org.spela.speaker.core

import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

class DecisionTest {
    @Test
    fun smootherAveragesExponentially() {
        val smoother = PosteriorSmoother(2, weight = 0.5f)
        assertArrayEquals(floatArrayOf(1f, 0f), smoother.update(floatArrayOf(1f, 0f)), 0f)
        assertArrayEquals(floatArrayOf(0.5f, 0.5f), smoother.update(floatArrayOf(0f, 1f)), 1e-6f)
        assertArrayEquals(floatArrayOf(0.25f, 0.75f), smoother.update(floatArrayOf(0f, 1f)), 1e-6f)
        smoother.reset()
        assertArrayEquals(floatArrayOf(0.2f, 0.8f), smoother.update(floatArrayOf(0.2f, 0.8f)), 0f)
    }

    @Test
    fun ruleSaysNoSpeechUnsureOrSpeaker() {
        val rule = DecisionRule(threshold = 0.6f, silenceDbfs = -50f)
        assertTrue(rule.decide(-60f, floatArrayOf(0.9f, 0.1f)) is Decision.NoSpeech)
        assertTrue(rule.decide(Float.NEGATIVE_INFINITY, floatArrayOf(0.9f, 0.1f)) is Decision.NoSpeech)
        val unsure = rule.decide(-20f, floatArrayOf(0.3f, 0.5f, 0.2f))
        assertTrue(unsure is Decision.Unsure)
        assertEquals(1, (unsure as Decision.Unsure).best)
        val speaker = rule.decide(-20f, floatArrayOf(0.1f, 0.2f, 0.7f))
        assertTrue(speaker is Decision.Speaker)
        assertEquals(2, (speaker as Decision.Speaker).index)
        assertEquals(0.7f, speaker.confidence, 0f)
    }
}
