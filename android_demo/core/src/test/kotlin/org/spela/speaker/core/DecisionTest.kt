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

    @Test
    fun aNoOneModelSaysNoOneWhereTheSpeakersLeaveEnough() {
        val rule = DecisionRule(threshold = 0.6f, silenceDbfs = -50f, noOneOutput = true)
        // The speakers leave 0.7 of 1 to no one.
        val noOne = rule.decide(-20f, floatArrayOf(0.1f, 0.15f, 0.05f))
        assertTrue(noOne is Decision.NoOne)
        assertEquals(0.7f, (noOne as Decision.NoOne).confidence, 1e-6f)
        // They leave 0.5: under the threshold, and the best speaker's 0.3 is too.
        val unsure = rule.decide(-20f, floatArrayOf(0.3f, 0.2f))
        assertTrue(unsure is Decision.Unsure)
        assertEquals(0, (unsure as Decision.Unsure).best)
        // A speaker who reaches the threshold is named.
        assertTrue(rule.decide(-20f, floatArrayOf(0.65f, 0.05f)) is Decision.Speaker)
        // At a threshold below one half both may reach it: the larger wins.
        val low = DecisionRule(threshold = 0.3f, noOneOutput = true)
        assertTrue(low.decide(-20f, floatArrayOf(0.35f, 0.05f)) is Decision.NoOne)
        assertTrue(low.decide(-20f, floatArrayOf(0.45f, 0.2f)) is Decision.Speaker)
        // Silence stays silence.
        assertTrue(rule.decide(-60f, floatArrayOf(0.1f, 0.1f)) is Decision.NoSpeech)
    }

    @Test
    fun aModelWithoutANoOneOutputNeverSaysNoOne() {
        // int8 rounding can leave the probabilities summing well under 1.
        val rule = DecisionRule(threshold = 0.6f, silenceDbfs = -50f)
        val decision = rule.decide(-20f, floatArrayOf(0.1f, 0.15f, 0.05f))
        assertTrue(decision is Decision.Unsure)
        assertEquals(1, (decision as Decision.Unsure).best)
    }
}
