"""Throughput and memory of log-mel front ends: spela against its peers, in one run.

Usage: ``python benchmarks/run.py [--out docs] [--quick]`` (``make bench``).

Each contender runs in its own process (so peak memory is its own), in rounds
over all contenders of which the fastest counts (``--rounds``): TensorFlow
graph mode on batches of 32 clips, TFLite on one thread one clip at a time, and
librosa one clip at a time. The table gives clips per second, the ratio to the
best peer of the same kind, and peak resident memory; it is printed, written to
``OUT/benchmarks.md`` and plotted to ``OUT/img/benchmarks.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

BATCH = 32
CONTENDERS = {
    # name: (kind, family)
    "spela, auto (factored)": ("graph", "spela"),
    "spela, rfft": ("graph", "spela"),
    "spela, matmul": ("graph", "spela"),
    "keras.layers.MelSpectrogram": ("graph", "peer"),
    "tf.signal pipeline": ("graph", "peer"),
    "spela TFLite, auto (factored)": ("tflite", "spela"),
    "spela TFLite, rfft": ("tflite", "spela"),
    "spela TFLite, matmul": ("tflite", "spela"),
    "spela TFLite, matmul int8": ("tflite", "spela"),
    "keras.layers.MelSpectrogram TFLite": ("tflite", "peer"),
    "tf.signal pipeline TFLite": ("tflite", "peer"),
    "librosa (numpy, per clip)": ("numpy", "peer"),
}
# The rows the targets are checked on: spela with its default backend="auto".
SPELA_GRAPH = "spela, auto (factored)"
SPELA_TFLITE = "spela TFLite, auto (factored)"
KIND_TITLES = {
    "graph": "TensorFlow graph mode, batches of 32",
    "tflite": "TFLite, 1 thread, one clip per call",
    "numpy": "numpy, one clip per call",
}


def _clips(count: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    voice = 0.3 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    return (voice + 0.05 * rng.standard_normal((count, 16000))).astype(np.float32)


def _model(name: str):
    import frontends

    if name.startswith("spela"):
        backend = next(b for b in ("auto", "factored", "matmul", "rfft") if b in name)
        return frontends.spela_model(backend)
    if name.startswith("keras"):
        return frontends.keras_model()
    return frontends.tf_signal_model()


def _timed(step, seconds: float) -> float:
    """Calls of ``step`` per second over at least ``seconds`` (after a warm-up call)."""
    step()
    calls, started = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return calls / elapsed


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(name: str, seconds: float) -> dict:
    """One contender's clips per second and memory, in this process."""
    kind, _ = CONTENDERS[name]
    clips = _clips(BATCH)
    if kind == "graph":
        import tensorflow as tf

        model = _model(name)
        run = tf.function(lambda x: model(x, training=False))
        batch = tf.constant(clips)
        baseline = _peak_rss_mb()
        rate = _timed(lambda: run(batch).numpy(), seconds) * BATCH
    elif kind == "tflite":
        from spela.export import load_interpreter, to_tflite

        model = _model(name)
        if "int8" in name:
            flatbuffer = to_tflite(model, quantize="int8", representative_data=_clips(64))
        else:
            flatbuffer = to_tflite(model)
        interpreter = load_interpreter(flatbuffer, num_threads=1)
        source = interpreter.get_input_details()[0]["index"]
        interpreter.set_tensor(source, clips[:1])
        baseline = _peak_rss_mb()
        rate = _timed(interpreter.invoke, seconds)
    else:
        import frontends

        clip = clips[0]
        frontends.librosa_features(clip)
        baseline = _peak_rss_mb()
        rate = _timed(lambda: frontends.librosa_features(clip), seconds)
    return {
        "name": name,
        "clips_per_second": rate,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_growth_mb": _peak_rss_mb() - baseline,
    }


def speaker_model_figures(seconds: float) -> list[dict]:
    """TFLite latency and size of the speaker example's model (float32 and int8)."""
    from speaker_recognition.model import build_model, frontend_layer_names
    from spela.export import load_interpreter, to_tflite

    model = build_model(5, "small_cnn")
    clips = _clips(64)
    rows = []
    for label, kwargs in (
        ("float32", {}),
        (
            "int8 (float front end)",
            {
                "quantize": "int8",
                "representative_data": clips,
                "float_layers": frontend_layer_names(model),
            },
        ),
    ):
        flatbuffer = to_tflite(model, **kwargs)
        interpreter = load_interpreter(flatbuffer, num_threads=1)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], clips[:1])
        rate = _timed(interpreter.invoke, seconds)
        rows.append(
            {"model": label, "latency_ms": 1000.0 / rate, "kilobytes": len(flatbuffer) / 1024}
        )
    return rows


INVERSE_N_FFT, INVERSE_HOP = 512, 128


def inverse_stft_figures(seconds: float) -> list[dict]:
    """Inverse STFTs of 1-s clips (n_fft 512, hop 128): spela against its peers.

    TensorFlow graph mode on batches of 32 spectra, TFLite on one thread one
    spectrum at a time, librosa one at a time. Peers that cannot be converted
    to builtin TFLite ops are reported as such.
    """
    import keras
    import librosa
    import tensorflow as tf

    import spela
    from spela.export import ExportError, load_interpreter, to_tflite

    clips = _clips(BATCH)
    spectra = librosa.stft(clips, n_fft=INVERSE_N_FFT, hop_length=INVERSE_HOP)
    stacked = np.stack([spectra.real, spectra.imag], -1).transpose(0, 2, 1, 3).astype(np.float32)
    frames = stacked.shape[1]

    def spela_model(backend):
        spectrum = keras.Input((frames, INVERSE_N_FFT // 2 + 1, 2))
        layer = spela.InverseSTFT(
            INVERSE_N_FFT, hop_length=INVERSE_HOP, length=16000, backend=backend
        )
        return keras.Model(spectrum, layer(spectrum))

    def tf_signal(batch):
        complex_spectra = tf.complex(batch[..., 0], batch[..., 1])
        window = tf.signal.inverse_stft_window_fn(INVERSE_HOP)
        return tf.signal.inverse_stft(
            complex_spectra, INVERSE_N_FFT, INVERSE_HOP, INVERSE_N_FFT, window_fn=window
        )

    def keras_istft(batch):
        return keras.ops.istft(
            (batch[..., 0], batch[..., 1]),
            INVERSE_N_FFT,
            INVERSE_HOP,
            INVERSE_N_FFT,
            length=16000,
        )

    rows = []
    batch = tf.constant(stacked)
    graph_contenders = {
        "spela InverseSTFT, auto (factored)": spela_model("auto"),
        "spela InverseSTFT, matmul": spela_model("matmul"),
        "spela InverseSTFT, rfft": spela_model("rfft"),
        "tf.signal.inverse_stft": tf_signal,
        "keras.ops.istft": keras_istft,
    }
    for name, function in graph_contenders.items():
        run = tf.function(function)
        rate = _timed(lambda run=run: run(batch).numpy(), seconds) * BATCH
        rows.append({"name": name, "kind": "graph", "clips_per_second": rate})
    for name, function in graph_contenders.items():
        if "rfft" in name:
            continue
        label = name.replace("spela InverseSTFT", "spela InverseSTFT TFLite")
        model = (
            function
            if isinstance(function, keras.Model)
            else keras.Model(
                *(lambda x: (x, keras.layers.Lambda(function)(x)))(keras.Input(stacked.shape[1:]))
            )
        )
        try:
            flatbuffer = to_tflite(model)
        except ExportError:
            rows.append({"name": f"{name} TFLite", "kind": "tflite", "clips_per_second": None})
            continue
        interpreter = load_interpreter(flatbuffer, num_threads=1)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], stacked[:1])
        rate = _timed(interpreter.invoke, seconds)
        rows.append({"name": label, "kind": "tflite", "clips_per_second": rate})
    one = spectra[0]
    rate = _timed(
        lambda: librosa.istft(one, n_fft=INVERSE_N_FFT, hop_length=INVERSE_HOP, length=16000),
        seconds,
    )
    rows.append(
        {"name": "librosa.istft (numpy, per clip)", "kind": "numpy", "clips_per_second": rate}
    )
    return rows


PROFILE_STAGES = (
    "pad + frame + window",
    "two DFT stages (TRANSPOSE, 2 BATCH_MATMUL)",
    "power, bins in order (MUL, ADD, GATHER, TRANSPOSE)",
    "mel matmul",
    "dB",
)


def _stage_model(stages: int):
    """spela's TFLite log-mel pipeline (factored DFT) cut after ``stages`` of PROFILE_STAGES."""
    import frontends
    import keras

    from spela import filters, ops
    from spela.ops import spectral

    n_fft, hop = frontends.N_FFT, frontends.HOP
    window = filters.window("hann", n_fft)
    mel = filters.mel_filterbank(frontends.SAMPLE_RATE, n_fft, frontends.N_MELS).T
    steps = [
        lambda audio: spectral._windowed_frames(ops.pad_center(audio, n_fft), n_fft, hop, window),
        lambda audio: spectral._factored_rows(steps[0](audio))[0],
        lambda audio: ops.power_spectrogram(audio, n_fft, hop, backend="factored"),
        lambda audio: ops.apply_matrix(steps[2](audio), mel.astype(np.float32)),
        lambda audio: ops.power_to_db(steps[3](audio)),
    ]
    audio = keras.Input((frontends.SAMPLE_RATE,))
    return keras.Model(audio, keras.layers.Lambda(steps[stages - 1])(audio))


def profile(seconds: float) -> list[dict]:
    """Time of spela's TFLite front end cut after each stage (one thread, one clip)."""
    from spela.export import load_interpreter, to_tflite

    clip = _clips(1)
    rows, previous = [], 0.0
    for stages, name in enumerate(PROFILE_STAGES, 1):
        interpreter = load_interpreter(to_tflite(_stage_model(stages)), num_threads=1)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], clip)
        micros = 1e6 / _timed(interpreter.invoke, seconds)
        rows.append({"stage": name, "microseconds": micros - previous, "cumulative": micros})
        previous = micros
    return rows


def machine() -> str:
    """A one-line description of this machine and the library versions."""
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}"
    )


def _table(results: list[dict]) -> tuple[str, list[tuple[str, float, float]]]:
    """The page's table, and ``(comparison, ratio, target)`` for spela's default rows."""
    best_peer = {}
    for r in results:
        kind, family = CONTENDERS[r["name"]]
        if family == "peer":
            best_peer[kind] = max(best_peer.get(kind, 0.0), r["clips_per_second"])
    lines = [
        "| front end | kind | clips/s | ratio to best peer of its kind | peak RSS (MB) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in results:
        kind, _ = CONTENDERS[r["name"]]
        ratio = r["clips_per_second"] / best_peer[kind] if kind in best_peer else float("nan")
        lines.append(
            f"| {r['name']} | {KIND_TITLES[kind]} | {r['clips_per_second']:,.0f} | "
            f"{ratio:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    rate = {r["name"]: r["clips_per_second"] for r in results}
    graph, tflite = rate[SPELA_GRAPH], rate[SPELA_TFLITE]
    checks = [
        (
            f"{SPELA_GRAPH} / keras.layers.MelSpectrogram",
            graph / rate["keras.layers.MelSpectrogram"],
            1.3,
        ),
        (
            f"{SPELA_TFLITE} / Keras TFLite",
            tflite / rate["keras.layers.MelSpectrogram TFLite"],
            1.5,
        ),
        (f"{SPELA_TFLITE} / tf.signal TFLite", tflite / rate["tf.signal pipeline TFLite"], 1.2),
        (f"{SPELA_GRAPH} / librosa", graph / rate["librosa (numpy, per clip)"], 8.0),
    ]
    return "\n".join(lines), checks


def _plot(results: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5))
    axis = figure.subplots()
    names = [r["name"] for r in results]
    colours = ["tab:orange" if CONTENDERS[n][1] == "spela" else "tab:gray" for n in names]
    axis.barh(range(len(names)), [r["clips_per_second"] for r in results], color=colours)
    axis.set_yticks(range(len(names)), names)
    axis.invert_yaxis()
    axis.set_xscale("log")
    axis.set(
        xlabel="clips per second (log scale; 1-s clips at 16 kHz)",
        title="log-mel front ends: spela (orange) and peers (grey)",
    )
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".png", delete=False) as tmp:
        figure.savefig(tmp.name, dpi=100)
    os.replace(tmp.name, path)


def _inverse_table(rounds: list[list[dict]]) -> list[str]:
    """Markdown rows of the inverse-STFT figures, the fastest round of each contender."""
    lines = [
        "| inverse STFT | kind | clips/s |",
        "| --- | --- | ---: |",
    ]
    for rows in zip(*rounds, strict=True):
        rates = [r["clips_per_second"] for r in rows if r["clips_per_second"] is not None]
        rate = f"{max(rates):,.0f}" if rates else "no builtin-only TFLite conversion"
        lines.append(f"| {rows[0]['name']} | {KIND_TITLES[rows[0]['kind']]} | {rate} |")
    return lines


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def _run_worker(name: str, seconds: float):
    done = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"benchmark of {name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _best_of(rounds: list[dict]) -> dict:
    """The fastest round of one contender (the least disturbed by other load), largest memory."""
    best = dict(max(rounds, key=lambda r: r["clips_per_second"]))
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rounds)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", help="folder for benchmarks.md and img/")
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="timed seconds per contender (default 3)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds over all contenders, the fastest round counts (default 3)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one round of 0.2 s per contender (smoke test)"
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seconds = 0.2 if args.quick else args.seconds
    if args.worker:
        workers = {
            "speaker": speaker_model_figures,
            "profile": profile,
            "inverse": inverse_stft_figures,
        }
        worker = workers.get(args.worker)
        figures = worker(seconds) if worker else measure(args.worker, seconds)
        print(json.dumps(figures))
        return 0

    rounds = 1 if args.quick else args.rounds
    jobs = [
        *[name for _ in range(rounds) for name in CONTENDERS],
        "speaker",
        "profile",
        *["inverse"] * rounds,
    ]
    figures = {}
    for index, name in enumerate(jobs, 1):
        print(f"[{index}/{len(jobs)}] {name} ...", flush=True)
        figures.setdefault(name, []).append(_run_worker(name, seconds))
    results = [_best_of(figures[name]) for name in CONTENDERS]
    speaker, stages = figures["speaker"][0], figures["profile"][0]
    inverse_lines = _inverse_table(figures["inverse"])
    table, checks = _table(results)
    targets = [
        f"{label}: {value:.2f}x (target {target:g}x: {'met' if value >= target else 'NOT met'})"
        for label, value, target in checks
    ]
    in_short = [
        f"- {label.replace(' / ', ' against ')}: {value:.2f} times the clips per second"
        for label, value, _ in checks
    ]
    speaker_lines = [
        "| speaker model (TFLite, 1 thread) | latency per clip (ms) | size (KB) |",
        "| --- | ---: | ---: |",
    ]
    speaker_lines += [
        f"| {r['model']} | {r['latency_ms']:.2f} | {r['kilobytes']:.0f} |" for r in speaker
    ]
    profile_lines = [
        "| stage of spela's TFLite front end (auto: factored) | µs per clip | cumulative |",
        "| --- | ---: | ---: |",
    ]
    profile_lines += [
        f"| {r['stage']} | {r['microseconds']:.0f} | {r['cumulative']:.0f} |" for r in stages
    ]
    about = machine()
    print(f"\nmachine: {about}\n\n{table}\n\n" + "\n".join(speaker_lines) + "\n")
    print("\n".join(profile_lines) + "\n")
    print("\n".join(inverse_lines) + "\n")
    print("\n".join(targets))
    out = Path(args.out)
    _plot(results, out / "img" / "benchmarks.png")
    _write_atomically(
        out / "benchmarks.md",
        "\n".join(
            [
                "# Benchmarks",
                "",
                "Log-mel front ends on 1-s, 16 kHz clips with the same settings (n_fft 512, "
                "hop 160, 64 mel bands, power in dB clipped at 80 dB), measured in one run of "
                "`make bench`. Each contender runs in its own process, in rounds over all of "
                "them; the fastest round of each counts. Ratios compare with the fastest peer "
                "of the same kind in the same run.",
                "",
                f"Machine: {about}.",
                "",
                table,
                "",
                "![throughput](img/benchmarks.png)",
                "",
                "## In short",
                "",
                'spela\'s default front end (`backend="auto"`), as clips per second of '
                "each peer in the same run:",
                "",
                *in_short,
                "",
                "## Where the time goes",
                "",
                "spela's TFLite front end cut after each stage, one thread, one clip "
                "(differences of cumulative times):",
                "",
                *profile_lines,
                "",
                "Keras's layer and the tf.signal pipeline convert their FFT to TFLite's RFFT2D "
                "kernel, which takes most of their time (about 0.5 ms per clip here); spela "
                'traces `backend="auto"` for TFLite as a factored DFT (n_fft = 32 x 16: a '
                "DFT of length 32 down the columns of each frame, twiddle factors and a DFT of "
                "length 16, as two BATCH_MATMULs with constant matrices), which XNNPACK runs "
                "several times faster. The same graph runs in TensorFlow: `auto` is the "
                "factored DFT on every route, and no graph depends on the machine that traced "
                "it.",
                "",
                "## Speaker example model",
                "",
                *speaker_lines,
                "",
                "## Inverse STFT",
                "",
                "Spectra of 1-s clips back to audio (n_fft 512, hop 128, Hann), the fastest of "
                "the rounds. TFLite has no builtin inverse FFT: peers built on one do not "
                "convert with builtin ops only.",
                "",
                *inverse_lines,
                "",
            ]
        ),
    )
    print(f"wrote {out / 'benchmarks.md'} and {out / 'img' / 'benchmarks.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
