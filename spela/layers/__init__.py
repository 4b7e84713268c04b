"""Keras layers of spela, registered for serialization under the ``spela`` package."""

from spela.layers import compat  # noqa: F401  (registers the 0.0.5 layers for loading)
from spela.layers.augment import FrequencyMasking, TimeMasking
from spela.layers.decibel import AmplitudeToDecibel, PowerToDecibel
from spela.layers.inverse import InverseSTFT
from spela.layers.mel import MFCC, LogMelToMFCC, MelFilterbank, MelSpectrogram
from spela.layers.spectral import STFT, Spectrogram
from spela.layers.temporal import PCEN, Delta

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
]
