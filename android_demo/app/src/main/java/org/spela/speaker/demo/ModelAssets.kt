package org.spela.speaker.demo

import android.content.res.AssetManager
import org.spela.speaker.core.Labels
import org.spela.speaker.core.ModelFacts
import org.spela.speaker.core.ModelFormatException

/** The exported model's files in the APK's assets, checked against each other (and the model's own facts) by the core. */
class ModelAssets(val facts: ModelFacts, val modelFile: String) {
    companion object {
        /** Prefers the smaller int8 model when it was copied, else the float32 one. */
        fun load(assets: AssetManager): ModelAssets {
            val names = assets.list("")?.toSet() ?: emptySet()
            for (required in listOf("model.json", "labels.txt")) {
                if (required !in names) throw ModelFormatException("assets hold no $required")
            }
            val facts = ModelFacts.parse(assets.open("model.json").bufferedReader().use { it.readText() })
            facts.checkLabels(Labels.parse(assets.open("labels.txt").bufferedReader().use { it.readText() }))
            val model = listOf("model_int8.tflite", "model.tflite").firstOrNull { it in names }
                ?: throw ModelFormatException("assets hold no model.tflite")
            facts.checkModel(assets.open(model).use { it.readBytes() }, model)
            return ModelAssets(facts, model)
        }
    }
}
