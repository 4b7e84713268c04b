"""The ``spela`` command: inspect, export and time TFLite models."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_model_bytes(path: str) -> bytes:
    file = Path(path)
    if not file.is_file():
        raise SystemExit(f"spela: error: model file {path!r} does not exist")
    return file.read_bytes()


def _inspect(args) -> None:
    from spela.export import load_interpreter, tflite_op_names

    model_bytes = _read_model_bytes(args.model)
    interpreter = load_interpreter(model_bytes)
    for kind, details in (
        ("input", interpreter.get_input_details()),
        ("output", interpreter.get_output_details()),
    ):
        for detail in details:
            print(
                f"{kind:6s} {detail['name']}: shape {detail['shape_signature'].tolist()} "
                f"{detail['dtype'].__name__}"
            )
    names = tflite_op_names(model_bytes)
    print("ops (execution order): " + " ".join(names))
    counts = ", ".join(f"{name} x{count}" for name, count in sorted(Counter(names).items()))
    print(f"{len(names)} ops: {counts}; size {len(model_bytes) / 1024:.1f} KiB")


def _export(args) -> None:
    import keras
    import numpy as np

    import spela  # noqa: F401  (registers the layers for loading)
    from spela.export import to_tflite

    source = Path(args.model)
    if not source.is_file():
        raise SystemExit(f"spela: error: model file {args.model!r} does not exist")
    model = keras.models.load_model(source)
    representative = None
    if args.representative is not None:
        representative = np.load(args.representative)
    model_bytes = to_tflite(
        model,
        quantize=args.quantize,
        representative_data=representative,
        batch_size=args.batch_size,
    )
    _write_atomically(Path(args.out), model_bytes)
    print(f"wrote {args.out} ({len(model_bytes) / 1024:.1f} KiB, quantize={args.quantize})")


def _benchmark(args) -> None:
    import numpy as np

    from spela.export import load_interpreter

    model_bytes = _read_model_bytes(args.model)
    interpreter = load_interpreter(model_bytes, args.threads)
    interpreter.allocate_tensors()
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``spela`` command."""
    parser = argparse.ArgumentParser(
        prog="spela", description="Inspect, export and time TFLite audio models."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser("inspect", help="list a .tflite model's inputs, outputs, ops")
    inspect.add_argument("model", help="path of a .tflite file")
    inspect.set_defaults(handler=_inspect)

    export = commands.add_parser("export", help="convert a .keras model to .tflite")
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
        type=int,
        default=1,
        help="fixed batch size of the exported graph (default 1)",
    )
    export.set_defaults(handler=_export)

    benchmark = commands.add_parser("benchmark", help="time a .tflite model on random input")
    benchmark.add_argument("model", help="path of a .tflite file")
    benchmark.add_argument("--runs", type=int, default=100, help="timed runs (default 100)")
    benchmark.add_argument("--warmup", type=int, default=10, help="untimed runs (default 10)")
    benchmark.add_argument("--threads", type=int, default=1, help="interpreter threads")
    benchmark.set_defaults(handler=_benchmark)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spela`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (ValueError, ImportError) as error:
        print(f"spela: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
