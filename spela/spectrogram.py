"""spela 0.0.5's import path of ``Spectrogram`` (deprecated: use ``spela.Spectrogram``).

``from spela.spectrogram import Spectrogram`` keeps 0.0.5 code running, with
its arguments, input ``(batch, channels, samples)`` and image output; see the
"Upgrading from spela 0.0.5" page.
"""

from spela.layers.compat import LegacySpectrogram as Spectrogram

__all__ = ["Spectrogram"]
