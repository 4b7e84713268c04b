"""Keras layers converting power or amplitude to decibels, as librosa."""

from __future__ import annotations

import math
import numbers

import keras

from spela import ops
from spela.filters._arguments import _FLOAT32_MAX
from spela.layers._base import FeatureLayer
from spela.ops._tensors import _as_float32_signal

__all__ = ["AmplitudeToDecibel", "PowerToDecibel"]


def _is_finite_number(value) -> bool:
    """A real number (not a bool) that float32 holds as a finite value."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= _FLOAT32_MAX
    )


def check_decibel_arguments(ref, amin, top_db) -> None:
    """Validate ``ref`` (finite, > 0, or "max"), ``amin`` (finite, > 0) and ``top_db``.

    ``top_db`` is a finite number >= 0 or None.
    """
    if not (isinstance(ref, str) and ref == "max") and not (_is_finite_number(ref) and ref > 0):
        raise ValueError(f"ref must be a positive finite number or 'max', got {ref!r}")
    if not (_is_finite_number(amin) and amin > 0):
        raise ValueError(f"amin must be a positive finite number, got {amin!r}")
    if top_db is not None and not (_is_finite_number(top_db) and top_db >= 0):
        raise ValueError(f"top_db must be a finite number >= 0 or None, got {top_db!r}")


class _DecibelLayer(FeatureLayer):
    def __init__(self, ref=1.0, amin=1e-10, top_db=80.0, **kwargs):
        super().__init__(**kwargs)
        check_decibel_arguments(ref, amin, top_db)
        self.ref = ref if ref == "max" else float(ref)
        self.amin = float(amin)
        self.top_db = None if top_db is None else float(top_db)

    def _check_input_shape(self, input_shape) -> None:
        if len(input_shape) < 2:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, ...), got "
                f"{tuple(input_shape)}"
            )

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(ref=self.ref, amin=self.amin, top_db=self.top_db)
        return config


@keras.saving.register_keras_serializable(package="spela")
class PowerToDecibel(_DecibelLayer):
    """Power to decibels, ``10 * log10(max(S, amin) / max(ref, amin))``, as librosa.

    Parameters
    ----------
    ref : float or "max", default 1.0
        Reference power for 0 dB; ``"max"`` uses each example's maximum, as
        librosa's ``ref=np.max`` applied to one clip.
    amin : float, default 1e-10
        Floor of the power, > 0.
    top_db : float or None, default 80.0
        Clip each example at its maximum minus ``top_db`` dB; None disables it.

    Input shape
    -----------
    ``(batch, ...)``, non-negative power, e.g. ``(batch, frames, n_mels)``.

    Output shape
    ------------
    Same as the input, dB.
    """

    def call(self, inputs):
        return ops.power_to_db(
            _as_float32_signal(inputs, "PowerToDecibel input"),
            self.ref,
            self.amin,
            self.top_db,
        )


@keras.saving.register_keras_serializable(package="spela")
class AmplitudeToDecibel(_DecibelLayer):
    """Amplitude to decibels, ``20 * log10(max(A, amin) / ref)``, as ``librosa.amplitude_to_db``.

    Parameters
    ----------
    ref : float or "max", default 1.0
        Reference amplitude for 0 dB; ``"max"`` uses each example's maximum.
    amin : float, default 1e-5
        Floor of the amplitude, > 0.
    top_db : float or None, default 80.0
        Clip each example at its maximum minus ``top_db`` dB; None disables it.

    Input shape
    -----------
    ``(batch, ...)``, non-negative amplitude (magnitude).

    Output shape
    ------------
    Same as the input, dB.
    """

    def __init__(self, ref=1.0, amin=1e-5, top_db=80.0, **kwargs):
        super().__init__(ref=ref, amin=amin, top_db=top_db, **kwargs)

    def call(self, inputs):
        return ops.amplitude_to_db(
            _as_float32_signal(inputs, "AmplitudeToDecibel input"),
            self.ref,
            self.amin,
            self.top_db,
        )
