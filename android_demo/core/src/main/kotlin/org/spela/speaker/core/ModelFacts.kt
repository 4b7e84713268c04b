package org.spela.speaker.core

/** `model.json`, `labels.txt` or model file content the app cannot use; the message names the field. */
class ModelFormatException(message: String) : Exception(message)

/**
 * What the app needs to feed and read the exported model, from `model.json`.
 *
 * @property sampleRate audio rate in Hz the model expects
 * @property clipSamples samples per model input (one clip)
 * @property pcm16Scale divisor turning PCM16 samples into the model's floats
 * @property labels speaker names in output order
 * @property noOneOutput whether the probabilities sum to 1 minus the probability that no one speaks
 *   (`no_one_output`; false where `model.json` does not say)
 */
class ModelFacts(
    val sampleRate: Int,
    val clipSamples: Int,
    val pcm16Scale: Float,
    val labels: List<String>,
    val noOneOutput: Boolean = false
) {
    /** Throws unless `labels.txt` names the same speakers in the same order. */
    fun checkLabels(fileLabels: List<String>) {
        if (fileLabels != labels) {
            throw ModelFormatException("labels.txt $fileLabels differs from model.json labels $labels")
        }
    }

    /**
     * Throws where the model file carries facts of its own (the `model.json` metadata entry that the
     * export writes) that differ from these, as when a model was copied without its `model.json`.
     * A model without that entry (an older export) passes.
     *
     * @param modelBytes the `.tflite` file's bytes
     * @param modelName the file's name, for messages
     */
    fun checkModel(modelBytes: ByteArray, modelName: String) {
        val entry = TfliteMetadata.read(modelBytes, modelName)[FACTS_METADATA] ?: return
        val inside = try {
            parse(String(entry, Charsets.UTF_8))
        } catch (error: ModelFormatException) {
            throw ModelFormatException("$modelName's $FACTS_METADATA metadata: ${error.message}")
        }
        val differences = listOf(
            Triple("sample_rate", inside.sampleRate, sampleRate),
            Triple("clip_samples", inside.clipSamples, clipSamples),
            Triple("pcm16_scale", inside.pcm16Scale, pcm16Scale),
            Triple("labels", inside.labels, labels),
            Triple("no_one_output", inside.noOneOutput, noOneOutput)
        ).filter { it.second != it.third }
        if (differences.isNotEmpty()) {
            val exported = differences.joinToString(", ") { "${it.first} ${it.second}" }
            val said = differences.joinToString(", ") { "${it.first} ${it.third}" }
            throw ModelFormatException("$modelName was exported with $exported, but model.json says $said")
        }
    }

    companion object {
        /** The metadata entry of an exported `.tflite` that holds its `model.json` facts. */
        const val FACTS_METADATA = "model.json"

        fun parse(text: String): ModelFacts {
            val root = try {
                Json.parse(text)
            } catch (error: JsonException) {
                throw ModelFormatException("model.json is not valid JSON: ${error.message}")
            }
            val fields = root as? Map<*, *> ?: throw ModelFormatException("model.json must hold an object")
            fun number(name: String): Double {
                val value = fields[name] as? Double
                    ?: throw ModelFormatException("model.json needs a number '$name'")
                if (!(value > 0.0) || value.isInfinite()) {
                    throw ModelFormatException("model.json '$name' must be positive, got $value")
                }
                return value
            }
            fun integer(name: String): Int {
                val value = number(name)
                if (value != Math.floor(value) || value > Int.MAX_VALUE) {
                    throw ModelFormatException("model.json '$name' must be a whole number, got $value")
                }
                return value.toInt()
            }
            val rawLabels = fields["labels"] as? List<*>
                ?: throw ModelFormatException("model.json needs a list 'labels'")
            val labels = rawLabels.map {
                it as? String ?: throw ModelFormatException("model.json 'labels' must hold strings, got $it")
            }
            Labels.check(labels, "model.json 'labels'")
            val noOneOutput = if (!fields.containsKey("no_one_output")) false else {
                fields["no_one_output"] as? Boolean
                    ?: throw ModelFormatException(
                        "model.json 'no_one_output' must be true or false, got ${fields["no_one_output"]}"
                    )
            }
            return ModelFacts(
                integer("sample_rate"), integer("clip_samples"), number("pcm16_scale").toFloat(), labels, noOneOutput
            )
        }
    }
}

/** Reading `labels.txt`: one speaker name a line, in model output order. */
object Labels {
    fun parse(text: String): List<String> {
        val labels = text.lines().map { it.trim() }.filter { it.isNotEmpty() }
        check(labels, "labels.txt")
        return labels
    }

    internal fun check(labels: List<String>, source: String) {
        if (labels.isEmpty()) throw ModelFormatException("$source holds no labels")
        val repeated = labels.groupBy { it }.filter { it.value.size > 1 }.keys
        if (repeated.isNotEmpty()) throw ModelFormatException("$source repeats labels $repeated")
    }
}
