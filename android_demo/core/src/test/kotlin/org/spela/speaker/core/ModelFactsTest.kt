package org.spela.speaker.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class ModelFactsTest {
    private val valid = """{"sample_rate": 16000, "clip_samples": 16000, "pcm16_scale": 32768.0,
        "labels": ["Anna", "Boris \"B\"", "\u00c9mile"], "files": {"model.tflite": 1234}, "extra": [true, null, -1.5e3]}"""

    @Test
    fun parsesTheFieldsTheAppNeeds() {
        val facts = ModelFacts.parse(valid)
        assertEquals(16000, facts.sampleRate)
        assertEquals(16000, facts.clipSamples)
        assertEquals(32768f, facts.pcm16Scale, 0f)
        assertEquals(listOf("Anna", "Boris \"B\"", "\u00c9mile"), facts.labels)
        assertFalse(facts.noOneOutput)
    }

    @Test
    fun readsWhetherTheModelHasANoOneOutput() {
        val base = """"sample_rate": 16000, "clip_samples": 16000, "pcm16_scale": 1, "labels": ["a"]"""
        assertTrue(ModelFacts.parse("{$base, \"no_one_output\": true}").noOneOutput)
        assertFalse(ModelFacts.parse("{$base, \"no_one_output\": false}").noOneOutput)
        for (value in listOf("1", "\"true\"", "null")) {
            try {
                ModelFacts.parse("{$base, \"no_one_output\": $value}")
                fail("expected an error for no_one_output $value")
            } catch (error: ModelFormatException) {
                assertTrue(error.message!!, error.message!!.contains("'no_one_output' must be true or false"))
            }
        }
    }

    @Test
    fun namesWhatIsWrong() {
        val cases = mapOf(
            "not valid JSON" to "{\"sample_rate\": ",
            "'sample_rate'" to """{"clip_samples": 16000, "pcm16_scale": 1, "labels": ["a"]}""",
            "must be positive" to """{"sample_rate": -1, "clip_samples": 1, "pcm16_scale": 1, "labels": ["a"]}""",
            "whole number" to """{"sample_rate": 16000.5, "clip_samples": 1, "pcm16_scale": 1, "labels": ["a"]}""",
            "'labels'" to """{"sample_rate": 16000, "clip_samples": 1, "pcm16_scale": 1}""",
            "holds no labels" to """{"sample_rate": 16000, "clip_samples": 1, "pcm16_scale": 1, "labels": []}""",
            "must hold an object" to "[1, 2]"
        )
        for ((problem, text) in cases) {
            try {
                ModelFacts.parse(text)
                fail("expected an error for $problem")
            } catch (error: ModelFormatException) {
                assertTrue("${error.message} lacks $problem", error.message!!.contains(problem))
            }
        }
    }

    @Test
    fun labelsFileMustMatchModelJson() {
        val facts = ModelFacts.parse(valid)
        assertEquals(listOf("a", "b"), Labels.parse("a\n\n  b  \n"))
        try {
            facts.checkLabels(listOf("Boris \"B\"", "Anna", "\u00c9mile"))
            fail("expected a mismatch")
        } catch (error: ModelFormatException) {
            assertTrue(error.message!!.contains("differs"))
        }
        try {
            Labels.parse("a\nb\na\n")
            fail("expected a repeat error")
        } catch (error: ModelFormatException) {
            assertTrue(error.message!!.contains("repeats"))
        }
    }

    @Test
    fun aModelFileThatIsNotTfliteIsRefusedByName() {
        val facts = ModelFacts.parse(valid)
        for (bytes in listOf(ByteArray(0), "PK\u0003\u0004 a zip file".toByteArray())) {
            try {
                facts.checkModel(bytes, "model.tflite")
                fail("expected an error for ${bytes.size} bytes")
            } catch (error: ModelFormatException) {
                assertEquals("model.tflite is not a TFLite model (no 'TFL3' identifier at byte 4)", error.message)
            }
        }
    }
}
