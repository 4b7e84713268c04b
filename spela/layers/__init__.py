"""Keras layers of spela, registered for serialization under the ``spela`` package."""

from spela.layers.spectral import STFT, Spectrogram

__all__ = ["STFT", "Spectrogram"]
