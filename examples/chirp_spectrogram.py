"""Log spectrogram of a generated chirp, computed by a TFLite-converted spela model.

Builds ``Input(16000) -> Spectrogram -> dB`` in Keras, converts it with
``spela.export.to_tflite`` (builtin ops only), runs both on a 1-s 16 kHz
chirp, prints the parity error and the op list, and saves a plot.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

import spela
from spela.export import run_tflite, tflite_op_names, to_tflite

SAMPLE_RATE = 16000


def chirp(seconds: float = 1.0, f_start: float = 100.0, f_end: float = 7000.0) -> np.ndarray:
    """A linear chirp from ``f_start`` to ``f_end`` Hz, 16 kHz, float32 in [-0.8, 0.8]."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * (f_start * t + (f_end - f_start) * t**2 / (2 * seconds))
    return (0.8 * np.sin(phase)).astype(np.float32)


def build_model(n_fft: int, hop_length: int, backend: str) -> keras.Model:
    """Raw audio ``(batch, 16000)`` to a power spectrogram in dB ``(batch, frames, bins)``."""
    inputs = keras.Input((SAMPLE_RATE,), name="audio")
    power = spela.Spectrogram(n_fft, hop_length=hop_length, backend=backend)(inputs)
    decibels = keras.layers.Lambda(
        lambda p: 10.0 * keras.ops.log(keras.ops.maximum(p, 1e-10)) / np.log(10.0), name="db"
    )(power)
    return keras.Model(inputs, decibels)


def save_plot(keras_db: np.ndarray, tflite_db: np.ndarray, hop_length: int, path: Path) -> None:
    """Side-by-side spectrograms (Keras, TFLite), written atomically to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    extent = [0, keras_db.shape[0] * hop_length / SAMPLE_RATE, 0, SAMPLE_RATE / 2000]
    for axis, values, title in ((axes[0], keras_db, "Keras"), (axes[1], tflite_db, "TFLite")):
        image = axis.imshow(
            values.T,
            origin="lower",
            aspect="auto",
            extent=extent,
            vmin=values.max() - 80,
            vmax=values.max(),
            cmap="magma",
        )
        axis.set(title=f"{title}: chirp power spectrogram", xlabel="time (s)")
    axes[0].set_ylabel("frequency (kHz)")
    fig.colorbar(image, ax=axes, label="dB")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".png", delete=False) as tmp:
        fig.savefig(tmp.name, dpi=100)
    os.replace(tmp.name, path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_output", help="folder for the plot and model")
    parser.add_argument("--n-fft", type=int, default=512, help="FFT length in samples")
    parser.add_argument("--hop-length", type=int, default=160, help="hop in samples")
    parser.add_argument(
        "--backend", choices=list(spela.ops.BACKENDS), default="auto", help="STFT implementation"
    )
    args = parser.parse_args()

    model = build_model(args.n_fft, args.hop_length, args.backend)
    audio = chirp()[None]
    keras_db = np.asarray(model(audio))[0]
    model_bytes = to_tflite(model)
    tflite_db = run_tflite(model_bytes, audio)[0]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "chirp_spectrogram.tflite").write_bytes(model_bytes)
    save_plot(keras_db, tflite_db, args.hop_length, out / "chirp_spectrogram.png")
    # Bins more than 80 dB below the peak are float32 rounding noise in both models.
    visible = keras_db > keras_db.max() - 80.0
    error = np.max(np.abs(keras_db - tflite_db)[visible])
    print(
        f"backend: {model.layers[1].backend}; TFLite ops: {' '.join(tflite_op_names(model_bytes))}"
    )
    print(
        f"spectrogram {keras_db.shape} (frames, bins); max |Keras - TFLite| = {error:.2e} dB "
        f"(over the {visible.mean():.0%} of bins within 80 dB of the peak)"
    )
    print(
        f"wrote {out / 'chirp_spectrogram.png'} and {out / 'chirp_spectrogram.tflite'} "
        f"({len(model_bytes) / 1024:.1f} KiB)"
    )


if __name__ == "__main__":
    main()
