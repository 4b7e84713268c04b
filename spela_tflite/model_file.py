"""Reading ``.tflite`` files (TFLite flatbuffers) in pure Python, bounds-checked.

Only the parts of the schema that spela needs are read: operator codes,
subgraphs with their tensors, inputs, outputs and operators, and buffers.
Every offset is checked against the file's size before it is followed, so a
damaged or hostile file raises ``ValueError`` instead of reading out of
bounds. No TensorFlow or LiteRT import is needed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: Names of TFLite's builtin operators, indexed by their ``BuiltinOperator`` code
#: (TensorFlow Lite schema version 3).
BUILTIN_OPERATORS: tuple[str, ...] = (
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD",
    "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE",
    "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE",
    "STABLEHLO_ABS",
    "STABLEHLO_AND",
    "STABLEHLO_COSINE",
    "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR",
    "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM",
    "STABLEHLO_NEGATE",
    "STABLEHLO_OR",
    "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT",
    "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH",
    "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD",
    "STABLEHLO_IOTA",
    "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT",
    "STABLEHLO_WHILE",
    "STABLEHLO_GATHER",
    "STABLEHLO_TRANSPOSE",
    "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
    "STABLEHLO_COMPOSITE",
    "STABLEHLO_SHIFT_LEFT",
    "STABLEHLO_CBRT",
    "STABLEHLO_CASE",
)

#: NumPy dtype names of TFLite's ``TensorType`` codes (``None`` where NumPy has none).
TENSOR_TYPES: tuple[str | None, ...] = (
    "float32", "float16", "int32", "uint8", "int64", "str", "bool", "int16", "complex64",
    "int8", "float64", "complex128", "uint64", None, None, "uint32", "uint16", None, None,
    None, None,
)  # fmt: skip

#: Names of TFLite's ``TensorType`` codes, for types without a NumPy dtype.
TENSOR_TYPE_NAMES: tuple[str, ...] = (
    "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64",
    "INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16",
    "INT4", "BFLOAT16", "INT2", "UINT4",
)  # fmt: skip


@dataclass(frozen=True)
class Tensor:
    """One tensor of a subgraph.

    Attributes
    ----------
    name : str
        The converter's name (Keras layer path, or ``serving_default_<input>:0``).
    shape : tuple of int
        Static shape; dimensions unknown at conversion time are 1 here.
    shape_signature : tuple of int
        Shape with ``-1`` for dimensions unknown at conversion time (equal to
        ``shape`` when the file stores none).
    type_code : int
        TFLite ``TensorType`` code; see `TENSOR_TYPE_NAMES`.
    buffer : int
        Index into `ModelFile.buffers` (0: the empty buffer).
    """

    name: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...]
    type_code: int
    buffer: int

    @property
    def type_name(self) -> str:
        """The NumPy dtype name (``"float32"``, ``"int8"``), else the TFLite type name."""
        if self.type_code < len(TENSOR_TYPES) and TENSOR_TYPES[self.type_code] is not None:
            return TENSOR_TYPES[self.type_code]
        if self.type_code < len(TENSOR_TYPE_NAMES):
            return TENSOR_TYPE_NAMES[self.type_code]
        return f"TYPE_{self.type_code}"


@dataclass(frozen=True)
class Operator:
    """One operator of a subgraph: its operator-code index and tensor indices (-1: none)."""

    opcode_index: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True)
class Subgraph:
    """A subgraph: tensors, the indices of its inputs and outputs, operators in run order."""

    name: str
    tensors: tuple[Tensor, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    operators: tuple[Operator, ...]


@dataclass(frozen=True)
class ModelFile:
    """The parts of a ``.tflite`` file spela reads; see `read_model`.

    Attributes
    ----------
    version : int
        Schema version (3 for every current converter).
    operator_names : tuple of str
        One name per operator code: the builtin name (``"RFFT2D"``) or, for
        custom and Flex ops, the custom name (``"FlexConj"``).
    subgraphs : tuple of Subgraph
        Subgraph 0 is the model's main graph.
    buffers : tuple of bytes
        Constant data of each buffer (empty when none is stored inline).
    metadata_buffers : tuple of (str, int)
        The file's named metadata entries, in file order: each name with the
        index of the buffer that holds its bytes (see `metadata`).
    """

    version: int
    operator_names: tuple[str, ...]
    subgraphs: tuple[Subgraph, ...]
    buffers: tuple[bytes, ...]
    metadata_buffers: tuple[tuple[str, int], ...] = ()

    def metadata(self) -> dict[str, bytes]:
        """Named metadata entries: name to bytes, in file order.

        TFLite's converter writes ``min_runtime_version`` and
        ``CONVERSION_METADATA``; `spela.export.with_metadata` adds others.
        Where a damaged file names one entry twice, the last one counts.
        """
        return {name: self.buffers[index] for name, index in self.metadata_buffers}

    def op_names(self) -> list[str]:
        """Names of all operators of all subgraphs, in execution order."""
        return [
            self.operator_names[op.opcode_index]
            for graph in self.subgraphs
            for op in graph.operators
        ]

    def buffer_data(self, tensor: Tensor) -> bytes:
        """The constant bytes behind ``tensor`` (empty for a computed tensor)."""
        return self.buffers[tensor.buffer]


class _Reader:
    """Bounds-checked access to flatbuffer tables, vectors and strings."""

    def __init__(self, data: bytes):
        self.data = data

    def _unpack(self, form: str, position: int, what: str):
        size = struct.calcsize(form)
        if not 0 <= position <= len(self.data) - size:
            raise ValueError(f"{what} at byte {position} lies outside the {len(self.data)} bytes")
        return struct.unpack_from(form, self.data, position)[0]

    def root(self) -> int:
        return self._unpack("<I", 0, "the root table offset")

    def _field(self, table: int, field: int, what: str) -> int | None:
        """Absolute position of ``field`` of ``table``, or ``None`` if it is absent."""
        vtable = table - self._unpack("<i", table, f"{what}'s vtable offset")
        vtable_size = self._unpack("<H", vtable, f"{what}'s vtable")
        if vtable_size < 4 or vtable_size % 2:
            raise ValueError(f"{what}'s vtable has size {vtable_size}")
        if 4 + 2 * field >= vtable_size:
            return None
        offset = self._unpack("<H", vtable + 4 + 2 * field, f"{what}'s vtable")
        return table + offset if offset else None

    def scalar(self, table: int, field: int, form: str, default, what: str):
        position = self._field(table, field, what)
        return default if position is None else self._unpack(form, position, what)

    def _target(self, table: int, field: int, what: str) -> int | None:
        position = self._field(table, field, what)
        if position is None:
            return None
        return position + self._unpack("<I", position, what)

    def table(self, table: int, field: int, what: str) -> int | None:
        return self._target(table, field, what)

    def vector(self, table: int, field: int, item_size: int, what: str) -> tuple[int, int]:
        """``(position of the first element, element count)``; ``(0, 0)`` if absent."""
        start = self._target(table, field, what)
        if start is None:
            return 0, 0
        count = self._unpack("<I", start, what)
        if count * item_size > len(self.data) - start - 4:
            raise ValueError(f"{what} claims {count} elements, more than the file holds")
        return start + 4, count

    def scalars(self, table: int, field: int, form: str, what: str) -> tuple:
        start, count = self.vector(table, field, struct.calcsize(form), what)
        return struct.unpack_from(f"<{count}{form}", self.data, start) if count else ()

    def tables(self, table: int, field: int, what: str) -> list[int]:
        start, count = self.vector(table, field, 4, what)
        return [start + 4 * i + self._unpack("<I", start + 4 * i, what) for i in range(count)]

    def string(self, table: int, field: int, what: str) -> str:
        return self.raw_bytes(table, field, what).decode("utf-8", errors="replace")

    def raw_bytes(self, table: int, field: int, what: str) -> bytes:
        start, count = self.vector(table, field, 1, what)
        return self.data[start : start + count]


def _tensor(reader: _Reader, table: int) -> Tensor:
    shape = reader.scalars(table, 0, "i", "a tensor's shape")
    signature = reader.scalars(table, 7, "i", "a tensor's shape signature")
    return Tensor(
        name=reader.string(table, 3, "a tensor's name"),
        shape=shape,
        shape_signature=signature or shape,
        type_code=reader.scalar(table, 1, "<b", 0, "a tensor's type"),
        buffer=reader.scalar(table, 2, "<I", 0, "a tensor's buffer"),
    )


def _operator(reader: _Reader, table: int) -> Operator:
    return Operator(
        opcode_index=reader.scalar(table, 0, "<I", 0, "an operator's code index"),
        inputs=reader.scalars(table, 1, "i", "an operator's inputs"),
        outputs=reader.scalars(table, 2, "i", "an operator's outputs"),
    )


def _subgraph(reader: _Reader, table: int) -> Subgraph:
    return Subgraph(
        name=reader.string(table, 4, "a subgraph's name"),
        tensors=tuple(_tensor(reader, t) for t in reader.tables(table, 0, "a tensor list")),
        inputs=reader.scalars(table, 1, "i", "a subgraph's inputs"),
        outputs=reader.scalars(table, 2, "i", "a subgraph's outputs"),
        operators=tuple(_operator(reader, t) for t in reader.tables(table, 3, "an operator list")),
    )


def _operator_name(reader: _Reader, table: int) -> str:
    deprecated = reader.scalar(table, 0, "<b", 0, "an operator code")
    code = max(deprecated, reader.scalar(table, 3, "<i", 0, "an operator code"))
    if 0 <= code < len(BUILTIN_OPERATORS) and BUILTIN_OPERATORS[code] != "CUSTOM":
        return BUILTIN_OPERATORS[code]
    if code == BUILTIN_OPERATORS.index("CUSTOM"):
        return reader.string(table, 1, "a custom operator's name")
    return f"UNKNOWN_{code}"


def check_model_bytes(model_bytes) -> bytes:
    """``model_bytes`` as ``bytes``, if it looks like a TFLite flatbuffer.

    Raises
    ------
    TypeError
        If ``model_bytes`` is not bytes, bytearray or memoryview.
    ValueError
        If it lacks the ``TFL3`` file identifier at byte 4.
    """
    if not isinstance(model_bytes, bytes | bytearray | memoryview):
        raise TypeError(
            f"model_bytes must be the bytes of a .tflite file, got {type(model_bytes).__name__}"
        )
    model_bytes = bytes(model_bytes)
    if len(model_bytes) < 8 or model_bytes[4:8] != b"TFL3":
        raise ValueError(
            f"model_bytes ({len(model_bytes)} bytes) is not a TFLite flatbuffer "
            "(no 'TFL3' identifier at byte 4)"
        )
    return model_bytes


def _check_indices(model: ModelFile) -> None:
    """Every operator code, tensor and buffer index inside its list."""
    if not model.subgraphs:
        raise ValueError("no subgraphs")
    for graph in model.subgraphs:
        count = len(graph.tensors)
        for op in graph.operators:
            if op.opcode_index >= len(model.operator_names):
                raise ValueError(f"operator code {op.opcode_index} of {len(model.operator_names)}")
        indices = [*graph.inputs, *graph.outputs]
        indices += [i for op in graph.operators for i in (*op.inputs, *op.outputs)]
        if any(not -1 <= i < count for i in indices):
            raise ValueError(f"a tensor index outside the {count} tensors")
        for tensor in graph.tensors:
            if tensor.buffer >= max(len(model.buffers), 1):
                raise ValueError(f"buffer {tensor.buffer} of {len(model.buffers)}")
            if any(d < 0 for d in tensor.shape):
                raise ValueError(f"tensor shape {list(tensor.shape)}")
    for name, index in model.metadata_buffers:
        if index >= len(model.buffers):
            raise ValueError(f"metadata {name!r} in buffer {index} of {len(model.buffers)}")


def read_model(model_bytes) -> ModelFile:
    """Read and check a ``.tflite`` flatbuffer.

    Parameters
    ----------
    model_bytes : bytes
        The contents of a ``.tflite`` file.

    Returns
    -------
    ModelFile
        Operator names, subgraphs and buffers; every index in it is checked to
        point inside its list (LiteRT's interpreter does not check all of this
        and can crash the process on a damaged file).

    Raises
    ------
    TypeError
        If ``model_bytes`` is not bytes.
    ValueError
        If it is not a TFLite flatbuffer, or a damaged one.
    """
    data = check_model_bytes(model_bytes)
    reader = _Reader(data)
    try:
        root = reader.root()
        model = ModelFile(
            version=reader.scalar(root, 0, "<I", 0, "the model version"),
            operator_names=tuple(
                _operator_name(reader, t) for t in reader.tables(root, 1, "the operator codes")
            ),
            subgraphs=tuple(_subgraph(reader, t) for t in reader.tables(root, 2, "subgraphs")),
            buffers=tuple(
                reader.raw_bytes(t, 0, "a buffer's data")
                for t in reader.tables(root, 4, "the buffer list")
            ),
            metadata_buffers=tuple(
                (
                    reader.string(t, 0, "a metadata name"),
                    reader.scalar(t, 1, "<I", 0, "a metadata buffer index"),
                )
                for t in reader.tables(root, 6, "the metadata list")
            ),
        )
        _check_indices(model)
    except (ValueError, struct.error, RecursionError) as error:
        raise ValueError(f"model_bytes is a damaged TFLite flatbuffer ({error})") from None
    return model
