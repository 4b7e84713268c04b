"""spela 0.0.5's import path of ``Melspectrogram`` (deprecated: use ``spela.MelSpectrogram``).

``from spela.melspectrogram import Melspectrogram`` keeps 0.0.5 code running,
with its arguments, input ``(batch, channels, samples)`` and image output; see
the "Upgrading from spela 0.0.5" page.
"""

from spela.layers.compat import LegacyMelspectrogram as Melspectrogram

__all__ = ["Melspectrogram"]
