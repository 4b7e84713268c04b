"""The part of spela that needs no TensorFlow: ``.tflite`` files and the ``spela`` command.

``spela_tflite`` reads TFLite flatbuffers in pure Python (`read_model`),
runs them on LiteRT (`load_interpreter`), and holds the ``spela``
command, which imports TensorFlow only for ``spela export``. It installs with
``spela``; ``spela.export`` re-exports `tflite_op_names` and
`load_interpreter`.
"""

from spela_tflite.interpreter import load_interpreter, tflite_op_names
from spela_tflite.model_file import ModelFile, Operator, Subgraph, Tensor, read_model

__all__ = [
    "ModelFile",
    "Operator",
    "Subgraph",
    "Tensor",
    "load_interpreter",
    "read_model",
    "tflite_op_names",
]
