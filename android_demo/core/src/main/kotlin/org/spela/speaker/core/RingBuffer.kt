package org.spela.speaker.core

/**
 * Fixed-capacity ring of the most recent float samples (e.g. the last second of microphone audio).
 * Not thread-safe: the app guards it with a lock.
 */
class RingBuffer(val capacity: Int) {
    private val data = FloatArray(capacity)
    private var next = 0
    private var written = 0L

    init {
        require(capacity > 0) { "capacity must be positive, got $capacity" }
    }

    /** Samples written so far, capped at the capacity. */
    val size: Int get() = if (written >= capacity) capacity else written.toInt()

    /** Appends `count` samples of `source` starting at `offset`; older samples fall out. */
    fun write(source: FloatArray, offset: Int = 0, count: Int = source.size - offset) {
        require(offset >= 0 && count >= 0 && offset + count <= source.size) {
            "offset=$offset count=$count outside a source of ${source.size} samples"
        }
        val start = if (count > capacity) offset + count - capacity else offset
        for (i in start until offset + count) {
            data[next] = source[i]
            next = (next + 1) % capacity
        }
        written += count
    }

    /** Copies the latest `target.size` samples, oldest first, zero-filled where nothing was written. */
    fun latest(target: FloatArray) {
        require(target.size <= capacity) { "asked for ${target.size} samples of a ring of $capacity" }
        val available = size
        val missing = if (target.size > available) target.size - available else 0
        for (i in 0 until missing) target[i] = 0f
        var index = ((next - (target.size - missing)) % capacity + capacity) % capacity
        for (i in missing until target.size) {
            target[i] = data[index]
            index = (index + 1) % capacity
        }
    }

    /** Forgets every sample. */
    fun clear() {
        next = 0
        written = 0
    }
}
