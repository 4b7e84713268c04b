"""The ``spela`` command: inspect, export and time TFLite models.

Only ``spela export`` imports TensorFlow (quietly, unless ``--verbose``), so
``spela --help``, ``--version``, ``inspect`` and ``benchmark`` start at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from spela_tflite.interpreter import load_interpreter
from spela_tflite.model_file import ModelFile, read_model
from spela_tflite.quiet import tensorflow_quietly


class CommandError(Exception):
    """A user error of the ``spela`` command; its message is printed as ``spela: error: ...``."""


def _permissions_from_umask() -> int:
    """The mode a new file gets from ``open``: ``0o666`` less the process umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and move it into place.

    The file gets the permissions the umask gives new files, and the temporary
    file is removed if anything (an error, Ctrl-C, SIGTERM) interrupts the write.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except (FileExistsError, NotADirectoryError):
        raise CommandError(f"cannot write {path}: a part of its folder path is a file") from None
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        os.fchmod(handle, _permissions_from_umask())
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _existing_file(path: str, kind: str) -> Path:
    file = Path(path)
    if file.is_dir():
        raise CommandError(f"{kind} {path!r} is a directory, not a file")
    if not file.is_file():
        raise CommandError(f"{kind} {path!r} does not exist")
    return file


def _read_model(path: str) -> tuple[bytes, ModelFile]:
    """The bytes of a ``.tflite`` file and what `read_model` reads from them."""
    model_bytes = _existing_file(path, "model file").read_bytes()
    try:
        return model_bytes, read_model(model_bytes)
    except ValueError as error:
        raise CommandError(f"model file {path!r}: {error}") from None


def _load_representative(path: str):
    import numpy as np

    file = _existing_file(path, "--representative file")
    try:
        values = np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise CommandError(
            f"--representative file {path!r} is not a .npy array: {error}"
        ) from None
    if not isinstance(values, np.ndarray):
        values.close()
        raise CommandError(
            f"--representative file {path!r} is an .npz archive; save one array with np.save"
        )
    return values


def _inspect(args) -> None:
    model_bytes, model = _read_model(args.model)
    if args.metadata is not None:
        entries = model.metadata()
        if args.metadata not in entries:
            raise CommandError(
                f"model file {args.model!r} has no metadata entry {args.metadata!r}; "
                f"it has {sorted(entries)}"
            )
        sys.stdout.flush()
        sys.stdout.buffer.write(entries[args.metadata])
        sys.stdout.buffer.flush()
        return
    graph = model.subgraphs[0]
    for kind, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for tensor in (graph.tensors[i] for i in indices):
            shape = [int(d) for d in tensor.shape_signature]
            print(f"{kind:6s} {tensor.name}: shape {shape} {tensor.type_name}")
    names = model.op_names()
    print("ops (execution order): " + " ".join(names))
    counts = ", ".join(f"{name} x{count}" for name, count in sorted(Counter(names).items()))
    print(f"{len(names)} ops: {counts}; size {len(model_bytes) / 1024:.1f} KiB")
    entries = ", ".join(f"{name} ({len(data)} bytes)" for name, data in model.metadata().items())
    print(f"metadata: {entries or 'none'}")


def _export(args) -> None:
    if args.representative is not None and args.quantize != "int8":
        raise CommandError("--representative applies to --quantize int8 only")
    if args.quantize == "int8" and args.representative is None:
        raise CommandError("--quantize int8 needs --representative (a .npy of typical inputs)")
    if Path(args.out).is_dir():
        raise CommandError(f"output {args.out!r} is a directory; give a .tflite file name")
    representative = None
    if args.representative is not None:
        representative = _load_representative(args.representative)
    metadata = dict(_metadata_entry(given) for given in args.metadata)
    with tensorflow_quietly(args.verbose):
        from spela.export import load_keras_model, to_tflite

        model = load_keras_model(args.model)
        model_bytes = to_tflite(
            model,
            quantize=args.quantize,
            representative_data=representative,
            batch_size=args.batch_size,
        )
        if metadata:
            from spela.export import with_metadata

            model_bytes = with_metadata(model_bytes, metadata)
    _write_atomically(Path(args.out), model_bytes)
    print(f"wrote {args.out} ({len(model_bytes) / 1024:.1f} KiB, quantize={args.quantize})")


def _metadata_entry(given: str) -> tuple[str, bytes]:
    """``(name, bytes of the file)`` from a ``--metadata NAME=FILE`` argument."""
    name, separator, path = given.partition("=")
    if not separator or not name or not path:
        raise CommandError(f"--metadata {given!r} must be NAME=FILE, e.g. labels=labels.txt")
    return name, _existing_file(path, f"--metadata {name} file").read_bytes()


def _benchmark(args) -> None:
    import numpy as np

    model_bytes, _ = _read_model(args.model)
    try:
        with tensorflow_quietly(args.verbose):
            interpreter = load_interpreter(model_bytes, args.threads)
    except (ValueError, RuntimeError) as error:
        raise CommandError(f"model file {args.model!r}: {error}") from None
    rng = np.random.default_rng(0)
    for detail in interpreter.get_input_details():
        values = rng.uniform(-0.5, 0.5, detail["shape"]).astype(detail["dtype"])
        interpreter.set_tensor(detail["index"], values)
    for _ in range(args.warmup):
        interpreter.invoke()
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        interpreter.invoke()
        timings.append(time.perf_counter() - start)
    milliseconds = np.array(timings) * 1e3
    print(
        f"{args.model}: median {np.median(milliseconds):.3f} ms, p90 "
        f"{np.percentile(milliseconds, 90):.3f} ms over {args.runs} runs, "
        f"{args.threads} thread(s)"
    )


def _integer_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def _installed_version() -> str:
    """The installed distribution's version, read without importing TensorFlow."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spela")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``spela`` command."""
    parser = argparse.ArgumentParser(
        prog="spela", description="Inspect, export and time TFLite audio models."
    )
    parser.add_argument("--version", action="version", version=f"spela {_installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser("inspect", help="list a .tflite model's inputs, outputs, ops")
    inspect.add_argument("model", help="path of a .tflite file")
    inspect.add_argument(
        "--metadata",
        default=None,
        metavar="NAME",
        help="write the bytes of the metadata entry NAME to standard output instead",
    )
    inspect.set_defaults(handler=_inspect)

    logging = argparse.ArgumentParser(add_help=False)
    logging.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's and LiteRT's logging (hidden by default)",
    )
    export = commands.add_parser(
        "export", parents=[logging], help="convert a .keras model to .tflite"
    )
    export.add_argument("model", help="path of a .keras model file")
    export.add_argument("out", help="path of the .tflite file to write")
    export.add_argument(
        "--quantize",
        choices=["float16", "dynamic", "int8"],
        default=None,
        help="quantization mode (default: none, float32)",
    )
    export.add_argument(
        "--representative",
        default=None,
        help=".npy array of typical inputs (examples, ...), needed for int8",
    )
    export.add_argument(
        "--batch-size",
        type=_integer_at_least(1),
        default=1,
        help="fixed batch size of the exported graph (default 1)",
    )
    export.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="store FILE's bytes in the model as the metadata entry NAME (repeatable; "
        "spela inspect lists them)",
    )
    export.set_defaults(handler=_export)

    benchmark = commands.add_parser(
        "benchmark", parents=[logging], help="time a .tflite model on random input"
    )
    benchmark.add_argument("model", help="path of a .tflite file")
    benchmark.add_argument(
        "--runs", type=_integer_at_least(1), default=100, help="timed runs (default 100)"
    )
    benchmark.add_argument(
        "--warmup", type=_integer_at_least(0), default=10, help="untimed runs (default 10)"
    )
    benchmark.add_argument(
        "--threads", type=_integer_at_least(1), default=1, help="interpreter threads (default 1)"
    )
    benchmark.set_defaults(handler=_benchmark)
    return parser


def _describe(error: BaseException) -> str:
    """One line for a user error; OS errors name their file."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spela`` command; returns the exit status.

    User errors (bad files, bad arguments, models that cannot be converted)
    print one ``spela: error: ...`` line and return 1; Ctrl-C or SIGTERM
    return 130 after removing any half-written output.
    """
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        args.handler(args)
    except (CommandError, ValueError, TypeError, OSError, ImportError) as error:
        print(f"spela: error: {_describe(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("spela: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
