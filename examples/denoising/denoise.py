"""Speech denoising on a phone: STFT -> learned mask -> InverseSTFT, exported to TFLite.

Trains a mask estimator of a few thousand parameters on synthetic voices
(``speaker_recognition.synthetic``) mixed with white, pink and hum-like noise
at -5 to 10 dB SNR, exports the whole model (noisy audio in, clean audio out)
to TFLite with builtin ops only, and measures on held-out clips (other
speech, other noise) how much it raises the SNR, on the TFLite model.

Usage: ``python examples/denoising/denoise.py [--out denoise_output] [--epochs 12]``
(``make denoise``).
Writes ``denoiser.tflite``, ``report.json`` and ``denoising.png`` (spectrograms
of one held-out clip: clean, noisy, denoised).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
N_FFT, HOP = 512, 128
SNR_RANGE_DB = (-5.0, 10.0)


def _noise(rng: np.random.Generator, samples: int) -> np.ndarray:
    """White, pink or brown noise, or mains hum with harmonics over pink noise."""
    from speaker_recognition.synthetic import colored_noise

    kind = rng.integers(4)
    if kind < 3:
        noise = colored_noise(rng, samples, SAMPLE_RATE, float(kind))
    else:
        t = np.arange(samples) / SAMPLE_RATE
        base = rng.choice([50.0, 60.0])
        hum = sum(np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 9))
        noise = hum / np.std(hum) + 0.3 * colored_noise(rng, samples, SAMPLE_RATE, 1.0)
    return noise / (np.std(noise) + 1e-12)


def make_pairs(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` 1-s (noisy, clean) pairs, float32, from voices and noise drawn with ``seed``."""
    from speaker_recognition import synthetic

    rng = np.random.default_rng(seed)
    clean = np.empty((count, SAMPLE_RATE), np.float32)
    noisy = np.empty_like(clean)
    for i in range(count):
        voice = synthetic.VOICES[rng.integers(len(synthetic.VOICES))]
        speech = synthetic.synthesize_speech(voice, 1.0, rng)
        speech *= 10 ** (rng.uniform(-26.0, -14.0) / 20) / (np.sqrt(np.mean(speech**2)) + 1e-12)
        snr = rng.uniform(*SNR_RANGE_DB)
        noise = _noise(rng, SAMPLE_RATE) * np.sqrt(np.mean(speech**2)) / 10 ** (snr / 20)
        clean[i] = speech
        noisy[i] = np.clip(speech + noise, -1.0, 1.0)
    return noisy, clean


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """``10 log10(|reference|^2 / |reference - estimate|^2)`` per clip, in dB."""
    signal = np.sum(np.square(reference, dtype=np.float64), axis=-1)
    error = np.sum(np.square(reference - estimate, dtype=np.float64), axis=-1) + 1e-20
    return 10 * np.log10(signal / error)


def build_denoiser():
    """Noisy audio ``(batch, 16000)`` to denoised audio: a mask on the STFT, then InverseSTFT."""
    import keras

    import spela

    audio = keras.Input((SAMPLE_RATE,), name="noisy")
    spectrum = spela.STFT(N_FFT, hop_length=HOP, name="stft")(audio)  # (batch, 126, 257, 2)
    power = keras.layers.Lambda(lambda s: keras.ops.sum(keras.ops.square(s), axis=-1))(spectrum)
    log_power = keras.layers.Lambda(lambda p: keras.ops.log(p + 1e-8))(power)
    features = keras.layers.LayerNormalization(axis=-1, center=False, scale=False)(log_power)
    hidden = keras.layers.Conv1D(8, 3, padding="same", activation="relu")(features)
    mask = keras.layers.Dense(N_FFT // 2 + 1, activation="sigmoid", name="mask")(hidden)
    masked = keras.layers.Lambda(lambda pair: pair[0] * pair[1][..., None])([spectrum, mask])
    clean = spela.InverseSTFT(N_FFT, hop_length=HOP, length=SAMPLE_RATE, name="istft")(masked)
    return keras.Model(audio, clean, name="denoiser")


def negative_snr(clean, estimate):
    """Training loss: minus the SNR of the estimate, in dB (scale-aware, per clip)."""
    import keras

    signal = keras.ops.sum(keras.ops.square(clean), axis=-1)
    error = keras.ops.sum(keras.ops.square(clean - estimate), axis=-1) + 1e-9
    return -10.0 * keras.ops.log(signal / error + 1e-9) / np.log(10.0)


def _plot(path: Path, clean, noisy, denoised) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 3.4))
    axes = figure.subplots(1, 3, sharey=True)
    for axis, (title, signal) in zip(
        axes, (("clean", clean), ("noisy", noisy), ("denoised (TFLite)", denoised)), strict=True
    ):
        axis.specgram(signal, NFFT=N_FFT, Fs=SAMPLE_RATE, noverlap=N_FFT - HOP, cmap="magma")
        axis.set(title=f"{title}: {snr_db(clean, signal):.1f} dB SNR", xlabel="time (s)")
    axes[0].set_ylabel("frequency (Hz)")
    figure.tight_layout()
    figure.savefig(path, dpi=80)


def run(out: Path, epochs: int, train_clips: int, test_clips: int, seed: int) -> dict:
    """Train, export and measure; returns the report (also written to ``report.json``)."""
    from spela_tflite.quiet import import_tensorflow_quietly, tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    from speaker_recognition.convert import latency_ms
    from speaker_recognition.files import (
        make_folder,
        write_bytes_atomically,
        write_json_atomically,
    )
    from spela.export import run_tflite, tflite_op_names, to_tflite

    started = time.perf_counter()
    make_folder(out)
    keras.utils.set_random_seed(seed)
    print(f"synthesizing {train_clips} training and {test_clips} held-out pairs ...", flush=True)
    train_noisy, train_clean = make_pairs(train_clips, seed)
    test_noisy, test_clean = make_pairs(test_clips, seed + 1_000_003)

    model = build_denoiser()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=negative_snr)
    print(f"denoiser: {model.count_params():,} parameters", flush=True)
    model.fit(
        train_noisy,
        train_clean,
        batch_size=32,
        epochs=epochs,
        validation_split=0.1,
        verbose=2,
    )
    with tensorflow_quietly():
        flatbuffer = to_tflite(model)
    write_bytes_atomically(out / "denoiser.tflite", flatbuffer)
    denoised = run_tflite(flatbuffer, test_noisy)
    keras_denoised = np.asarray(model.predict(test_noisy, verbose=0))
    before, after = snr_db(test_clean, test_noisy), snr_db(test_clean, denoised)
    latency = latency_ms(flatbuffer)
    report = {
        "parameters": int(model.count_params()),
        "tflite_bytes": len(flatbuffer),
        "tflite_ops": sorted(set(tflite_op_names(flatbuffer))),
        "latency_ms_per_second_of_audio": latency,
        "test_clips": test_clips,
        "snr_noisy_db": float(before.mean()),
        "snr_denoised_db": float(after.mean()),
        "snr_improvement_db": float((after - before).mean()),
        "tflite_vs_keras_max_abs": float(np.abs(denoised - keras_denoised).max()),
        "seconds": time.perf_counter() - started,
    }
    write_json_atomically(out / "report.json", report)
    _plot(out / "denoising.png", test_clean[0], test_noisy[0], denoised[0])
    print(
        f"held-out clips: SNR {report['snr_noisy_db']:.1f} dB noisy -> "
        f"{report['snr_denoised_db']:.1f} dB denoised by the TFLite model "
        f"(+{report['snr_improvement_db']:.1f} dB)\n"
        f"denoiser.tflite: {len(flatbuffer) / 1024:.1f} KB, {latency:.2f} ms per second of "
        f"audio (1 thread), ops: {' '.join(report['tflite_ops'])}\n"
        f"TFLite vs Keras: {report['tflite_vs_keras_max_abs']:.2e} max abs; artifacts in {out} "
        f"({report['seconds']:.0f} s)"
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python examples/denoising/denoise.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", default="denoise_output", help="output folder")
    parser.add_argument("--epochs", type=int, default=12, help="training epochs (default 12)")
    parser.add_argument("--train-clips", type=int, default=1500, help="training pairs")
    parser.add_argument("--test-clips", type=int, default=100, help="held-out pairs")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    for name in ("epochs", "train_clips", "test_clips"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    try:
        run(Path(args.out), args.epochs, args.train_clips, args.test_clips, args.seed)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
