"""spela: audio feature-extraction Keras layers that convert to TFLite with builtin ops only."""

from spela import filters, ops
from spela.layers import STFT, Spectrogram

__version__ = "1.0.0.dev0"

__all__ = ["STFT", "Spectrogram", "__version__", "filters", "ops"]
