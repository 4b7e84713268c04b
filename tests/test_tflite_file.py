"""spela_tflite: the pure-Python .tflite reader against TensorFlow's and LiteRT's, and a
spela command that starts without TensorFlow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

import spela
from spela.export import run_tflite, to_tflite, with_metadata
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
            assert ours.buffer_data(tensor) == _stored(theirs.buffers[expected.buffer].data)
    assert ours.metadata() == _metadata_read_by_tensorflow(model_bytes)
    assert set(ours.metadata()) >= {"min_runtime_version", "CONVERSION_METADATA"}

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


def _metadata_read_by_tensorflow(model_bytes: bytes) -> dict[str, bytes]:
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    return {
        entry.name.decode(): _stored(model.buffers[entry.buffer].data) for entry in model.metadata
    }


def _stored(data) -> bytes:
    """The bytes of a buffer as TensorFlow's object reader gives them (None when empty)."""
    return b"" if data is None else bytes(bytearray(data))


@pytest.mark.parametrize("mode", ["float32", "float16", "dynamic", "int8", "rfft"])
def test_with_metadata_adds_entries_and_keeps_the_outputs(flatbuffers, mode):
    model_bytes = flatbuffers[mode]
    labels = "Anna\nBoris\nZoë".encode()
    tagged = with_metadata(model_bytes, {"labels": labels, "empty": b""})
    by_tensorflow = _metadata_read_by_tensorflow(tagged)
    assert by_tensorflow == {**read_model(model_bytes).metadata(), "labels": labels, "empty": b""}
    assert read_model(tagged).metadata() == by_tensorflow
    assert read_model(tagged).op_names() == read_model(model_bytes).op_names()

    clips = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 4000)).astype(np.float32)
    before, after = run_tflite(model_bytes, clips), run_tflite(tagged, clips)
    for want, got in (
        zip(before, after, strict=True) if isinstance(before, list) else [(before, after)]
    ):
        np.testing.assert_array_equal(got, want)  # the same weights and ops: bit for bit

    renamed = with_metadata(tagged, {"labels": b"Chen"})
    assert read_model(renamed).metadata() == {**by_tensorflow, "labels": b"Chen"}
    assert len(renamed) < len(tagged)  # replaced, not added beside the old entry


@pytest.mark.parametrize(
    ("entries", "error", "message"),
    [
        ({"min_runtime_version": b"9.9"}, ValueError, "converter's own"),
        ({"CONVERSION_METADATA": b""}, ValueError, "converter's own"),
        ({"": b"x"}, ValueError, "non-empty name"),
        ({3: b"x"}, TypeError, "names must be strings, got 3"),
        ({"labels": "Anna"}, TypeError, "metadata 'labels' must be bytes, got str"),
        ([("labels", b"Anna")], TypeError, "entries must map names to bytes, got list"),
    ],
)
def test_with_metadata_rejects_bad_entries(flatbuffers, entries, error, message):
    with pytest.raises(error, match=re.escape(message)):
        with_metadata(flatbuffers["float32"], entries)


def test_with_metadata_leaves_weights_an_entry_wrongly_points_at(flatbuffers):
    model_bytes = flatbuffers["float32"]
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(with_metadata(model_bytes, {})))
    weights = next(t.buffer for t in model.subgraphs[0].tensors if t.buffer > 0)
    for target in (0, weights):  # the empty buffer of computed tensors, and a weight's
        entry = schema.MetadataT()
        entry.name, entry.buffer = b"labels", target
        model.metadata = [*model.metadata[:2], entry]
        damaged = flatbuffer_utils.convert_object_to_bytearray(model)
        repaired = with_metadata(damaged, {"labels": b"Anna"})
        assert read_model(repaired).metadata()["labels"] == b"Anna"
        clips = np.random.default_rng(2).uniform(-0.5, 0.5, (1, 4000)).astype(np.float32)
        for want, got in zip(
            run_tflite(model_bytes, clips), run_tflite(repaired, clips), strict=True
        ):
            np.testing.assert_array_equal(got, want)


def test_with_metadata_rejects_what_is_not_a_tflite_file():
    with pytest.raises(ValueError, match="is not a TFLite flatbuffer"):
        with_metadata(b"PK\x03\x04 a zip file, not a model", {"labels": b"Anna"})


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
    assert "metadata: min_runtime_version (16 bytes), CONVERSION_METADATA (" in result.stdout
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


def test_reader_rejects_metadata_outside_the_buffer_list(flatbuffers):
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffers["float32"]))
    model.metadata[0].buffer = len(model.buffers) + 5
    damaged = flatbuffer_utils.convert_object_to_bytearray(model)
    with pytest.raises(ValueError, match=r"damaged TFLite flatbuffer \(metadata 'min_runtime"):
        read_model(damaged)
