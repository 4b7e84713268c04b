"""Confusion matrices, per-class scores, tables and plots for training reports."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from speaker_recognition.files import atomic_path


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_classes, n_classes)`` counts: row = true speaker, column = predicted."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth), np.asarray(predicted)), 1)
    return matrix


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision (column-wise) and recall (row-wise); 0 where undefined."""
    hits = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    return precision, recall


def confusion_table(matrix: np.ndarray, labels: list[str]) -> str:
    """The confusion matrix as an aligned text table with recall per row."""
    width = max(6, *(len(name) for name in labels))
    header = " " * width + " | " + " ".join(f"{name[:width]:>{width}}" for name in labels)
    lines = [header + " | recall", "-" * (len(header) + 9)]
    _, recall = precision_recall(matrix)
    for name, row, row_recall in zip(labels, matrix, recall, strict=True):
        cells = " ".join(f"{count:>{width}d}" for count in row)
        lines.append(f"{name[:width]:>{width}} | {cells} | {row_recall:6.1%}")
    return "\n".join(lines)


def confused_pairs(matrix: np.ndarray, labels: list[str], count: int = 3) -> list[dict]:
    """The pairs of speakers most often taken for each other, most errors first.

    Parameters
    ----------
    matrix : ndarray
        ``(n_classes, n_classes)`` counts, row = true speaker, column = predicted
        (``confusion_matrix``).
    labels : list of str
        The ``n_classes`` speaker names, in the matrix's order.
    count : int, default 3
        At most this many pairs, >= 1; pairs without errors are left out.

    Returns
    -------
    list of dict
        ``{"speakers": [a, b], "errors": n, "share": s}``: ``n`` clips of either
        speaker taken for the other (both directions), ``s`` their share of all
        the matrix's errors, in [0, 1]. Ties keep the speakers' order.
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an integer >= 1, got {count!r}")
    matrix = np.asarray(matrix)
    errors = int(matrix.sum() - np.trace(matrix))
    both_ways = np.triu(matrix + matrix.T, k=1)
    rows, columns = np.nonzero(both_ways)
    order = np.argsort(-both_ways[rows, columns], kind="stable")[:count]
    return [
        {
            "speakers": [labels[rows[i]], labels[columns[i]]],
            "errors": int(both_ways[rows[i], columns[i]]),
            "share": float(both_ways[rows[i], columns[i]] / errors),
        }
        for i in order
    ]


def confused_pairs_line(pairs: list[dict]) -> str:
    """``confused_pairs`` as one line: ``"A / B 47 (58% of errors), C / D 9 (11%)"``."""
    if not pairs:
        return "no errors"
    parts = [
        f"{' / '.join(pair['speakers'])} {pair['errors']} ({pair['share']:.0%}"
        + (" of errors)" if index == 0 else ")")
        for index, pair in enumerate(pairs)
    ]
    return ", ".join(parts)


def class_report(matrix: np.ndarray, labels: list[str]) -> str:
    """Per-class precision, recall and support as a text table."""
    precision, recall = precision_recall(matrix)
    width = max(7, *(len(name) for name in labels))
    lines = [f"{'speaker':<{width}}  precision  recall  support"]
    for name, p, r, n in zip(labels, precision, recall, matrix.sum(axis=1), strict=True):
        lines.append(f"{name:<{width}}  {p:9.1%}  {r:6.1%}  {n:7d}")
    return "\n".join(lines)


def _save(figure, path: str | os.PathLike) -> None:
    """Save a matplotlib figure as PNG atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")


def _subplots(ncols: int = 1, figsize=(6, 4)):
    """A figure and axes drawn off-screen, leaving pyplot's backend and state alone."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize)
    axes = figure.subplots(1, ncols)
    return figure, axes


def plot_confusion(matrix: np.ndarray, labels: list[str], path: str | Path, title: str) -> None:
    """Heat map of the confusion matrix with counts, saved as PNG."""
    figure, axis = _subplots(figsize=(1.2 * len(labels) + 2, 1.1 * len(labels) + 1.5))
    axis.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        axis.text(column, row, str(count), ha="center", va="center", color=color)
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set(xlabel="predicted speaker", ylabel="true speaker", title=title)
    figure.tight_layout()
    _save(figure, path)


def plot_history(history: dict[str, list[float]], path: str | Path) -> None:
    """Loss and accuracy curves (train and validation) per epoch, saved as PNG."""
    figure, (loss_axis, accuracy_axis) = _subplots(2, figsize=(10, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for key, axis in (("loss", loss_axis), ("accuracy", accuracy_axis)):
        axis.plot(epochs, history[key], marker="o", label="train")
        axis.plot(epochs, history[f"val_{key}"], marker="o", label="validation")
        axis.set(xlabel="epoch", ylabel=key, title=key)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    _save(figure, path)


def plot_snr(snrs: list[str], accuracies: list[float], path: str | Path) -> None:
    """Test accuracy against the SNR of mixed-in held-out noise, saved as PNG."""
    figure, axis = _subplots(figsize=(6, 4))
    axis.plot(range(len(snrs)), [100 * a for a in accuracies], marker="o")
    axis.set_xticks(range(len(snrs)), snrs)
    axis.set(
        xlabel="SNR of added noise (dB)",
        ylabel="test accuracy (%)",
        ylim=(0, 101),
        title="accuracy against noise",
    )
    axis.grid(alpha=0.3)
    figure.tight_layout()
    _save(figure, path)


def condition_table(conditions: dict[str, dict[str, float]]) -> str:
    """Accuracy per room condition (rows) and SNR (columns) as aligned text."""
    levels = list(next(iter(conditions.values())))
    width = max(len(c) for c in conditions) + 2
    lines = [
        "condition".ljust(width)
        + " ".join(f"{level if level == 'clean' else level + ' dB':>8}" for level in levels)
    ]
    for condition, accuracies in conditions.items():
        lines.append(
            condition.ljust(width) + " ".join(f"{accuracies[level]:>8.1%}" for level in levels)
        )
    return "\n".join(lines)


def plot_conditions(conditions: dict[str, dict[str, float]], path: str | Path) -> None:
    """Test accuracy against SNR, one line per room condition, saved as PNG."""
    figure, axis = _subplots(figsize=(7, 4))
    for condition, accuracies in conditions.items():
        levels = list(accuracies)
        axis.plot(
            range(len(levels)), [100 * a for a in accuracies.values()], marker="o", label=condition
        )
    axis.set_xticks(range(len(levels)), [lv if lv == "clean" else f"{lv} dB" for lv in levels])
    axis.set(xlabel="signal-to-noise ratio", ylabel="test accuracy (%)", ylim=(0, 101))
    axis.set_title("accuracy in room conditions (held-out noise, voices and rooms)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    _save(figure, path)
