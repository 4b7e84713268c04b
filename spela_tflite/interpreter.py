"""Running ``.tflite`` files on LiteRT, after checking them."""

from __future__ import annotations

from spela_tflite._checks import _check_positive_int
from spela_tflite.model_file import check_model_bytes, read_model
from spela_tflite.quiet import logging_hidden, tensorflow_quietly

__all__ = ["load_interpreter", "tflite_op_names"]


def tflite_op_names(model_bytes: bytes) -> list[str]:
    """Names of the operators of a TFLite model, in execution order.

    Parameters
    ----------
    model_bytes : bytes
        A ``.tflite`` flatbuffer.

    Returns
    -------
    list of str
        One name per operator (``"CONV_2D"``, ``"RFFT2D"``, ...), all subgraphs;
        custom and Flex ops appear under their custom names (``"FlexConj"``).

    Raises
    ------
    TypeError
        If ``model_bytes`` is not bytes.
    ValueError
        If it is not a readable TFLite flatbuffer.
    """
    return read_model(model_bytes).op_names()


def load_interpreter(model_bytes: bytes, num_threads: int = 1):
    """A LiteRT ``Interpreter`` for a ``.tflite`` flatbuffer, with its tensors allocated.

    To run other input shapes, resize the inputs and call ``allocate_tensors``
    again.

    The file is read and checked first (`spela_tflite.read_model`):
    LiteRT's interpreter can crash the process on a damaged file.

    Parameters
    ----------
    model_bytes : bytes
        A ``.tflite`` flatbuffer.
    num_threads : int, default 1
        Interpreter threads, 1 to 1024.

    Returns
    -------
    ai_edge_litert.interpreter.Interpreter

    Raises
    ------
    ImportError
        If ``ai-edge-litert`` is missing (``pip install "spela[litert]"``).
    TypeError, ValueError
        If ``model_bytes`` is not a loadable TFLite flatbuffer, or
        ``num_threads`` is not a positive integer.
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise ImportError(
            "running TFLite models needs the LiteRT interpreter: "
            "pip install 'spela[litert]' (the ai-edge-litert package)"
        ) from error
    model_bytes = check_model_bytes(model_bytes)
    _check_positive_int("num_threads", num_threads, maximum=1024)
    read_model(model_bytes)
    try:
        with tensorflow_quietly(verbose=not logging_hidden()):
            interpreter = Interpreter(model_content=model_bytes, num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError, UnicodeDecodeError) as error:
        raise ValueError(f"model_bytes is not a loadable TFLite model: {error}") from None
    return interpreter
