"""spela: audio feature-extraction Keras layers that convert to TFLite with builtin ops only."""

from spela import filters, ops
from spela.layers import (
    MFCC,
    PCEN,
    STFT,
    AmplitudeToDecibel,
    Delta,
    FrequencyMasking,
    InverseSTFT,
    LogMelToMFCC,
    MelFilterbank,
    MelSpectrogram,
    PowerToDecibel,
    Spectrogram,
    TimeMasking,
)

__version__ = "1.0.0"

__all__ = [
    "MFCC",
    "PCEN",
    "STFT",
    "AmplitudeToDecibel",
    "Delta",
    "FrequencyMasking",
    "InverseSTFT",
    "LogMelToMFCC",
    "MelFilterbank",
    "MelSpectrogram",
    "PowerToDecibel",
    "Spectrogram",
    "TimeMasking",
    "__version__",
    "filters",
    "ops",
]
