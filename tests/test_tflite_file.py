"""spela_tflite: the pure-Python .tflite reader against TensorFlow's and LiteRT's, and a
spela command that starts without TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

import spela
from spela.export import to_tflite
from spela_tflite import load_interpreter, read_model
from spela_tflite.model_file import BUILTIN_OPERATORS, TENSOR_TYPE_NAMES

ROOT = Path(__file__).resolve().parent.parent


def _enum(kind) -> list[str]:
    codes = {value: name for name, value in vars(kind).items() if not name.startswith("_")}
    return [codes[code] for code in range(len(codes))]


def test_operator_and_type_tables_match_the_schema():
    assert list(BUILTIN_OPERATORS) == _enum(schema.BuiltinOperator)
    assert list(TENSOR_TYPE_NAMES) == _enum(schema.TensorType)


@pytest.fixture(scope="module")
def flatbuffers() -> dict[str, bytes]:
    inputs = keras.Input((4000,))
    features = spela.MFCC(sample_rate=16000, n_fft=512, hop_length=160, n_mels=40)(inputs)
    outputs = keras.layers.Dense(3)(keras.layers.Flatten()(features))
    two_outputs = keras.Model(inputs, [outputs, features])
    calibration = np.random.default_rng(0).uniform(-0.5, 0.5, (4, 4000)).astype(np.float32)
    rfft = keras.Model(inputs, spela.Spectrogram(512, backend="rfft")(inputs))
    return {
        "float32": to_tflite(two_outputs),
        "float16": to_tflite(two_outputs, quantize="float16"),
        "dynamic": to_tflite(two_outputs, quantize="dynamic"),
        "int8": to_tflite(two_outputs, quantize="int8", representative_data=calibration),
        "rfft": to_tflite(rfft, batch_size=None),
    }


@pytest.mark.parametrize("mode", ["float32", "float16", "dynamic", "int8", "rfft"])
def test_reader_agrees_with_tensorflow_and_litert(flatbuffers, mode):
    model_bytes = flatbuffers[mode]
    ours = read_model(model_bytes)
    theirs = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    names = _enum(schema.BuiltinOperator)
    codes = [
        names[max(code.builtinCode, code.deprecatedBuiltinCode)] for code in theirs.operatorCodes
    ]
    assert list(ours.operator_names) == codes
    assert len(ours.subgraphs) == len(theirs.subgraphs)
    for graph, reference in zip(ours.subgraphs, theirs.subgraphs, strict=True):
        assert list(graph.inputs) == list(reference.inputs)
        assert list(graph.outputs) == list(reference.outputs)
        assert [
            (op.opcode_index, list(op.inputs), list(op.outputs)) for op in graph.operators
        ] == [(op.opcodeIndex, list(op.inputs), list(op.outputs)) for op in reference.operators]
        for tensor, expected in zip(graph.tensors, reference.tensors, strict=True):
            assert tensor.name == expected.name.decode()
            assert list(tensor.shape) == list(expected.shape)
            assert tensor.type_code == expected.type
            assert tensor.buffer == expected.buffer
            data = theirs.buffers[expected.buffer].data
            stored = b"" if data is None else bytes(bytearray(data))
            assert ours.buffer_data(tensor) == stored

    interpreter = load_interpreter(model_bytes)
    graph = ours.subgraphs[0]
    for details, indices in (
        (interpreter.get_input_details(), graph.inputs),
        (interpreter.get_output_details(), graph.outputs),
    ):
        assert [
            (d["name"], d["shape_signature"].tolist(), d["dtype"].__name__) for d in details
        ] == [
            (t.name, list(t.shape_signature), t.type_name)
            for t in (graph.tensors[i] for i in indices)
        ]


def _run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


def test_help_inspect_and_benchmark_do_not_import_tensorflow(flatbuffers, tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(flatbuffers["float32"])
    code = (
        "import sys\n"
        "from spela_tflite.command import main\n"
        "for argv in (['inspect', sys.argv[1]], ['benchmark', sys.argv[1], '--runs', '2']):\n"
        "    assert main(argv) == 0\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('loaded:', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = _run_python(code, str(path))
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout
    assert "input  serving_default_inputs_0:0: shape [1, 4000] float32" in result.stdout
    assert result.stderr == ""


@pytest.mark.slow
def test_export_hides_tensorflow_logging_unless_verbose(tmp_path):
    saved = tmp_path / "front.keras"
    inputs = keras.Input((2000,))
    keras.Model(inputs, spela.Spectrogram(256)(inputs)).save(saved)
    code = "import sys\nfrom spela_tflite.command import main\nsys.exit(main(sys.argv[1:]))\n"
    quiet = _run_python(code, "export", str(saved), str(tmp_path / "quiet.tflite"))
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.startswith("wrote ")
    verbose = _run_python(
        code, "export", str(saved), str(tmp_path / "verbose.tflite"), "--verbose"
    )
    assert verbose.returncode == 0, verbose.stderr
    assert (tmp_path / "quiet.tflite").read_bytes() == (tmp_path / "verbose.tflite").read_bytes()
