"""Hypothesis strategies for STFT configurations and signals."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

WINDOWS = ("hann", "hamming", "blackman")


@st.composite
def stft_configs(draw, max_n_fft: int = 1024):
    """Keyword arguments for spela's STFT layers, plus the signal shape to use."""
    n_fft = draw(
        st.one_of(
            st.sampled_from([16, 64, 256, 512, 1024]).filter(lambda n: n <= max_n_fft),
            st.integers(min_value=5, max_value=max_n_fft),
        )
    )
    hop_length = draw(st.integers(min_value=max(1, n_fft // 8), max_value=n_fft))
    win_length = draw(st.integers(min_value=min(n_fft, 3), max_value=n_fft))
    center = draw(st.booleans())
    pad_mode = draw(st.sampled_from(["constant", "reflect"]))
    min_length = n_fft if not center else (n_fft // 2 + 1 if pad_mode == "reflect" else 1)
    samples = draw(st.integers(min_value=min_length, max_value=min_length + 3 * n_fft))
    return {
        "n_fft": n_fft,
        "hop_length": hop_length,
        "win_length": win_length,
        "window": draw(st.sampled_from(WINDOWS)),
        "center": center,
        "pad_mode": pad_mode,
        "backend": draw(st.sampled_from(["rfft", "matmul", "factored"])),
    }, {
        "batch": draw(st.integers(min_value=1, max_value=3)),
        "samples": samples,
        "channels": draw(st.sampled_from([None, 1, 2, 3])),
    }


def signals(shape: dict, seed: int) -> np.ndarray:
    """A float32 test signal of the drawn shape: noise plus a tone, scaled to about [-1, 1]."""
    rng = np.random.default_rng(seed)
    dims = [shape["batch"], shape["samples"]]
    if shape["channels"] is not None:
        dims.append(shape["channels"])
    t = np.arange(shape["samples"])
    tone = np.sin(2 * np.pi * 0.05 * t)
    tone = tone[:, None] if shape["channels"] is not None else tone
    return (0.3 * rng.standard_normal(dims) + 0.5 * tone).astype(np.float32)
