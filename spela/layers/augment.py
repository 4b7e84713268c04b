"""SpecAugment masking layers: active in training, identity in inference."""

from __future__ import annotations

import keras
import tensorflow as tf

from spela.filters._arguments import _check_positive_int, _check_real
from spela.layers._base import FeatureLayer
from spela.ops._tensors import _as_float32_signal

__all__ = ["FrequencyMasking", "TimeMasking"]

MAX_MASKS = 1024
"""Largest ``count`` of masks per example."""

MAX_MASK_WIDTH = 2**20
"""Largest ``max_width`` of a mask, in frames or bins."""


class _Masking(FeatureLayer):
    _axis = 1

    def __init__(self, max_width, count=1, mask_value=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.max_width = _check_positive_int("max_width", max_width, maximum=MAX_MASK_WIDTH)
        self.count = _check_positive_int("count", count, maximum=MAX_MASKS)
        self.mask_value = _check_real("mask_value", mask_value)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        values = _as_float32_signal(inputs, f"{type(self).__name__} input")
        if not training:
            return values
        batch = tf.shape(values)[0]
        size = tf.shape(values)[self._axis]
        draws = keras.random.uniform((2, batch, self.count), seed=self.seed_generator)
        widths = tf.cast(draws[0] * float(self.max_width + 1), tf.int32)
        widths = tf.minimum(widths, size)
        starts = tf.cast(draws[1] * tf.cast(size - widths + 1, tf.float32), tf.int32)
        positions = tf.reshape(tf.range(size), [1, 1, -1])
        inside = (positions >= tf.expand_dims(starts, -1)) & (
            positions < tf.expand_dims(starts + widths, -1)
        )
        masked = tf.reduce_any(inside, axis=1)  # (batch, size)
        target = [batch, size, 1] if self._axis == 1 else [batch, 1, size]
        if values.shape.rank == 4:
            target.append(1)
        mask = tf.reshape(masked, target)
        return tf.where(mask, tf.constant(self.mask_value, tf.float32), values)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            max_width=self.max_width, count=self.count, mask_value=self.mask_value, seed=self.seed
        )
        return config


@keras.saving.register_keras_serializable(package="spela")
class TimeMasking(_Masking):
    """SpecAugment time masks: ``count`` random spans of up to ``max_width`` frames.

    Each span, drawn per example with a width uniform in ``[0, max_width]`` and a
    uniform start, is set to ``mask_value``. Only when ``training=True``;
    otherwise the layer is the identity and adds no op to an exported graph.

    Parameters
    ----------
    max_width : int
        Largest span in frames.
    count : int, default 1
        Spans per example (they may overlap).
    mask_value : float, default 0.0
        Value written into masked frames (e.g. the mean of normalised features).
    seed : int, optional
        Seed for reproducible masks.

    Input shape
    -----------
    ``(batch, frames, bins[, channels])``. Output: same.

    References
    ----------
    .. [1] Park, D. S. et al. "SpecAugment: a simple data augmentation method for
       automatic speech recognition", Interspeech 2019.
    """

    _axis = 1


@keras.saving.register_keras_serializable(package="spela")
class FrequencyMasking(_Masking):
    """SpecAugment frequency masks: ``count`` random bands of up to ``max_width`` bins.

    As ``TimeMasking``, along the frequency axis (axis 2).

    Parameters
    ----------
    max_width : int
        Largest band in bins.
    count : int, default 1
        Bands per example.
    mask_value : float, default 0.0
        Value written into masked bins.
    seed : int, optional
        Seed for reproducible masks.

    Input shape
    -----------
    ``(batch, frames, bins[, channels])``. Output: same.
    """

    _axis = 2
