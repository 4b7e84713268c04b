package org.spela.speaker.core

/** What the screen shows for the latest audio. */
sealed class Decision {
    /** The signal is too quiet to judge. */
    object NoSpeech : Decision()

    /** Someone speaks but no speaker is probable enough; `best` is the leading index. */
    class Unsure(val best: Int, val confidence: Float) : Decision()

    /** Speaker `index` with smoothed probability `confidence`. */
    class Speaker(val index: Int, val confidence: Float) : Decision()

    /**
     * Sound, but no one speaks: for a model with a no-one output, what the smoothed speakers'
     * probabilities leave of 1 (`confidence`) reaches the threshold and exceeds every speaker's.
     */
    class NoOne(val confidence: Float) : Decision()
}

/**
 * Exponential moving average of class probabilities over successive windows:
 * `smoothed = (1 - weight) * smoothed + weight * latest`, starting from the first window.
 */
class PosteriorSmoother(val classes: Int, val weight: Float = 0.5f) {
    private val state = FloatArray(classes)
    private var empty = true

    init {
        require(classes > 0) { "classes must be positive, got $classes" }
        require(weight > 0f && weight <= 1f) { "weight must be in (0, 1], got $weight" }
    }

    /** Folds in the latest probabilities and returns a copy of the smoothed ones. */
    fun update(probabilities: FloatArray): FloatArray {
        require(probabilities.size == classes) {
            "expected $classes probabilities, got ${probabilities.size}"
        }
        for (i in 0 until classes) {
            state[i] = if (empty) probabilities[i] else (1f - weight) * state[i] + weight * probabilities[i]
        }
        empty = false
        return state.copyOf()
    }

    /** Forgets the history (after silence, the next speaker starts fresh). */
    fun reset() {
        empty = true
        state.fill(0f)
    }
}

/**
 * The decision rule: quieter than `silenceDbfs` is [Decision.NoSpeech]; otherwise, where `noOneOutput`
 * (the model's `model.json` says it has a no-one output), [Decision.NoOne] if what the speakers'
 * smoothed probabilities leave of 1 reaches `threshold` and exceeds the top speaker's; otherwise the
 * most probable speaker if its smoothed probability reaches `threshold`, else [Decision.Unsure].
 */
class DecisionRule(val threshold: Float = 0.6f, val silenceDbfs: Float = -50f, val noOneOutput: Boolean = false) {
    init {
        require(threshold > 0f && threshold <= 1f) { "threshold must be in (0, 1], got $threshold" }
    }

    fun decide(levelDbfs: Float, smoothed: FloatArray): Decision {
        require(smoothed.isNotEmpty()) { "no probabilities" }
        if (levelDbfs.isNaN() || levelDbfs < silenceDbfs) return Decision.NoSpeech
        var best = 0
        for (i in 1 until smoothed.size) if (smoothed[i] > smoothed[best]) best = i
        val confidence = smoothed[best]
        if (noOneOutput) {
            var sum = 0.0
            for (p in smoothed) sum += p
            val noOne = maxOf(0.0, 1.0 - sum).toFloat()
            if (noOne >= threshold && noOne > confidence) return Decision.NoOne(noOne)
        }
        return if (confidence >= threshold) Decision.Speaker(best, confidence) else Decision.Unsure(best, confidence)
    }
}
