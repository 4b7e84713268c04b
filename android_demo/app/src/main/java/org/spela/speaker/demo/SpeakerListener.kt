package org.spela.speaker.demo

import android.annotation.SuppressLint
import android.media.AudioFormat
import android.media.AudioRecord
import android.media.MediaRecorder
import android.os.SystemClock
import org.spela.speaker.core.Decision
import org.spela.speaker.core.DecisionRule
import org.spela.speaker.core.Pcm16
import org.spela.speaker.core.PosteriorSmoother
import org.spela.speaker.core.RingBuffer
import org.spela.speaker.core.WindowScheduler
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicBoolean

/** One classification for the screen. */
class ListenerUpdate(
    val decision: Decision,
    val smoothed: FloatArray,
    val levelDbfs: Float,
    val inferenceMillis: Long,
)

/**
 * Records the microphone at the model's rate (mono PCM16) on a background thread into a
 * one-clip ring buffer, and every [HOP_MILLIS] classifies the latest clip on a second thread.
 * All logic beyond the platform calls lives in the pure-Kotlin core.
 */
class SpeakerListener(
    private val model: ModelAssets,
    private val classifier: SpeakerClassifier,
    private val onUpdate: (ListenerUpdate) -> Unit,
    private val onError: (String) -> Unit,
) {
    private val facts = model.facts
    private val ring = RingBuffer(facts.clipSamples)
    private val scheduler = WindowScheduler.everyMillis(facts.sampleRate, facts.clipSamples, HOP_MILLIS)
    private val smoother = PosteriorSmoother(facts.labels.size, weight = 0.5f)
    private val rule = DecisionRule(threshold = 0.6f, silenceDbfs = -50f, noOneOutput = facts.noOneOutput)
    private val inference = Executors.newSingleThreadExecutor()
    private val running = AtomicBoolean(false)
    private val busy = AtomicBoolean(false)
    private var recorderThread: Thread? = null

    @SuppressLint("MissingPermission") // MainActivity starts the listener only once granted
    fun start() {
        if (!running.compareAndSet(false, true)) return
        recorderThread = Thread({ record() }, "speaker-microphone").also { it.start() }
    }

    fun stop() {
        running.set(false)
        recorderThread?.join(500)
        recorderThread = null
    }

    fun close() {
        stop()
        inference.shutdown()
    }

    @SuppressLint("MissingPermission")
    private fun record() {
        val minimum = AudioRecord.getMinBufferSize(
            facts.sampleRate, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT,
        )
        if (minimum <= 0) {
            onError("the device cannot record ${facts.sampleRate} Hz mono PCM16")
            running.set(false)
            return
        }
        val chunk = ShortArray(facts.sampleRate / 10) // 100 ms reads
        val floats = FloatArray(chunk.size)
        val recorder = AudioRecord(
            MediaRecorder.AudioSource.MIC, facts.sampleRate, AudioFormat.CHANNEL_IN_MONO,
            AudioFormat.ENCODING_PCM_16BIT, maxOf(minimum, chunk.size * 2 * 4),
        )
        if (recorder.state != AudioRecord.STATE_INITIALIZED) {
            recorder.release()
            onError("AudioRecord did not initialise")
            running.set(false)
            return
        }
        synchronized(ring) { ring.clear() }
        scheduler.reset()
        smoother.reset()
        recorder.startRecording()
        try {
            while (running.get()) {
                val read = recorder.read(chunk, 0, chunk.size)
                if (read < 0) {
                    onError("AudioRecord.read failed with code $read")
                    break
                }
                Pcm16.toFloats(chunk, 0, read, facts.pcm16Scale, floats)
                synchronized(ring) { ring.write(floats, 0, read) }
                if (scheduler.onSamples(read) && busy.compareAndSet(false, true)) {
                    val window = FloatArray(facts.clipSamples)
                    synchronized(ring) { ring.latest(window) }
                    inference.execute { classify(window) }
                }
            }
        } finally {
            recorder.stop()
            recorder.release()
        }
    }

    private fun classify(window: FloatArray) {
        try {
            val started = SystemClock.elapsedRealtime()
            val probabilities = classifier.classify(window)
            val elapsed = SystemClock.elapsedRealtime() - started
            val recent = window.copyOfRange(window.size - scheduler.hopSamples, window.size)
            val level = Pcm16.rmsDbfs(recent)
            val smoothed = smoother.update(probabilities)
            val decision = rule.decide(level, smoothed)
            if (decision is Decision.NoSpeech) smoother.reset()
            onUpdate(ListenerUpdate(decision, smoothed, level, elapsed))
        } catch (error: RuntimeException) {
            onError("inference failed: ${error.message}")
        } finally {
            busy.set(false)
        }
    }

    companion object {
        const val HOP_MILLIS = 250
    }
}
