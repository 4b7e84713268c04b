package org.spela.speaker.demo

import android.Manifest
import android.content.pm.PackageManager
import android.os.Bundle
import android.widget.LinearLayout
import android.widget.ProgressBar
import android.widget.TextView
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.core.content.ContextCompat
import org.spela.speaker.core.Decision

/** Shows who is speaking: the current decision and a confidence bar per speaker. */
class MainActivity : AppCompatActivity() {
    private lateinit var speaker: TextView
    private lateinit var status: TextView
    private val bars = ArrayList<ProgressBar>()
    private var model: ModelAssets? = null
    private var classifier: SpeakerClassifier? = null
    private var listener: SpeakerListener? = null

    private val permission = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) startListening() else showProblem(getString(R.string.permission_denied))
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        speaker = findViewById(R.id.speaker)
        status = findViewById(R.id.status)
        try {
            val loaded = ModelAssets.load(assets)
            model = loaded
            classifier = SpeakerClassifier(assets, loaded)
            buildBars(loaded.facts.labels)
        } catch (error: Exception) {
            showProblem(getString(R.string.model_missing, error.message))
        }
    }

    override fun onStart() {
        super.onStart()
        if (model == null) return
        val granted = ContextCompat.checkSelfPermission(this, Manifest.permission.RECORD_AUDIO) ==
            PackageManager.PERMISSION_GRANTED
        if (granted) startListening() else permission.launch(Manifest.permission.RECORD_AUDIO)
    }

    override fun onStop() {
        listener?.stop()
        super.onStop()
    }

    override fun onDestroy() {
        listener?.close()
        classifier?.close()
        super.onDestroy()
    }

    private fun startListening() {
        val loaded = model ?: return
        val engine = classifier ?: return
        val active = listener ?: SpeakerListener(
            loaded, engine,
            onUpdate = { update -> runOnUiThread { render(loaded, update) } },
            onError = { message -> runOnUiThread { showProblem(getString(R.string.microphone_failed, message)) } },
        ).also { listener = it }
        speaker.text = getString(R.string.listening)
        active.start()
    }

    private fun buildBars(labels: List<String>) {
        val container = findViewById<LinearLayout>(R.id.bars)
        for (label in labels) {
            container.addView(TextView(this).apply { text = label })
            val bar = ProgressBar(this, null, android.R.attr.progressBarStyleHorizontal).apply { max = 100 }
            container.addView(bar)
            bars.add(bar)
        }
    }

    private fun render(loaded: ModelAssets, update: ListenerUpdate) {
        val labels = loaded.facts.labels
        val decision = update.decision
        val confidence: Float = when (decision) {
            is Decision.Speaker -> decision.confidence
            is Decision.Unsure -> decision.confidence
            is Decision.NoOne -> decision.confidence
            Decision.NoSpeech -> 0f
        }
        speaker.text = when (decision) {
            is Decision.Speaker -> getString(R.string.speaker, labels[decision.index])
            is Decision.Unsure -> getString(R.string.unsure, labels[decision.best], (100 * decision.confidence).toInt())
            is Decision.NoOne -> getString(R.string.no_one, (100 * decision.confidence).toInt())
            Decision.NoSpeech -> getString(R.string.no_speech)
        }
        status.text = getString(R.string.confidence, (100 * confidence).toInt(), update.levelDbfs, update.inferenceMillis.toInt())
        for ((index, bar) in bars.withIndex()) {
            bar.progress = if (decision is Decision.NoSpeech) 0 else (100 * update.smoothed[index]).toInt()
        }
    }

    private fun showProblem(message: String) {
        speaker.text = "—"
        status.text = message
    }
}
