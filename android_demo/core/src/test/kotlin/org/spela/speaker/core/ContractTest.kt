package org.spela.speaker.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Assume.assumeTrue
import org.junit.Test
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * Files written by the Python side (the speaker example's tests) in `SPELA_CONTRACT_DIR`:
 * `fixture.wav`, the floats the training pipeline makes of it (`fixture_floats.f32`, little-endian
 * float32), and `labels.txt` + `model.json` from the real export code, plus `expected_labels.txt`;
 * `model.tflite` carries the same facts inside as the export writes them, and `model_other.tflite`
 * (the same model) the facts of another export: the labels reversed, no no-one output.
 */
class ContractTest {
    private val directory = System.getenv("SPELA_CONTRACT_DIR")?.let { File(it) }

    private fun file(name: String): File {
        assumeTrue("SPELA_CONTRACT_DIR is not set: contract fixtures come from the Python tests",
            directory != null)
        val file = File(directory, name)
        check(file.isFile) { "contract fixture ${file.path} is missing" }
        return file
    }

    @Test
    fun pcmConversionReproducesTheTrainingFloatsExactly() {
        val facts = ModelFacts.parse(file("model.json").readText())
        val audio = WavReader.read(file("fixture.wav"))
        assertEquals(facts.sampleRate, audio.sampleRate)
        val floats = audio.monoFloats(facts.pcm16Scale)
        val bytes = file("fixture_floats.f32").readBytes()
        val expected = FloatArray(bytes.size / 4)
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(expected)
        assertEquals(expected.size, floats.size)
        for (i in expected.indices) {
            if (java.lang.Float.floatToRawIntBits(expected[i]) != java.lang.Float.floatToRawIntBits(floats[i])) {
                throw AssertionError("sample $i: Python ${expected[i]}, Kotlin ${floats[i]}")
            }
        }
    }

    @Test
    fun labelsAgreeInOrder() {
        val facts = ModelFacts.parse(file("model.json").readText())
        val labels = Labels.parse(file("labels.txt").readText())
        facts.checkLabels(labels)
        assertEquals(file("expected_labels.txt").readLines().filter { it.isNotEmpty() }, labels)
    }

    @Test
    fun noOneOutputIsReadAsTheExportWroteIt() {
        // The Python side writes the facts of a model with a no-one output.
        assertEquals(true, ModelFacts.parse(file("model.json").readText()).noOneOutput)
    }

    @Test
    fun clipWindowFeedsTheModelShape() {
        val facts = ModelFacts.parse(file("model.json").readText())
        val audio = WavReader.read(file("fixture.wav")).monoFloats(facts.pcm16Scale)
        val ring = RingBuffer(facts.clipSamples)
        val scheduler = WindowScheduler.everyMillis(facts.sampleRate, facts.clipSamples, 250)
        val window = FloatArray(facts.clipSamples)
        var due = 0
        var offset = 0
        while (offset < audio.size) {
            val count = minOf(1024, audio.size - offset)
            ring.write(audio, offset, count)
            offset += count
            if (scheduler.onSamples(count)) {
                ring.latest(window)
                due++
            }
        }
        // A 1.5-s fixture: the first window after 1 s, then one per 250 ms.
        assertEquals(1 + (audio.size - facts.clipSamples) / scheduler.hopSamples, due)
        assertEquals(audio[audio.size - 1], window[window.size - 1 - (audio.size - offset)], 0f)
    }

    @Test
    fun theExportedModelCarriesTheFactsOfModelJson() {
        val facts = ModelFacts.parse(file("model.json").readText())
        val model = file("model.tflite").readBytes()
        val entries = TfliteMetadata.read(model)
        assertTrue(entries.keys.toString(), entries.keys.containsAll(listOf("min_runtime_version", "model.json")))
        assertEquals(facts.labels, ModelFacts.parse(String(entries.getValue("model.json"), Charsets.UTF_8)).labels)
        facts.checkModel(model, "model.tflite")
    }

    @Test
    fun aModelOfAnotherExportIsRefusedNamingWhatDiffers() {
        val facts = ModelFacts.parse(file("model.json").readText())
        try {
            facts.checkModel(file("model_other.tflite").readBytes(), "model_other.tflite")
            fail("expected the other export's model to be refused")
        } catch (error: ModelFormatException) {
            val exported = facts.labels.reversed()
            assertEquals(
                "model_other.tflite was exported with labels $exported, no_one_output false, " +
                    "but model.json says labels ${facts.labels}, no_one_output true",
                error.message
            )
        }
    }

    @Test
    fun aDamagedModelFileThrowsOnlyModelFormatException() {
        val model = file("model.tflite").readBytes()
        var refused = 0
        fun attempt(bytes: ByteArray) {
            try {
                TfliteMetadata.read(bytes)
            } catch (error: ModelFormatException) {
                refused++
            }
        }
        for (length in 0 until model.size) attempt(model.copyOf(length))
        val random = java.util.Random(3)
        repeat(3000) {
            val damaged = model.copyOf()
            repeat(1 + random.nextInt(4)) { damaged[random.nextInt(damaged.size)] = random.nextInt(256).toByte() }
            attempt(damaged)
        }
        assertTrue("only $refused of the damaged files were refused", refused > model.size / 2)
    }
}
