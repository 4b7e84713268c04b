package org.spela.speaker.demo

import android.content.res.AssetManager
import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import com.google.ai.edge.litert.TensorBuffer

/**
 * The exported model on LiteRT's CPU accelerator: one clip of floats in, speaker probabilities out.
 * The model's first layers compute the log-mel spectrogram, so no feature code lives here.
 * Not thread-safe: the listener calls it from its single inference thread.
 */
class SpeakerClassifier(assets: AssetManager, private val model: ModelAssets) : AutoCloseable {
    private val compiled = CompiledModel.create(assets, model.modelFile, CompiledModel.Options(Accelerator.CPU), null)
    private val inputs: List<TensorBuffer> = compiled.createInputBuffers()
    private val outputs: List<TensorBuffer> = compiled.createOutputBuffers()

    fun classify(clip: FloatArray): FloatArray {
        require(clip.size == model.facts.clipSamples) {
            "a clip has ${model.facts.clipSamples} samples, got ${clip.size}"
        }
        inputs[0].writeFloat(clip)
        compiled.run(inputs, outputs)
        val probabilities = outputs[0].readFloat()
        check(probabilities.size == model.facts.labels.size) {
            "model gives ${probabilities.size} outputs for ${model.facts.labels.size} labels"
        }
        return probabilities
    }

    override fun close() {
        inputs.forEach { it.close() }
        outputs.forEach { it.close() }
        compiled.close()
    }
}
