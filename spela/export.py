"""Conversion of Keras models to TFLite/LiteRT with builtin ops only, and inspection."""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from spela import ops
from spela.layers.spectral import _SpectralLayer
from spela_tflite import load_interpreter, read_model, tflite_op_names
from spela_tflite.model_file import BUILTIN_OPERATORS

__all__ = [
    "CONVERTER_METADATA",
    "QUANTIZE_MODES",
    "ExportError",
    "load_interpreter",
    "load_keras_model",
    "run_tflite",
    "tflite_op_names",
    "to_tflite",
    "with_metadata",
]

QUANTIZE_MODES = (None, "float16", "dynamic", "int8")

#: Metadata entries that TFLite's converter writes and `with_metadata` leaves alone.
CONVERTER_METADATA = ("min_runtime_version", "CONVERSION_METADATA", "buffer_location")


class ExportError(ValueError):
    """A model cannot be converted to a TFLite graph of builtin ops (the message says why)."""


def load_keras_model(path) -> keras.Model:
    """Load a ``.keras`` model file that may hold spela layers.

    Parameters
    ----------
    path : path-like
        A model saved with ``model.save("....keras")``.

    Returns
    -------
    keras.Model

    Raises
    ------
    ValueError
        Naming the file, if it is missing, a folder, not a Keras zip archive, or
        an archive Keras cannot rebuild (damaged, or holding layer classes that
        are not registered in this process).
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(
            f"model file {str(file)!r} " + ("is a folder" if file.is_dir() else "does not exist")
        )
    if not zipfile.is_zipfile(file):
        raise ValueError(
            f"model file {str(file)!r} is not a .keras model (a zip archive saved by model.save)"
        )
    try:
        return keras.models.load_model(file)
    except Exception as error:  # Keras raises many types for archives it cannot rebuild
        text = str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        raise ValueError(f"model file {str(file)!r} cannot be loaded by Keras: {reason}") from None


def _spectral_layers(model: keras.Model) -> list[_SpectralLayer]:
    return [layer for layer in model._flatten_layers() if isinstance(layer, _SpectralLayer)]


def _check_layers(model: keras.Model, quantize: str | None, float_layers=()) -> None:
    names = {layer.name for layer in model._flatten_layers()}
    unknown = sorted(set(float_layers) - names)
    if unknown:
        raise ValueError(f"float_layers names layers the model does not have: {unknown}")
    for layer in _spectral_layers(model):
        if layer.resolved_backend != "rfft":
            continue
        if not ops.is_power_of_two(layer.n_fft):
            raise ExportError(
                f"layer {layer.name!r} uses backend='rfft' with n_fft={layer.n_fft}, but "
                "TFLite's RFFT2D kernel accepts only power-of-two FFT lengths; "
                "rebuild it with backend='auto' (or 'factored' or 'matmul')"
            )
        if quantize == "int8" and layer.name not in float_layers:
            raise ExportError(
                f"layer {layer.name!r} uses backend='rfft', which has no int8 kernel; "
                "full-integer quantization needs backend='auto' (or 'factored' or 'matmul'), "
                "or keep the layer in "
                f"float with float_layers=[{layer.name!r}]"
            )


def _calibration_batches(model: keras.Model, data) -> list[list[np.ndarray]]:
    """``representative_data`` as checked float32 batches, one list of arrays per batch."""
    if data is None:
        raise ValueError("quantize='int8' needs representative_data (a few typical inputs)")
    single_input = len(model.inputs) == 1
    if isinstance(data, np.ndarray | tf.Tensor):
        data = [data]
    try:
        batches = list(data)
    except TypeError:
        raise TypeError(
            "representative_data must be an array (examples, ...) or an iterable of "
            f"such batches, got {type(data).__name__}"
        ) from None
    checked = []
    for number, batch in enumerate(batches):
        items = [batch] if single_input else list(batch)
        if len(items) != len(model.inputs):
            raise ValueError(
                f"representative_data batch {number} has {len(items)} arrays; "
                f"the model has {len(model.inputs)} inputs"
            )
        arrays = []
        for item, model_input in zip(items, model.inputs, strict=True):
            expected = (None, *model_input.shape[1:])  # Keras marks unknown sizes None
            array = _float_array(item, f"representative_data batch {number}", expected)
            if not np.all(np.isfinite(array)):
                raise ValueError(f"representative_data batch {number} holds NaN or Inf values")
            arrays.append(array.astype(np.float32))
        checked.append(arrays)
    if not any(arrays[0].shape[0] for arrays in checked):
        raise ValueError("representative_data holds no examples; int8 calibration needs some")
    return checked


def _float_array(values, name: str, expected: Sequence[int | None]) -> np.ndarray:
    """``values`` as a real floating array whose shape matches ``expected`` (None: any)."""
    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged nested sequences
        raise ValueError(f"{name} is not a rectangular array: {error}") from None
    if array.dtype.kind != "f":
        hint = "; scale PCM16 audio to floats with x / 32768" if array.dtype.kind in "iu" else ""
        raise TypeError(
            f"{name} must be floating point (audio scaled to [-1, 1]), got dtype {array.dtype}"
            + hint
        )
    shape = tuple(expected)
    if array.ndim != len(shape) or any(
        want is not None and want != got for want, got in zip(shape, array.shape, strict=True)
    ):
        wanted = "(" + ", ".join("any" if d is None else str(d) for d in shape) + ")"
        raise ValueError(f"{name} has shape {array.shape}; the model takes {wanted}")
    return array


def _representative_dataset(batches: list[list[np.ndarray]]):
    def generate():
        for arrays in batches:
            for i in range(arrays[0].shape[0]):
                yield [a[i : i + 1] for a in arrays]

    return generate


def to_tflite(
    model: keras.Model,
    quantize: str | None = None,
    representative_data: np.ndarray | Iterable | None = None,
    batch_size: int | None = 1,
    float_layers: Sequence[str] = (),
) -> bytes:
    """Convert a Keras model to a TFLite flatbuffer made of builtin ops only.

    Parameters
    ----------
    model : keras.Model
        A functional or sequential model with known inputs.
    quantize : {None, "float16", "dynamic", "int8"}, default None
        ``None`` keeps float32. ``"float16"`` stores weights in float16.
        ``"dynamic"`` stores weights in int8 and quantizes activations at run
        time. ``"int8"`` quantizes weights and activations to int8
        (``TFLITE_BUILTINS_INT8``) with float32 input and output; it needs
        ``representative_data`` and an STFT backend other than ``"rfft"``.
    representative_data : array or iterable of arrays, optional
        Typical inputs for ``"int8"`` calibration: an array ``(examples, ...)``
        or an iterable of such batches (tuples of them for multi-input models).
    batch_size : int or None, default 1
        Fixed batch size of the exported graph (1 suits on-device streaming);
        ``None`` exports a resizable batch dimension.
    float_layers : sequence of str, default ()
        With ``"int8"``: names of layers whose ops stay float32 while the rest
        is quantized. An 8-bit linear power spectrum keeps only about 24 dB
        below its peak, so a log-mel front end usually belongs here.

    Returns
    -------
    bytes
        The ``.tflite`` flatbuffer; STFT layers with ``backend="auto"`` use the
        ``"factored"`` DFT (BATCH_MATMUL), as on every other route.

    Raises
    ------
    ExportError
        If the graph needs ops outside TFLite's builtins (the message lists them),
        an ``rfft`` STFT has a non-power-of-two ``n_fft``, or ``"int8"`` meets
        an ``rfft`` STFT.
    ValueError
        For an unknown ``quantize`` or ``batch_size``, ``float_layers`` or
        ``representative_data`` without ``"int8"``, and representative data that
        is empty, non-finite, or not shaped as the model's inputs.
    TypeError
        For representative data that is not floating point.

    Examples
    --------
    >>> import keras, spela
    >>> from spela.export import to_tflite, tflite_op_names
    >>> model = keras.Sequential([keras.Input((16000,)), spela.Spectrogram(512, hop_length=256)])
    >>> "BATCH_MATMUL" in tflite_op_names(to_tflite(model))  # backend "auto" is "factored"
    True
    """
    if quantize not in QUANTIZE_MODES:
        raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, got {quantize!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    if not getattr(model, "inputs", None):
        raise ValueError("model must be a built functional or sequential model with inputs")
    if isinstance(float_layers, str):
        float_layers = [float_layers]
    if float_layers and quantize != "int8":
        raise ValueError(
            f"float_layers applies to quantize='int8' only, got quantize={quantize!r}"
        )
    if representative_data is not None and quantize != "int8":
        raise ValueError(
            f"representative_data applies to quantize='int8' only, got quantize={quantize!r}"
        )
    _check_layers(model, quantize, float_layers)
    if quantize == "int8":
        calibration = _representative_dataset(_calibration_batches(model, representative_data))

    specs = [tf.TensorSpec([batch_size, *x.shape[1:]], x.dtype) for x in model.inputs]
    single_input = len(specs) == 1

    @tf.function
    def serve(*inputs):
        return model(inputs[0] if single_input else list(inputs), training=False)

    # Freezing turns weights (such as fixed DFT kernels) into constants; left as
    # resource variables they would become VAR_HANDLE/READ_VARIABLE ops.
    concrete = convert_variables_to_constants_v2(serve.get_concrete_function(*specs))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if float_layers:
            converter.target_spec.supported_ops.append(tf.lite.OpsSet.TFLITE_BUILTINS)
    try:
        flatbuffer = converter.convert()
        if float_layers:
            flatbuffer = _requantize_keeping_float(
                converter, calibration, flatbuffer, float_layers
            )
    except Exception as error:  # the converter raises several private error types
        message = str(error)
        missing = sorted(set(re.findall(r"\btf\.(\w+)", message)))
        detail = f" ops not in TFLite builtins: {', '.join(missing)}." if missing else ""
        raise ExportError(f"TFLite conversion failed.{detail}\n{message}") from None
    _check_flatbuffer(flatbuffer)
    return flatbuffer


def with_metadata(model_bytes: bytes, entries: Mapping[str, bytes]) -> bytes:
    """A ``.tflite`` flatbuffer with named metadata entries added or replaced.

    TFLite keeps a model's metadata as named buffers that interpreters load
    with the model and otherwise ignore, so facts such as labels can travel
    inside the file: `spela_tflite.ModelFile.metadata` reads them back.
    Operators, tensors and weights are kept as they are, so the model's
    outputs do not change.

    Parameters
    ----------
    model_bytes : bytes
        A ``.tflite`` flatbuffer (from `to_tflite`, Keras's
        ``model.export(format="litert")`` or any converter), its buffers
        stored inline.
    entries : mapping of str to bytes
        Name to contents. A name the file already holds is replaced; the
        converter's own entries (`CONVERTER_METADATA`) may not be.

    Returns
    -------
    bytes
        The flatbuffer with the entries.

    Raises
    ------
    ValueError
        If ``model_bytes`` is not a TFLite flatbuffer or keeps its buffers
        outside the flatbuffer, or an entry's name is empty or one of the
        converter's.
    TypeError
        If a name is not a string or a content not bytes.

    Examples
    --------
    >>> import keras, spela
    >>> from spela.export import to_tflite, with_metadata
    >>> from spela_tflite import read_model
    >>> model = keras.Sequential([keras.Input((16000,)), spela.Spectrogram(512)])
    >>> tagged = with_metadata(to_tflite(model), {"labels": b"Anna\\nBoris"})
    >>> read_model(tagged).metadata()["labels"]
    b'Anna\\nBoris'
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    if "buffer_location" in read_model(model_bytes).metadata():
        raise ValueError(
            "model_bytes keeps its buffers outside the flatbuffer (a model over 2 GB); "
            "its metadata cannot be rewritten here"
        )
    if not isinstance(entries, Mapping):
        raise TypeError(f"entries must map names to bytes, got {type(entries).__name__}")
    for name, content in entries.items():
        if not isinstance(name, str):
            raise TypeError(f"metadata names must be strings, got {name!r}")
        if not name or name in CONVERTER_METADATA:
            raise ValueError(
                f"metadata name {name!r} is not allowed: give a non-empty name other than "
                f"the converter's own {list(CONVERTER_METADATA)}"
            )
        if not isinstance(content, bytes | bytearray):
            raise TypeError(f"metadata {name!r} must be bytes, got {type(content).__name__}")
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    model.metadata = model.metadata or []
    existing = {entry.name.decode("utf-8", "replace"): entry for entry in model.metadata}
    # Buffer 0 is the empty buffer of every computed tensor; a damaged file may point an
    # entry at it or at a tensor's weights, which must not be overwritten.
    tensor_buffers = {0} | {t.buffer for graph in model.subgraphs for t in graph.tensors or ()}
    for name, content in entries.items():
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(bytes(content), np.uint8)
        entry = existing.get(name)
        if entry is not None and entry.buffer not in tensor_buffers:
            model.buffers[entry.buffer] = buffer
            continue
        model.buffers.append(buffer)
        if entry is None:
            entry = schema.MetadataT()
            entry.name = name.encode("utf-8")
            model.metadata.append(entry)
        entry.buffer = len(model.buffers) - 1
    return flatbuffer_utils.convert_object_to_bytearray(model)


def _requantize_keeping_float(converter, calibration, flatbuffer: bytes, float_layers) -> bytes:
    """Quantize again with the ops of ``float_layers`` left in float32.

    Op outputs are named after the Keras layer path (``model/<layer>_1/...``);
    those ops are denylisted for TFLite's selective quantization.
    """
    pattern = re.compile("|".join(rf"(^|/){re.escape(name)}(_\d+)?/" for name in float_layers))
    model = read_model(flatbuffer)
    denylisted = [
        graph.tensors[op.outputs[0]].name
        for graph in model.subgraphs
        for op in graph.operators
        if pattern.search(graph.tensors[op.outputs[0]].name)
    ]
    if not denylisted:
        raise ExportError(f"no ops of float_layers {list(float_layers)} found in the graph")
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=denylisted)
    with warnings.catch_warnings():
        # The debugger runs TensorFlow's own, deprecated tf.lite.Interpreter.
        warnings.filterwarnings("ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=calibration, debug_options=options
        )
        return debugger.get_nondebug_quantized_model()


def _check_flatbuffer(model_bytes: bytes) -> None:
    model = read_model(model_bytes)
    names = model.op_names()
    builtin = set(BUILTIN_OPERATORS) - {"CUSTOM"}
    foreign = sorted({name for name in names if name not in builtin})
    if foreign:
        raise ExportError(f"converted graph has ops that are not TFLite builtins: {foreign}")
    operators = [(graph, op) for graph in model.subgraphs for op in graph.operators]
    for (graph, op), name in zip(operators, names, strict=True):
        if name != "RFFT2D":
            continue
        lengths = np.frombuffer(model.buffer_data(graph.tensors[op.inputs[1]]), dtype=np.int32)
        if not all(ops.is_power_of_two(int(n)) for n in lengths):
            raise ExportError(
                f"RFFT2D with fft_length {lengths.tolist()}: TFLite runs only "
                "power-of-two FFT lengths; use spela's backend='matmul'"
            )


def _in_model_order(details: list[dict]) -> list[dict]:
    """Output details in the Keras model's output order.

    The converter names outputs ``<call>:<position>`` but may list them in
    another order; sort by that position when every name has one.
    """
    positions = [re.fullmatch(r".*:(\d+)", d["name"]) for d in details]
    if all(positions):
        return [
            d
            for _, d in sorted(
                zip((int(p.group(1)) for p in positions), details, strict=True),
                key=lambda pair: pair[0],
            )
        ]
    return details


def run_tflite(
    model_bytes: bytes, inputs: np.ndarray | Sequence[np.ndarray], num_threads: int = 1
) -> np.ndarray | list[np.ndarray]:
    """Run a TFLite model with the LiteRT interpreter.

    Parameters
    ----------
    model_bytes : bytes
        A ``.tflite`` flatbuffer.
    inputs : array or sequence of arrays
        One array per model input, each ``(batch, ...)``. A model exported with
        a fixed batch of 1 is run once per example.
    num_threads : int, default 1
        Interpreter threads.

    Returns
    -------
    np.ndarray or list of np.ndarray
        The output (a list for several outputs), ``(batch, ...)``.

    Raises
    ------
    ImportError
        If ``ai-edge-litert`` is missing (``pip install "spela[litert]"``).
    TypeError
        If an input is not floating point (integer PCM, complex values and
        objects are refused rather than cast).
    ValueError
        If ``model_bytes`` is not a loadable model, the number of arrays, their
        rank or their sizes differ from the model's inputs, or a batch is empty.
    """
    interpreter = load_interpreter(model_bytes, num_threads)
    details = interpreter.get_input_details()
    if _is_one_array(inputs, len(details)):
        inputs = [inputs]
    if not isinstance(inputs, list | tuple):
        raise TypeError(
            f"inputs must be an array or a list of arrays, got {type(inputs).__name__}"
        )
    if len(details) != len(inputs):
        raise ValueError(f"model has {len(details)} inputs, got {len(inputs)} arrays in inputs")
    arrays = []
    for number, (detail, values) in enumerate(zip(details, inputs, strict=True)):
        name = "inputs" if len(details) == 1 else f"inputs[{number}]"
        signature = [None if d < 0 else int(d) for d in detail["shape_signature"]]
        array = _float_array(values, name, [None, *signature[1:]])
        if array.shape[0] == 0:
            raise ValueError(f"{name} has an empty batch (shape {array.shape})")
        arrays.append(array)
    if len({a.shape[0] for a in arrays}) > 1:
        raise ValueError(f"inputs differ in batch size: {[a.shape[0] for a in arrays]}")
    return _run_checked(model_bytes, interpreter, details, arrays, num_threads)


def _is_one_array(inputs, input_count: int) -> bool:
    """Whether ``inputs`` is one input's array (not a list of one array per input).

    For a one-input model a nested list of numbers is that input's array, while
    a list holding one array of rank 2 or more is the list of arrays.
    """
    if isinstance(inputs, np.ndarray | tf.Tensor):
        return True
    if input_count != 1 or not isinstance(inputs, list | tuple):
        return False
    return not (len(inputs) == 1 and np.ndim(inputs[0]) > 1)


def _run_checked(model_bytes, interpreter, details, arrays, num_threads):
    batch = arrays[0].shape[0]
    fixed_batch = all(d["shape_signature"][0] != -1 for d in details)
    if fixed_batch and details[0]["shape"][0] != batch:
        step = int(details[0]["shape"][0])
        pieces = [
            run_tflite(model_bytes, [a[i : i + step] for a in arrays], num_threads)
            for i in range(0, batch, step)
        ]
        if isinstance(pieces[0], list):
            return [np.concatenate(parts) for parts in zip(*pieces, strict=True)]
        return np.concatenate(pieces)
    for detail, array in zip(details, arrays, strict=True):
        if tuple(detail["shape"]) != array.shape:
            interpreter.resize_tensor_input(detail["index"], array.shape)
    try:
        interpreter.allocate_tensors()
        for detail, array in zip(details, arrays, strict=True):
            interpreter.set_tensor(detail["index"], array.astype(detail["dtype"]))
        interpreter.invoke()
    except RuntimeError as error:
        raise ValueError(f"the TFLite model failed to run: {error}") from None
    details = _in_model_order(interpreter.get_output_details())
    outputs = [interpreter.get_tensor(d["index"]) for d in details]
    return outputs[0] if len(outputs) == 1 else outputs
