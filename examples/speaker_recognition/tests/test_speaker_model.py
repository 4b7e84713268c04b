"""Both architectures build, stay the expected size and convert to builtin-only TFLite."""

from __future__ import annotations

import numpy as np
import pytest

from speaker_recognition.model import build_model, frontend_layer_names
from spela.export import run_tflite, tflite_op_names, to_tflite


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["small_cnn", "seed"])
def test_architectures_convert_with_builtin_ops(arch):
    model = build_model(5, arch)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    if arch == "seed":
        assert 1_100_000 < trainable < 1_300_000  # the original's Flatten -> Dense
    else:
        assert trainable < 60_000
    x = np.random.default_rng(0).uniform(-0.3, 0.3, (4, 16000)).astype(np.float32)
    for quantize in (None, "int8"):
        flatbuffer = to_tflite(
            model,
            quantize=quantize,
            representative_data=x if quantize else None,
            float_layers=frontend_layer_names(model) if quantize else (),
        )
        names = tflite_op_names(flatbuffer)
        assert not [n for n in names if n.startswith("Flex") or n == "CUSTOM"]
        got = run_tflite(flatbuffer, x)
        assert got.shape == (4, 5)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="arch"):
        build_model(5, "resnet")
    with pytest.raises(ValueError, match="n_classes"):
        build_model(1)
