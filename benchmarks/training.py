"""Training at scale: peak memory against dataset size, input rates, and one against two workers.

Usage: ``python benchmarks/training.py [--sizes 1500 15000 75000] [--workdir DIR]
[--out benchmarks/training_results.md]``.

Synthetic datasets of each size (5 speakers) are written once under
``--workdir`` and kept for later runs. Every training run is one epoch of the
speaker example in its own process, whose peak resident memory (``ru_maxrss``)
is its own:

- from files (``--stream``) at every size, and from memory at the sizes of
  ``--memory-sizes`` (75,000 clips from memory peak near 14 GB);
- one worker against two ``MultiWorkerMirroredStrategy`` workers on
  127.0.0.1 (``--workers-size`` clips, two epochs; the second is timed).

It also times ``data.clip_stream`` alone (decoding, repairing and fitting
files, no augmentation). The results are printed and written as a Markdown
table to ``--out``, which the "Training on many machines" page includes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from speaker_recognition import distribute

ROOT = Path(__file__).resolve().parents[1]
SPEAKERS = 5
# Runs one training in this process and prints its peak memory as the last line.
TRAIN_AND_MEASURE = (
    "import json, resource, sys\n"
    "from speaker_recognition import train\n"
    "status = train.main(sys.argv[1:])\n"
    "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
    "print(json.dumps({'status': status, 'peak_rss_bytes': peak}))\n"
)


def dataset(workdir: Path, clips: int) -> Path:
    """A synthetic dataset of ``clips`` clips (5 speakers), written once and reused."""
    folder = workdir / f"synthetic_{clips}" / "16000_pcm_speeches"
    if not (folder.parent / "complete").exists():
        shutil.rmtree(folder.parent, ignore_errors=True)
        command = [sys.executable, "-m", "speaker_recognition.synthetic", str(folder)]
        command += ["--clips-per-speaker", str(clips // SPEAKERS)]
        subprocess.run(command, check=True)
        (folder.parent / "complete").touch()
    return folder


def train_process(data_dir: Path, out: Path, arguments: list[str], tf_config=None):
    """Start one training process; its last output line is its status and peak memory."""
    environment = dict(os.environ)
    environment.pop("TF_CONFIG", None)
    if tf_config is not None:
        environment["TF_CONFIG"] = json.dumps(tf_config)
    command = [sys.executable, "-c", TRAIN_AND_MEASURE, "--data-dir", str(data_dir)]
    command += ["--out", str(out), "--seed", "0", *arguments]
    return subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(process) -> dict:
    """Wait for a training process; its measurement, or an error with its output's end."""
    output, _ = process.communicate()
    lines = output.strip().splitlines()
    try:
        measured = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        measured = {"status": None}
    if process.returncode != 0 or measured.get("status") != 0:
        raise RuntimeError(f"training failed:\n{output[-3000:]}")
    return measured


def one_run(data_dir: Path, out: Path, arguments: list[str]) -> dict:
    """Train one epoch in a fresh process: peak memory, epoch time and rates."""
    measured = finish(train_process(data_dir, out, ["--epochs", "1", *arguments]))
    report = json.loads((out / "report.json").read_text())
    return {**measured, **report}


def workers_run(data_dir: Path, out: Path, workers: int, epochs: int) -> dict:
    """Train on ``workers`` local processes (MultiWorkerMirroredStrategy); the chief's report."""
    processes = [
        train_process(
            data_dir,
            out / f"worker{index}",
            ["--epochs", str(epochs), "--stream", "--distribute", "multi-worker"],
            tf_config,
        )
        for index, tf_config in enumerate(distribute.local_cluster(workers))
    ]
    measured = [finish(process) for process in processes]
    report = json.loads((out / "worker0" / "report.json").read_text())
    return {**measured[0], **report}


def stream_rate(data_dir: Path, limit: int = 3000) -> float:
    """Clips per second that ``data.clip_stream`` decodes from files, with no augmentation."""
    from spela_tflite.quiet import import_tensorflow_quietly

    import_tensorflow_quietly(False)
    from speaker_recognition import data

    files, labels, _ = data.clip_files(data_dir)
    files, labels = files[:limit], labels[:limit]
    started = time.perf_counter()
    count = sum(1 for _ in data.clip_stream(files, labels).batch(64).unbatch())
    return count / (time.perf_counter() - started)


def table(results: dict) -> str:
    """The Markdown written to ``--out``."""
    lines = [
        f"Measured by `python benchmarks/training.py` on {results['machine']}, "
        "one epoch of the speaker example per row, each in its own process.",
        "",
        "| clips | input | peak memory | epoch | training | input pipeline |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for row in results["sizes"]:
        lines.append(
            f"| {row['clips']:,} | {row['input']} | {row['peak_rss_bytes'] / 2**30:.2f} GB "
            f"| {row['epoch_seconds'][0]:.0f} s | {row['training_clips_per_second']:,.0f} clips/s "
            f"| {row['pipeline_clips_per_second']:,.0f} clips/s |"
        )
    lines += [
        "",
        f"Decoding alone (`data.clip_stream`, no augmentation): "
        f"{results['stream_clips_per_second']:,.0f} clips/s.",
        "",
        "| workers | replicas | training (second epoch) | scaling |",
        "|---:|---:|---:|---:|",
    ]
    base = results["workers"][0]["training_clips_per_second"]
    for row in results["workers"]:
        rate = row["training_clips_per_second"]
        lines.append(
            f"| {row['workers']} | {row['replicas']} | {rate:,.0f} clips/s | {rate / base:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1500, 15000, 75000])
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1500, 15000, 75000])
    parser.add_argument("--workers-size", type=int, default=1500)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "spela_training"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "training_results.md"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    runs = workdir / "runs"
    shutil.rmtree(runs, ignore_errors=True)

    results = {"machine": f"{os.cpu_count()} CPU cores ({platform.machine()})", "sizes": []}
    plan = [(size, "files") for size in args.sizes]
    plan += [(size, "memory") for size in args.memory_sizes]
    for size, source in tqdm(sorted(plan), desc="one-epoch runs", unit="run"):
        data_dir = dataset(workdir, size)
        arguments = ["--stream"] if source == "files" else []
        row = one_run(data_dir, runs / f"{source}_{size}", arguments)
        row.update(clips=size, input=source)
        results["sizes"].append(row)
        print(
            f"{size:>7,} clips from {source}: peak {row['peak_rss_bytes'] / 2**30:.2f} GB, "
            f"epoch {row['epoch_seconds'][0]:.0f} s",
            flush=True,
        )
    results["stream_clips_per_second"] = stream_rate(dataset(workdir, args.workers_size))
    small = dataset(workdir, args.workers_size)
    results["workers"] = [
        workers_run(small, runs / f"workers_{count}", count, epochs=2) for count in (1, 2)
    ]
    text = table(results)
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
