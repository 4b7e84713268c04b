package org.spela.speaker.core

/**
 * Decides when to classify: once a full clip has been heard, then every `hopSamples` new samples.
 * If a large chunk covers several hops only one classification is due (the latest audio wins).
 */
class WindowScheduler(val clipSamples: Int, val hopSamples: Int) {
    private var total = 0L
    private var sinceLast = 0L

    init {
        require(clipSamples > 0) { "clipSamples must be positive, got $clipSamples" }
        require(hopSamples > 0) { "hopSamples must be positive, got $hopSamples" }
    }

    /** Records `count` new samples; true when a classification is due now. */
    fun onSamples(count: Int): Boolean {
        require(count >= 0) { "count must be >= 0, got $count" }
        total += count
        sinceLast += count
        if (total < clipSamples || sinceLast < hopSamples) return false
        sinceLast %= hopSamples
        return true
    }

    /** Starts over, as after the microphone restarts. */
    fun reset() {
        total = 0
        sinceLast = 0
    }

    companion object {
        /** A scheduler classifying every `hopMillis` ms of audio at `sampleRate` Hz. */
        fun everyMillis(sampleRate: Int, clipSamples: Int, hopMillis: Int): WindowScheduler {
            require(sampleRate > 0 && hopMillis > 0) { "sampleRate and hopMillis must be positive" }
            return WindowScheduler(clipSamples, (sampleRate.toLong() * hopMillis / 1000).toInt())
        }
    }
}
