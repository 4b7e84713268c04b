"""The log-mel front ends compared by the benchmark, all with the same settings.

1-s clips at 16 kHz; n_fft 512, hop 160, 64 mel bands, power spectrogram in dB
(``10 log10(max(S, 1e-10))``, clipped 80 dB below the maximum).
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 160
N_MELS = 64


def spela_model(backend: str):
    """spela's MelSpectrogram(to_db=True) with the given STFT backend."""
    import keras

    import spela

    audio = keras.Input((SAMPLE_RATE,))
    features = spela.MelSpectrogram(
        SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, to_db=True, backend=backend
    )(audio)
    return keras.Model(audio, features)


def keras_model():
    """Keras 3's own ``keras.layers.MelSpectrogram`` (output is ``(mels, frames)``)."""
    import keras

    audio = keras.Input((SAMPLE_RATE,))
    features = keras.layers.MelSpectrogram(
        fft_length=N_FFT,
        sequence_stride=HOP,
        sequence_length=N_FFT,
        sampling_rate=SAMPLE_RATE,
        num_mel_bins=N_MELS,
        power_to_db=True,
    )(audio)
    return keras.Model(audio, features)


class _TfSignalLogMel:
    """A hand-written tf.signal pipeline, as the TensorFlow guides show it."""

    def __new__(cls):
        import keras
        import tensorflow as tf

        class TfSignalLogMel(keras.layers.Layer):
            def build(self, input_shape):
                self.matrix = tf.signal.linear_to_mel_weight_matrix(
                    N_MELS, N_FFT // 2 + 1, SAMPLE_RATE, 0.0, SAMPLE_RATE / 2
                )

            def call(self, audio):
                padded = tf.pad(audio, [[0, 0], [N_FFT // 2, N_FFT // 2]])
                stft = tf.signal.stft(padded, N_FFT, HOP, N_FFT)
                power = tf.square(tf.abs(stft))
                mel = tf.tensordot(power, self.matrix, 1)
                db = 10.0 * tf.math.log(tf.maximum(mel, 1e-10)) / np.log(10.0)
                return tf.maximum(db, tf.reduce_max(db, axis=[1, 2], keepdims=True) - 80.0)

        return TfSignalLogMel()


def tf_signal_model():
    """The tf.signal pipeline in a Keras model."""
    import keras

    audio = keras.Input((SAMPLE_RATE,))
    return keras.Model(audio, _TfSignalLogMel()(audio))


def librosa_features(clip: np.ndarray) -> np.ndarray:
    """librosa on one clip (numpy, float32 input)."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=clip, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS
    )
    return librosa.power_to_db(mel, top_db=80.0)
