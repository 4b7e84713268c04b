"""Layers acting along time: Savitzky-Golay deltas and PCEN."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from spela import filters, ops
from spela.filters._arguments import _check_positive_float
from spela.layers._base import FeatureLayer
from spela.ops._tensors import _as_float32_signal

__all__ = ["PCEN", "Delta"]

_DELTA_AXES = {"time": 1, "frequency": 2}


@keras.saving.register_keras_serializable(package="spela")
class Delta(FeatureLayer):
    """Delta features, as ``librosa.feature.delta`` (Savitzky-Golay, ``mode="interp"``).

    Parameters
    ----------
    width : int, default 9
        Window length in frames, odd and >= 3; the input needs at least
        ``width`` entries along ``axis``.
    order : int, default 1
        Derivative order (1: delta, 2: delta-delta).
    axis : {"time", "frequency"}, default "time"
        Axis to differentiate (1 or 2 of the input).

    Input shape
    -----------
    ``(batch, frames, bins[, channels])``.

    Output shape
    ------------
    Same as the input.

    Notes
    -----
    Inside the signal the output is a ``width``-tap correlation; the first and
    last ``width // 2`` outputs come from a polynomial fitted to the first and
    last ``width`` frames (``spela.filters.delta_coefficients``). All of it
    is exact in TFLite (slices, MUL/ADD and small matmuls).
    """

    def __init__(self, width=9, order=1, axis="time", **kwargs):
        super().__init__(**kwargs)
        filters.delta_coefficients(width, order)  # validates width and order
        if not isinstance(axis, str) or axis not in _DELTA_AXES:
            raise ValueError(f"axis must be one of {tuple(_DELTA_AXES)}, got {axis!r}")
        self.width = int(width)
        self.order = int(order)
        self.axis = axis

    def _check_input_shape(self, input_shape) -> None:
        super()._check_input_shape(input_shape)
        size = input_shape[_DELTA_AXES[self.axis]]
        if size is None or size < self.width:
            raise ValueError(
                f"Delta(width={self.width}) needs a static {self.axis} axis of at least "
                f"{self.width} entries, got input shape {tuple(input_shape)}"
            )

    def call(self, inputs):
        values = _as_float32_signal(inputs, "Delta input")
        return ops.delta(values, self.width, self.order, axis=_DELTA_AXES[self.axis])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(width=self.width, order=self.order, axis=self.axis)
        return config


@keras.saving.register_keras_serializable(package="spela")
class PCEN(FeatureLayer):
    """Per-channel energy normalization, as ``librosa.pcen``, optionally trainable.

    Parameters
    ----------
    sample_rate : float
        Audio sampling rate in Hz.
    hop_length : int
        Hop of the input spectrogram in samples.
    gain : float, default 0.98
        Gain-normalization exponent ``alpha``, > 0.
    bias : float, default 2.0
        Bias ``delta``, > 0.
    power : float, default 0.5
        Compression exponent ``r``, > 0.
    time_constant : float, default 0.4
        Time constant of the smoother in seconds.
    eps : float, default 1e-6
        Floor of the smoothed energy, > 0.
    trainable : bool, default False
        Learn ``gain``, ``bias`` and ``power`` per frequency bin (stored as
        logarithms, which keeps them positive) and the smoother weight (stored as
        a logit), as in learnable PCEN.

    Input shape
    -----------
    ``(batch, frames, bins[, channels])``, non-negative energy (librosa suggests
    a magnitude or mel spectrogram of audio scaled by ``2**31``); ``frames``
    must be static.

    Output shape
    ------------
    Same as the input.

    Notes
    -----
    ``M[t] = (1 - b) M[t-1] + b E[t]`` with ``M[-1] = 1`` (librosa's initial
    state) is computed exactly as a lower-triangular matrix product over time,
    so ``frames x frames`` weights are built for the graph.

    References
    ----------
    .. [1] Wang, Y. et al. "Trainable frontend for robust and far-field keyword
       spotting", ICASSP 2017.
    .. [2] Lostanlen, V. et al. "Per-channel energy normalization: why and how",
       IEEE Signal Processing Letters 26(1), 2019.
    """

    def __init__(
        self,
        sample_rate,
        hop_length,
        gain=0.98,
        bias=2.0,
        power=0.5,
        time_constant=0.4,
        eps=1e-6,
        trainable=False,
        **kwargs,
    ):
        super().__init__(trainable=trainable, **kwargs)
        self._smoothing_logit = filters.pcen_smoothing_logit(
            sample_rate, hop_length, time_constant
        )
        for name, value in (("gain", gain), ("bias", bias), ("power", power), ("eps", eps)):
            _check_positive_float(name, value)
        self.sample_rate = float(sample_rate)
        self.hop_length = int(hop_length)
        self.gain = float(gain)
        self.bias = float(bias)
        self.power = float(power)
        self.time_constant = float(time_constant)
        self.eps = float(eps)

    def _check_input_shape(self, input_shape) -> None:
        super()._check_input_shape(input_shape)
        if input_shape[1] is None or input_shape[2] is None:
            raise ValueError(
                "PCEN needs static frames and bins (axes 1 and 2), got input shape "
                f"{tuple(input_shape)}"
            )

    def build(self, input_shape):
        super().build(input_shape)
        bins = input_shape[2]

        def per_bin(name, value):
            return self.add_weight(
                name=name,
                shape=(bins,),
                dtype="float32",
                trainable=self.trainable,
                initializer=keras.initializers.Constant(np.log(value)),
            )

        self.log_gain = per_bin("log_gain", self.gain)
        self.log_bias = per_bin("log_bias", self.bias)
        self.log_power = per_bin("log_power", self.power)
        self.smoothing_logit = self.add_weight(
            name="smoothing_logit",
            shape=(),
            dtype="float32",
            trainable=self.trainable,
            initializer=keras.initializers.Constant(self._smoothing_logit),
        )

    def call(self, inputs):
        energy = _as_float32_signal(inputs, "PCEN input")
        shape = [-1] + ([1] if energy.shape.rank == 4 else [])
        gain, bias, power = (
            tf.reshape(tf.exp(w), shape) for w in (self.log_gain, self.log_bias, self.log_power)
        )
        return ops.pcen(energy, None, gain, bias, power, self.eps, self.smoothing_logit)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            sample_rate=self.sample_rate,
            hop_length=self.hop_length,
            gain=self.gain,
            bias=self.bias,
            power=self.power,
            time_constant=self.time_constant,
            eps=self.eps,
        )
        return config
