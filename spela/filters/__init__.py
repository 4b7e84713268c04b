"""Constant matrices for audio front ends, built with numpy and scipy only.

Every constant a spela layer uses (analysis windows, DFT kernels, mel
filterbanks, DCT matrices) is computed here once, in float64, and cast by the
caller. One module per concern, as in ``spela.ops`` and ``spela.layers``;
this package never imports TensorFlow.
"""

from spela.filters._arguments import (
    MAX_DELTA_WIDTH,
    MAX_MATMUL_N_FFT,
    MAX_N_FFT,
    MAX_N_MELS,
    MAX_SIGNAL_LENGTH,
)
from spela.filters.inverse import (
    FactoredInverseDFT,
    check_nola,
    factored_inverse_dft,
    inverse_dft_kernel,
    window_sumsquare,
)
from spela.filters.mel import (
    band_blocks,
    cepstral_matrix,
    dct_matrix,
    hz_to_mel,
    mel_filterbank,
    mel_frequencies,
    mel_to_hz,
)
from spela.filters.spectral import (
    FactoredDFT,
    dft_kernel,
    factored_dft,
    factored_dft_split,
    fft_frequencies,
    window,
)
from spela.filters.temporal import (
    delta_coefficients,
    pcen_smoothing_coefficient,
    pcen_smoothing_logit,
)

__all__ = [
    "MAX_DELTA_WIDTH",
    "MAX_MATMUL_N_FFT",
    "MAX_N_FFT",
    "MAX_N_MELS",
    "MAX_SIGNAL_LENGTH",
    "FactoredDFT",
    "FactoredInverseDFT",
    "band_blocks",
    "cepstral_matrix",
    "check_nola",
    "dct_matrix",
    "delta_coefficients",
    "dft_kernel",
    "factored_dft",
    "factored_dft_split",
    "factored_inverse_dft",
    "fft_frequencies",
    "hz_to_mel",
    "inverse_dft_kernel",
    "mel_filterbank",
    "mel_frequencies",
    "mel_to_hz",
    "pcen_smoothing_coefficient",
    "pcen_smoothing_logit",
    "window",
    "window_sumsquare",
]
