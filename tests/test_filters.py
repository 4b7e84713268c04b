"""spela.filters against formulas written out here, scipy, and librosa."""

from __future__ import annotations

import subprocess
import sys
import warnings

import librosa
import numpy as np
import pytest
import scipy.fft
from hypothesis import example, given
from hypothesis import strategies as st

from spela import filters
from tests import reference


@given(st.floats(0.0, 24000.0), st.booleans())
def test_mel_scale_round_trip_and_formula(frequency, htk):
    mel = filters.hz_to_mel(frequency, htk=htk)
    expected = 2595.0 * np.log10(1 + frequency / 700.0) if htk else reference.slaney_mel(frequency)
    assert mel == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert filters.mel_to_hz(mel, htk=htk) == pytest.approx(frequency, rel=1e-9, abs=1e-9)
    assert mel == pytest.approx(librosa.hz_to_mel(frequency, htk=htk), rel=1e-12, abs=1e-12)


@given(
    st.sampled_from([8000, 16000, 22050, 44100, 48000]),
    st.sampled_from([256, 400, 512, 1024, 2048]),
    st.integers(1, 128),
    st.floats(0.0, 0.4),
    st.floats(0.5, 1.0),
    st.booleans(),
    st.sampled_from(["slaney", None, 1.0, 2.0]),
)
@example(8000, 256, 27, 0.375, 0.5, False, 1.0)  # a filter holding one bin by rounding only
def test_mel_filterbank(record_error, sample_rate, n_fft, n_mels, low, high, htk, norm):
    f_min, f_max = low * sample_rate / 2, high * sample_rate / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = filters.mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max, htk, norm)
        theirs = librosa.filters.mel(
            sr=sample_rate,
            n_fft=n_fft,
            n_mels=n_mels,
            fmin=f_min,
            fmax=f_max,
            htk=htk,
            norm=norm,
            dtype=np.float64,
        )
    want = reference.mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max, htk, norm)
    # A filter that covers no bin except by rounding (peak below 1e-9 before
    # normalisation) is empty; normalising it scales rounding noise, in librosa too.
    unnormalised = reference.mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max, htk, None)
    kept = unnormalised.max(axis=1) > 1e-9
    scale = np.max(np.abs(want)) + 1e-30
    record_error("mel_filterbank vs formula", np.max(np.abs(got - want)[kept], initial=0) / scale)
    record_error("mel_filterbank vs librosa", np.max(np.abs(got - theirs)) / scale)
    # Both in float64; bisection for the edges is exact to ~1e-12 relative.
    np.testing.assert_allclose(got[kept], want[kept], rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(got, theirs, rtol=0, atol=1e-12 * scale)


def test_mel_filterbank_errors_and_warning():
    with pytest.raises(ValueError, match="f_max=9000 Hz exceeds the Nyquist frequency 8000 Hz"):
        filters.mel_filterbank(16000, 512, 40, f_max=9000)
    with pytest.raises(ValueError, match="f_min"):
        filters.mel_filterbank(16000, 512, 40, f_min=4000, f_max=3000)
    with pytest.raises(ValueError, match="n_mels"):
        filters.mel_filterbank(16000, 512, 0)
    with pytest.raises(ValueError, match="sample_rate"):
        filters.mel_filterbank(-16000, 512, 40)
    with pytest.raises(ValueError, match="norm"):
        filters.mel_filterbank(16000, 512, 40, norm="l2")
    with pytest.warns(UserWarning, match="empty"):
        filters.mel_filterbank(16000, 64, 128)


@given(st.integers(1, 64), st.integers(1, 64), st.sampled_from(["ortho", None]))
def test_dct_matrix_matches_scipy(n_out, n_in, norm):
    if n_out > n_in:
        with pytest.raises(ValueError, match="n_out"):
            filters.dct_matrix(n_out, n_in, norm)
        return
    x = np.random.default_rng(n_in).standard_normal((n_in, 3))
    want = scipy.fft.dct(x, type=2, norm=norm, axis=0)[:n_out]
    np.testing.assert_allclose(filters.dct_matrix(n_out, n_in, norm) @ x, want, atol=1e-10)


@pytest.mark.parametrize("length", [2, 7, 400, 512])
def test_window_periodic_hann_formula(length):
    n = np.arange(length)
    np.testing.assert_allclose(
        filters.window("hann", length), 0.5 - 0.5 * np.cos(2 * np.pi * n / length), atol=1e-15
    )


def test_window_padding_and_errors():
    padded = filters.window("hamming", 5, pad_to=10)
    np.testing.assert_array_equal(padded[:2], 0)
    np.testing.assert_array_equal(padded[7:], 0)
    np.testing.assert_allclose(padded[2:7], librosa.filters.get_window("hamming", 5))
    np.testing.assert_allclose(padded, librosa.util.pad_center(padded[2:7], size=10))
    with pytest.raises(ValueError, match="window='nope'"):
        filters.window("nope", 8)
    with pytest.raises(ValueError, match="pad_to"):
        filters.window("hann", 8, pad_to=4)


@pytest.mark.parametrize("n_fft", [2, 7, 400, 512])
def test_dft_kernel_matches_numpy_rfft(n_fft):
    frames = np.random.default_rng(n_fft).standard_normal((5, n_fft))
    w = filters.window("hann", n_fft)
    kernel = filters.dft_kernel(n_fft, w)
    bins = n_fft // 2 + 1
    want = np.fft.rfft(frames * w, axis=-1)
    got = frames @ kernel
    np.testing.assert_allclose(got[:, :bins] + 1j * got[:, bins:], want, atol=1e-10)


def test_filters_does_not_import_tensorflow():
    # spela/__init__ imports the layers; a bare package object stands in for it so
    # that only spela.filters and what it imports are loaded.
    code = (
        "import sys, types; package = types.ModuleType('spela'); package.__path__ = ['spela']; "
        "sys.modules['spela'] = package; import spela.filters; "
        "print(sorted(n for n in sys.modules if n.startswith('spela')), "
        "'tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=__file__.rsplit("/tests/", 1)[0],
    )
    assert "spela.filters.mel" in result.stdout
    assert result.stdout.strip().endswith("False")


@st.composite
def banded_matrices(draw):
    """``(n_in, n_out)`` matrices whose nonzero rows move down with the column, some empty."""
    n_in, n_out = draw(st.integers(1, 40)), draw(st.integers(1, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    starts = np.sort(rng.integers(0, n_in, n_out))
    widths = rng.integers(0, 6, n_out)
    matrix = np.zeros((n_in, n_out))
    for column, (start, width) in enumerate(zip(starts, widths, strict=True)):
        matrix[start : start + width, column] = rng.uniform(0.1, 1.0, min(width, n_in - start))
    return matrix, draw(st.sampled_from([0, 16, 256])), draw(st.sampled_from([None, 1, 8, 40]))


@given(banded_matrices())
def test_band_blocks_keep_every_nonzero_entry(case):
    matrix, block_cost, max_entries = case
    blocks = filters.band_blocks(matrix, block_cost=block_cost, max_entries=max_entries)
    assert [block[2] for block in blocks] == [0] + [block[3] for block in blocks[:-1]]
    assert blocks[-1][3] == matrix.shape[1]
    rebuilt = np.zeros_like(matrix)
    for row_start, row_stop, start, stop in blocks:
        assert 0 <= row_start < row_stop <= matrix.shape[0]
        entries = (row_stop - row_start) * (stop - start)
        assert max_entries is None or entries <= max_entries or stop - start == 1
        rebuilt[row_start:row_stop, start:stop] = matrix[row_start:row_stop, start:stop]
    np.testing.assert_array_equal(rebuilt, matrix)


def test_band_blocks_store_a_mel_filterbank_in_an_eighth():
    matrix = filters.mel_filterbank(16000, 512, 80, f_min=50.0).T
    blocks = filters.band_blocks(matrix)
    stored = sum((rows - first) * (stop - start) for first, rows, start, stop in blocks)
    # 498 nonzero entries of 20,560; blocks of consecutive bands keep 2,429 in 8 blocks.
    assert stored <= 2500 and len(blocks) <= 10, (stored, len(blocks))
    with pytest.raises(ValueError, match="matrix must be 2-D"):
        filters.band_blocks(np.zeros(3))
    with pytest.raises(ValueError, match="block_cost must be >= 0"):
        filters.band_blocks(matrix, block_cost=-1)
    with pytest.raises(ValueError, match="max_entries"):
        filters.band_blocks(matrix, max_entries=0)
