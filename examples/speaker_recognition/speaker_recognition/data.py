"""Reading the ``16000_pcm_speeches`` layout, splitting it, and the tf.data pipelines.

Layout: ``DATA_DIR/<Speaker_Name>/<n>.wav`` (1-s clips numbered in speech
order) plus noise folders ``_background_noise_/`` and ``other/`` holding long
recordings that are not speakers.

Files that are not 16 kHz mono PCM16 of exactly one second are repaired, not
dropped: other rates are resampled (``scipy.signal.resample_poly``), several
channels averaged, other sample formats scaled to [-1, 1], short clips padded
with trailing zeros and long ones trimmed to their first second, float
samples beyond +-1 (up to a peak of 4) clipped. Unreadable files and files
outside the reader's bounds (``speaker_recognition.wavfile``: sample rate,
channels, duration, size, wild float samples) are skipped with a warning
naming them. Every case is counted in the summary line. Files ending in
``.wav`` in any letter case are read.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from speaker_recognition import CLIP_SAMPLES, SAMPLE_RATE
from speaker_recognition.wavfile import AudioFileError, read_wav

NOISE_FOLDERS = ("_background_noise_", "other")
REPAIRS = ("resampled", "downmixed", "converted", "clipped", "padded", "trimmed")
# What reading clips counts, per clip file.
CLIP_COUNTS = (*REPAIRS, "skipped", "clips")
SPLITS = ("train", "validation", "test")
# The label of a training clip that is no enrolled speaker's voice (``augment``'s
# scaled voices); ``targets`` gives it equal probabilities.
STRANGER_LABEL = -1
# The label of a training clip in which no one speaks (``augment``'s noise alone);
# ``targets`` gives it no speaker's probability: all of it is on no one.
NO_ONE_LABEL = -2
# In-memory clips are read from their array this many at a time.
READ_BLOCK_CLIPS = 16


class DatasetError(ValueError):
    """The data folder does not hold a usable dataset (the message says why)."""


@dataclass
class ReadSummary:
    """What reading a dataset did to its files."""

    counts: Counter = field(default_factory=Counter)

    def line(self) -> str:
        """One line: clips read and how many were repaired or skipped, by reason."""
        c = self.counts
        repaired = ", ".join(f"{c[k]} {k}" for k in REPAIRS)
        return (
            f"read {c['clips']} clips of {c['speakers']} speakers and {c['noise_files']} "
            f"noise files; repaired: {repaired}; skipped {c['skipped']} unreadable"
        )


@dataclass
class Dataset:
    """Clips of one dataset folder, in memory."""

    clips: np.ndarray  # (n, CLIP_SAMPLES) float32 in [-1, 1]
    labels: np.ndarray  # (n,) int32 indices into label_names
    numbers: np.ndarray  # (n,) position of each clip in its speaker's speech
    files: list[Path]
    label_names: list[str]
    noises: list[np.ndarray]  # long 16 kHz float32 recordings
    summary: ReadSummary


def discover_labels(data_dir: str | Path) -> list[str]:
    """Speaker names: the sorted sub-folders of ``data_dir`` that are not noise folders.

    Raises
    ------
    DatasetError
        If ``data_dir`` is missing or has no speaker folder.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"data directory {root} does not exist")
    names = sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and p.name not in NOISE_FOLDERS and not p.name.startswith(".")
    )
    if not names:
        raise DatasetError(
            f"{root} has no speaker folders (expected {root}/<Speaker_Name>/<n>.wav)"
        )
    for name in names:
        if not name.isprintable() or _is_undecodable(name):
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise DatasetError(
                f"speaker folder {str(root / shown)!r} has a name that is not printable UTF-8 "
                "text; rename it (speaker names go into labels.txt and the app)"
            )
    return names


def _is_undecodable(name: str) -> bool:
    """Whether a file name held bytes that are not UTF-8 (Python keeps them as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def wav_files(folder: Path) -> list[Path]:
    """The ``.wav`` files of ``folder`` (any case of the extension), by clip number."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.suffix.lower() == ".wav" and p.is_file()]
    return sorted(found, key=_clip_number)


def _clip_number(path: Path) -> tuple[int, str]:
    match = re.fullmatch(r"(\d+)", path.stem)
    return (int(match.group(1)) if match else -1, path.name)


def _fit_clip(samples: np.ndarray, counts: Counter) -> np.ndarray:
    if samples.size < CLIP_SAMPLES:
        counts["padded"] += 1
        return np.pad(samples, (0, CLIP_SAMPLES - samples.size))
    if samples.size > CLIP_SAMPLES:
        counts["trimmed"] += 1
    return samples[:CLIP_SAMPLES]


def _read(path: Path, counts: Counter) -> np.ndarray | None:
    try:
        audio = read_wav(path, SAMPLE_RATE)
    except AudioFileError as error:
        warnings.warn(f"skipping {error}", UserWarning, stacklevel=3)
        counts["skipped"] += 1
        return None
    counts["resampled"] += audio.source_rate != SAMPLE_RATE
    counts["downmixed"] += audio.source_channels > 1
    counts["converted"] += audio.source_format != "pcm16"
    counts["clipped"] += audio.clipped > 0
    return audio.samples


def load_dataset(data_dir: str | Path, progress: bool = True) -> Dataset:
    """Read every clip and noise file of a dataset folder into memory.

    Parameters
    ----------
    data_dir : path-like
        The ``16000_pcm_speeches`` folder.
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    Dataset
        Clips in label order, then by clip number.

    Raises
    ------
    DatasetError
        If the folder has no speakers or a speaker has no readable clip.
    """
    root = Path(data_dir)
    paths, path_labels, label_names = clip_files(root)
    summary = ReadSummary()
    counts = summary.counts
    # One array filled in place: a list of clips stacked at the end would hold
    # the dataset twice, and more while the allocator keeps the freed clips.
    clips = np.empty((len(paths), CLIP_SAMPLES), np.float32)
    labels, files = [], []
    listing = zip(path_labels.tolist(), paths, strict=True)
    for label, path in tqdm(
        listing, total=len(paths), desc="reading clips", unit="file", disable=not progress
    ):
        samples = _read(path, counts)
        if samples is None:
            continue
        clips[len(files)] = _fit_clip(samples, counts)
        labels.append(label)
        files.append(path)
    present = set(labels)
    missing = [name for i, name in enumerate(label_names) if i not in present]
    if missing:
        raise DatasetError(f"no readable clips for speakers {missing} in {root}")
    noises = read_noises(root, counts)
    counts["clips"] = len(files)
    counts["speakers"] = len(label_names)
    counts["noise_files"] = len(noises)
    return Dataset(
        clips=clips[: len(files)],  # the rows of skipped files stay unused at the end
        labels=np.array(labels, dtype=np.int32),
        numbers=clip_numbers(files, labels),
        files=files,
        label_names=label_names,
        noises=noises,
        summary=summary,
    )


def clip_numbers(files: list[Path], labels) -> np.ndarray:
    """Each clip's position in its speaker's speech: its file number.

    Files without a numeric name come after the numbered ones of their
    speaker, in sorted order.
    """
    numbers = np.array([_clip_number(path)[0] for path in files], dtype=np.int64)
    labels = np.asarray(labels)
    for label in np.unique(labels):
        unnumbered = (labels == label) & (numbers < 0)
        numbers[unnumbered] = np.arange(unnumbered.sum()) + max(numbers.max(), -1) + 1
    return numbers


def read_noises(data_dir: str | Path, counts: Counter) -> list[np.ndarray]:
    """The noise recordings of a dataset folder (at least a second long), counted in ``counts``."""
    noises = []
    for folder in NOISE_FOLDERS:
        for path in wav_files(Path(data_dir) / folder):
            samples = _read(path, counts)
            if samples is not None and samples.size >= CLIP_SAMPLES:
                noises.append(samples)
    return noises


def clip_files(data_dir: str | Path) -> tuple[list[Path], np.ndarray, list[str]]:
    """The clip files of a dataset folder and their labels, without reading any audio.

    Returns
    -------
    files : list of Path
        In label order, then by clip number (``load_dataset``'s order).
    labels : np.ndarray
        ``(len(files),)`` int32 indices into ``label_names``.
    label_names : list of str
    """
    root = Path(data_dir)
    label_names = discover_labels(root)
    pairs = [
        (label, path) for label, name in enumerate(label_names) for path in wav_files(root / name)
    ]
    return (
        [path for _, path in pairs],
        np.array([label for label, _ in pairs], np.int32),
        label_names,
    )


def clip_stream(
    files: list[Path],
    labels: np.ndarray,
    summary: ReadSummary | None = None,
    shuffle_seed: int | None = None,
    repeat: bool = False,
):
    """A ``tf.data`` of ``(clip, label)`` that reads, repairs and fits each file as it streams.

    Files are decoded in parallel (``read_wav``'s repairs, then padded or
    trimmed to one second), in order; unreadable files are skipped with a
    warning. Memory holds only the file names and the files in flight,
    whatever the dataset's size.

    Parameters
    ----------
    files : list of Path
        Clip files (e.g. from ``clip_files``).
    labels : np.ndarray
        ``(len(files),)`` int labels.
    summary : ReadSummary, optional
        Counts what reading does (resampled, downmixed, converted, clipped,
        padded, trimmed, skipped, clips) as the stream is consumed, exactly as
        ``load_dataset`` counts them. Only the first pass over the files is
        counted (and warned about), however often the stream repeats.
    shuffle_seed : int, optional
        Shuffle the file order with this seed, anew on every pass.
    repeat : bool, default False
        Pass over the files forever.

    Returns
    -------
    tf.data.Dataset
        Elements ``(clip (CLIP_SAMPLES,) float32, label int32)``.
    """
    import threading

    import tensorflow as tf

    counts = summary.counts if summary is not None else Counter()
    lock = threading.Lock()
    first_pass = len(files)

    def decode(path, position):
        local = Counter()
        counted = position < first_pass
        with warnings.catch_warnings():
            if not counted:
                warnings.simplefilter("ignore")
            samples = _read(Path(path.decode()), local)
        clip = None if samples is None else _fit_clip(samples, local).astype(np.float32)
        local["clips"] += clip is not None
        if counted:
            with lock:
                counts.update(local)
        if clip is None:
            return np.zeros(CLIP_SAMPLES, np.float32), False
        return clip, True

    def read(position, example):
        path, label = example
        clip, readable = tf.numpy_function(
            decode, [path, position], [tf.float32, tf.bool], stateful=True
        )
        clip.set_shape([CLIP_SAMPLES])
        readable.set_shape([])
        return clip, label, readable

    paths = tf.constant([str(path) for path in files])
    dataset = tf.data.Dataset.from_tensor_slices((paths, tf.constant(labels, tf.int32)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.enumerate().map(
        read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    dataset = dataset.filter(lambda clip, label, readable: readable)
    return dataset.map(lambda clip, label, readable: (clip, label))


def read_clips(files: list[Path], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The readable ``files`` as one array, repaired and fitted, without counting or warning.

    Returns
    -------
    clips : np.ndarray
        ``(n, CLIP_SAMPLES)`` float32, ``n <= len(files)``.
    labels : np.ndarray
        ``(n,)`` int32, the labels of the files read.
    """
    clips, kept = [], []
    for path, label in zip(files, np.asarray(labels).tolist(), strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            samples = _read(path, Counter())
        if samples is not None:
            clips.append(_fit_clip(samples, Counter()))
            kept.append(label)
    if not clips:
        return np.zeros((0, CLIP_SAMPLES), np.float32), np.zeros(0, np.int32)
    return np.stack(clips).astype(np.float32), np.array(kept, np.int32)


@dataclass
class ClipSet:
    """The clips of one split: held in memory, or read from their files as they stream.

    Attributes
    ----------
    files : list of Path
        The split's clip files.
    labels : np.ndarray
        ``(len(files),)`` int32 speaker indices (of ``clips`` when in memory).
    clips : np.ndarray or None
        ``(len(files), CLIP_SAMPLES)`` float32 when in memory; None when streamed.
    """

    files: list[Path]
    labels: np.ndarray
    clips: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def dataset(
        self,
        shuffle_seed: int | None = None,
        repeat: bool = False,
        shard: tuple[int, int] = (1, 0),
        summary: ReadSummary | None = None,
    ):
        """A ``tf.data`` of ``(clip, label)``, unbatched.

        Parameters
        ----------
        shuffle_seed : int, optional
            Shuffle anew on every pass with this seed.
        repeat : bool, default False
            Pass over the clips forever.
        shard : (int, int), default (1, 0)
            ``(count, index)``: keep every ``count``-th clip from ``index`` on
            (a worker's share of the files).
        summary : ReadSummary, optional
            Streamed sets count their first pass into it (``clip_stream``).
        """
        import tensorflow as tf

        count, index = shard
        labels = self.labels[index::count]
        if self.clips is None:
            return clip_stream(self.files[index::count], labels, summary, shuffle_seed, repeat)
        # Every pipeline of the set reads its clips from the set's own array, by
        # position, through a shuffle buffer of positions. A tensor of the clips would
        # be another copy of them (and tf.data's graph rewrites copy a captured
        # tensor once more); a buffer of clips per pipeline, more copies still.
        clips = np.asarray(self.clips)
        label_tensor = tf.constant(self.labels)

        def clips_at(positions):
            return clips[positions]

        def read(positions):
            rows = tf.numpy_function(
                clips_at, [positions], tf.as_dtype(clips.dtype), stateful=False
            )
            rows = tf.ensure_shape(rows, (None, *clips.shape[1:]))
            return rows, tf.gather(label_tensor, positions)

        positions = tf.data.Dataset.range(index, len(self), count)
        if shuffle_seed is not None:
            positions = positions.shuffle(
                len(labels), seed=shuffle_seed, reshuffle_each_iteration=True
            )
        if repeat:
            positions = positions.repeat()
        # Read READ_BLOCK_CLIPS positions a call, in the same order, not one a call.
        return positions.batch(READ_BLOCK_CLIPS).map(read).unbatch()

    def sample(self, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """At most ``limit`` clips spread evenly over the set, in memory, and their labels."""
        index = evenly_spaced(len(self), limit)
        if self.clips is not None:
            return self.clips[index], self.labels[index]
        return read_clips([self.files[i] for i in index], self.labels[index])


def evenly_spaced(count: int, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` of ``count`` items, spread evenly over them."""
    if count <= limit:
        return np.arange(count)
    return np.linspace(0, count - 1, limit).round().astype(int)


def split_indices(
    labels: np.ndarray,
    numbers: np.ndarray,
    seed: int = 0,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    block_size: int = 10,
    label_names: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """Deterministic stratified train/validation/test split by blocks of consecutive clips.

    The clips are consecutive seconds of long speeches, so neighbours are alike;
    a per-file random split would put neighbouring seconds in train and test and
    flatter accuracy. Each speaker's clips, ordered by number, are cut into
    blocks of ``block_size`` consecutive clips, and the blocks (shuffled by
    ``seed``) fill test, then validation, to their fractions; the rest is train.

    Parameters
    ----------
    labels, numbers : np.ndarray
        Shape ``(n,)``: speaker index and position in the speech of each clip.
    seed : int, default 0
        Seed of the block shuffle.
    fractions : (float, float, float), default (0.8, 0.1, 0.1)
        Shares of train, validation and test, summing to 1.
    block_size : int, default 10
        Consecutive clips that always stay together.
    label_names : list of str, optional
        Speaker names, for error messages.

    Returns
    -------
    dict
        ``{"train": idx, "validation": idx, "test": idx}``, sorted index arrays
        into ``labels``; disjoint and covering every clip.

    Raises
    ------
    DatasetError
        If a speaker has fewer than three blocks of clips.
    """
    if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be three shares summing to 1, got {fractions}")
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    rng = np.random.default_rng(seed)
    parts = {name: [] for name in SPLITS}
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[np.argsort(numbers[members], kind="stable")]
        blocks = [members[i : i + block_size] for i in range(0, members.size, block_size)]
        if len(blocks) < 3:
            speaker = repr(label_names[label]) if label_names else str(label)
            raise DatasetError(
                f"speaker {speaker} has {members.size} clips: at least 3 blocks of "
                f"block_size={block_size} are needed to split it three ways"
            )
        order = rng.permutation(len(blocks))
        n_test = max(1, round(fractions[2] * len(blocks)))
        n_validation = max(1, round(fractions[1] * len(blocks)))
        n_validation = min(n_validation, len(blocks) - n_test - 1)
        parts["test"] += [blocks[i] for i in order[:n_test]]
        parts["validation"] += [blocks[i] for i in order[n_test : n_test + n_validation]]
        parts["train"] += [blocks[i] for i in order[n_test + n_validation :]]
    return {
        name: np.sort(np.concatenate(blocks)) if blocks else np.array([], dtype=int)
        for name, blocks in parts.items()
    }


def split_in_place(clips: np.ndarray, parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each part's clips as a view of ``clips``, whose rows are reordered in place.

    The split needs no second copy of the clips: rows move one at a time, so that
    the parts lie one after the other in their order, each in the order of its
    indices.

    Parameters
    ----------
    clips : np.ndarray
        ``(n, CLIP_SAMPLES)``, reordered in place.
    parts : dict
        ``{name: indices}`` into the rows of ``clips``, together covering each row
        once (``split_indices``).

    Returns
    -------
    dict
        ``{name: (len(indices), CLIP_SAMPLES) view of clips}``, holding the rows
        ``clips[indices]`` held before.

    Raises
    ------
    ValueError
        If the parts do not cover each row of ``clips`` exactly once.
    """
    order = np.concatenate([np.asarray(index, dtype=np.int64) for index in parts.values()])
    if not np.array_equal(np.sort(order), np.arange(len(clips))):
        raise ValueError(f"parts must cover each of the {len(clips)} rows of clips once")
    spare = np.empty_like(clips[:1])
    placed = np.zeros(len(order), bool)
    # Row i takes the old row order[i]: follow each cycle of the permutation.
    for start in range(len(order)):
        if placed[start]:
            continue
        spare[0] = clips[start]
        row = start
        while order[row] != start:
            clips[row] = clips[order[row]]
            placed[row] = True
            row = order[row]
        clips[row] = spare[0]
        placed[row] = True
    views, begin = {}, 0
    for name, index in parts.items():
        views[name] = clips[begin : begin + len(index)]
        begin += len(index)
    return views


def noise_windows(
    noises: list[np.ndarray], part: str = "train", hop: int = 4000, held_out: float = 0.2
) -> np.ndarray:
    """1-s windows of the noise recordings, ``(windows, CLIP_SAMPLES)`` float32.

    ``part="train"`` cuts from the first ``1 - held_out`` of every recording and
    ``"test"`` from the rest, so evaluation mixes noise the model never heard.
    """
    windows = []
    for segment in noise_parts(noises, part, held_out):
        for start in range(0, segment.size - CLIP_SAMPLES + 1, hop):
            windows.append(segment[start : start + CLIP_SAMPLES])
    if not windows:
        return np.zeros((0, CLIP_SAMPLES), np.float32)
    return np.stack(windows).astype(np.float32)


def noise_parts(
    noises: list[np.ndarray], part: str = "train", held_out: float = 0.2
) -> list[np.ndarray]:
    """The part of every noise recording that ``noise_windows`` cuts its windows from.

    Parameters
    ----------
    noises : list of np.ndarray
        Noise recordings ``(samples,)`` at 16 kHz.
    part : {"train", "test"}
        ``"train"``: the first ``1 - held_out`` of each recording; ``"test"``:
        the rest, noise the model never heard.
    held_out : float
        Share of each recording kept for testing.

    Returns
    -------
    list of np.ndarray
        One continuous part per recording, in order (views of ``noises``).
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    parts = []
    for noise in noises:
        cut = int(noise.size * (1 - held_out))
        parts.append(noise[:cut] if part == "train" else noise[cut:])
    return parts


def mix_at_snr(clip: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clip`` plus ``noise`` scaled so that ``10 log10(P_clip / P_noise) = snr_db``.

    Mean powers over the whole second; the sum is clipped to [-1, 1].
    """
    clip_power = np.mean(np.square(clip, dtype=np.float64))
    noise_power = np.mean(np.square(noise, dtype=np.float64)) + 1e-20
    gain = np.sqrt(clip_power / (noise_power * 10 ** (snr_db / 10)))
    return np.clip(clip + gain * noise, -1.0, 1.0).astype(np.float32)


def write_labels(path: str | Path, label_names: list[str]) -> None:
    """``labels.txt``: one speaker name a line, in label-index order (written atomically)."""
    from speaker_recognition.files import write_text_atomically

    write_text_atomically(path, "".join(f"{name}\n" for name in label_names))


def train_pipeline(clips, labels, noise_bank, batch_size=32, seed=0, **augmentation):
    """Shuffled, augmented, repeating ``tf.data`` of ``(clip, label)`` batches from memory.

    ``clips`` ``(n, CLIP_SAMPLES)`` and ``labels`` ``(n,)`` are shuffled anew
    every pass, augmented by ``augment`` (which see, for ``augmentation``;
    babble is drawn from ``clips`` themselves) and batched.
    """
    import tensorflow as tf

    dataset = ClipSet([], np.asarray(labels), clips).dataset(shuffle_seed=seed, repeat=True)
    if augmentation.get("babble_probability", 0.0) > 0:
        augmentation.setdefault("babble_clips", clips)
        augmentation.setdefault("babble_labels", labels)
    return (
        augment(dataset, noise_bank, seed, **augmentation)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def pipeline_bank(values: np.ndarray):
    """``values`` as one float32 tensor on the host's CPU, for ``augment``'s banks.

    Pipelines that ``augment`` builds on the same bank share it (``train.train``
    builds two: training and ``pipeline_rate``), and the array it was made
    from can go; given the array itself, each pipeline converts its own copy.
    Each pipeline still copies what it captures once more when it first runs
    (tf.data's graph rewrite). A ``tf.Variable`` would avoid that copy, but
    reading one makes the map stateful: under op determinism the room
    pipeline then ran 9 % slower and TensorFlow logged a ``NodeDef`` error.

    Parameters
    ----------
    values : np.ndarray
        ``(rows, CLIP_SAMPLES)`` (noise windows, babble clips) or any other bank.

    Returns
    -------
    tf.Tensor
        The same values and shape, float32, on the CPU, where tf.data runs.
    """
    import tensorflow as tf

    with tf.device("CPU:0"):
        return tf.constant(values, tf.float32)


def augment(
    dataset,
    noise_bank,
    seed=0,
    snr_db=(0.0, 25.0),
    noise_probability=0.6,
    gain_db=6.0,
    impulses=None,
    channels=None,
    room_probability=0.5,
    babble_probability=0.0,
    babble_snr_db=(0.0, 20.0),
    babble_clips=None,
    babble_labels=None,
    stranger_probability=0.0,
    stranger_scale=(1.04, 1.15),
    noise_alone_probability=0.0,
    noise_alone_dbfs=(-45.0, -15.0),
):
    """Augment a ``tf.data`` of ``(clip, label)`` examples, one by one.

    Each example, in this order:

    0. with probability ``stranger_probability``: every frequency of the clip
       (pitch, formants, fricatives) and its tempo are scaled by a factor
       drawn log-uniformly from ``stranger_scale`` or its reciprocal, with
       equal chance (``scale_voice``), and its label becomes
       ``STRANGER_LABEL``: the voice is no longer the speaker's (``targets``
       maps it to equal probabilities for every speaker);
    1. with probability ``babble_probability`` (if ``babble_probability > 0``):
       1-4 clips of ``babble_clips`` whose ``babble_labels`` differ from its
       label (any of them, for a stranger) are mixed under it at an SNR
       uniform in ``babble_snr_db``, the label staying the target's;
    2. with probability ``room_probability`` (if ``impulses`` and ``channels``
       are given): it goes through a random room impulse response and phone
       channel (``room.tf_degrade``), keeping its level;
    3. with probability ``noise_probability``: a random window of
       ``noise_bank`` ``(windows, CLIP_SAMPLES)`` at an SNR uniform in ``snr_db``;
    4. a random gain of up to ``gain_db`` dB either way;
    5. with probability ``noise_alone_probability``: the clip is replaced by
       noise alone, as a room sounds when no one speaks, and its label becomes
       ``NO_ONE_LABEL`` (``targets`` maps it to zero for every speaker, which
       needs a model with a no-one output: ``model.build_model``'s
       ``no_one_output``). The noise is a random window of ``noise_bank``
       (white noise if the bank is empty), scaled to an RMS level uniform in
       ``noise_alone_dbfs`` dBFS and clipped to [-1, 1].

    Randomness is stateless, keyed on ``seed`` and the example's position in
    the stream, so runs repeat exactly. Strangers and noise alone take their
    own draws: with either share at 0 the stream is the same as before it
    existed, and every clip they leave alone is bit-identical. Each bank
    (``noise_bank``, ``impulses``, ``channels``, ``babble_clips``) is an array
    or a tensor (``pipeline_bank``).

    Returns
    -------
    tf.data.Dataset
        Unbatched ``(clip (CLIP_SAMPLES,) float32 in [-1, 1], label)``; the
        label is ``STRANGER_LABEL`` for the scaled voices and ``NO_ONE_LABEL``
        for noise alone.

    Raises
    ------
    ValueError
        If ``stranger_probability`` or ``noise_alone_probability`` is not in
        [0, 1], ``stranger_scale`` is not two factors with
        1 < low <= high <= 2, or ``noise_alone_dbfs`` is not two levels with
        low <= high <= 0.
    """
    import tensorflow as tf

    from speaker_recognition import room

    if not 0.0 <= stranger_probability <= 1.0:
        raise ValueError(f"stranger_probability must be in [0, 1], got {stranger_probability!r}")
    scale_low, scale_high = (float(v) for v in stranger_scale)
    if not 1.0 < scale_low <= scale_high <= 2.0:
        raise ValueError(
            "stranger_scale must be two factors with 1 < low <= high <= 2, "
            f"got {tuple(stranger_scale)!r}"
        )

    if not 0.0 <= noise_alone_probability <= 1.0:
        raise ValueError(
            f"noise_alone_probability must be in [0, 1], got {noise_alone_probability!r}"
        )
    quiet_dbfs, loud_dbfs = (float(v) for v in noise_alone_dbfs)
    if not quiet_dbfs <= loud_dbfs <= 0.0:
        raise ValueError(
            "noise_alone_dbfs must be two levels in dBFS with low <= high <= 0, "
            f"got {tuple(noise_alone_dbfs)!r}"
        )

    window_count = int(noise_bank.shape[0])
    bank = tf.zeros((1, CLIP_SAMPLES))
    if window_count:
        bank = tf.convert_to_tensor(noise_bank, tf.float32)
    use_noise = float(noise_probability if window_count else 0.0)
    low, high = (float(v) for v in snr_db)
    use_room = float(room_probability if impulses is not None and channels is not None else 0.0)
    if use_room:
        impulse_bank = tf.convert_to_tensor(impulses, tf.float32)
        channel_bank = tf.convert_to_tensor(channels, tf.float32)
    use_babble = (
        babble_probability > 0 and babble_clips is not None and int(babble_clips.shape[0]) > 0
    )
    if use_babble:
        pool = tf.convert_to_tensor(babble_clips, tf.float32)
        # For each label, the pool clips of other speakers (padded by repetition):
        # babble is drawn from them only.
        label_ids = np.asarray(babble_labels, np.int64)
        others = [np.flatnonzero(label_ids != label) for label in range(int(label_ids.max()) + 2)]
        widest = max(1, *(o.size for o in others))
        other_table = tf.constant(
            [np.resize(o, widest) if o.size else np.zeros(widest, np.int64) for o in others],
            tf.int32,
        )
        other_counts = tf.constant([max(o.size, 1) for o in others], tf.float32)
        has_others = tf.constant([o.size > 0 for o in others])
    babble_low, babble_high = (float(v) for v in babble_snr_db)

    def pick(draw, size):
        return tf.minimum(tf.cast(draw * float(size), tf.int32), size - 1)

    def mix(clip, other, snr):
        clip_power = tf.reduce_mean(tf.square(clip))
        other_power = tf.reduce_mean(tf.square(other)) + 1e-20
        return clip + tf.sqrt(clip_power / (other_power * tf.pow(10.0, snr / 10.0))) * other

    def with_babble(clip, label, draws):
        # Labels beyond the pool's share its last row, as strangers do: every pool
        # clip is another speaker.
        row = tf.cast(label, tf.int32)
        row = tf.where(row < 0, len(others) - 1, tf.minimum(row, len(others) - 1))
        count = tf.gather(other_counts, row)
        slots = tf.minimum(tf.cast(draws[12:16] * count, tf.int32), tf.cast(count, tf.int32) - 1)
        talkers = tf.gather(pool, tf.gather(tf.gather(other_table, row), slots))
        keep = tf.cast(tf.range(4) < 1 + pick(draws[10], 4), tf.float32)
        voices = tf.reduce_sum(talkers * keep[:, None], axis=0)
        snr = babble_low + draws[11] * (babble_high - babble_low)
        mixed = tf.clip_by_value(mix(clip, voices, snr), -1.0, 1.0)
        return tf.where(tf.gather(has_others, row), mixed, clip)

    def augment_one(position, example):
        clip, label = example
        key = tf.stack([tf.constant(seed, tf.int64), position])
        draws = tf.random.stateless_uniform([16], seed=key)
        if stranger_probability > 0:
            # draws[9] picks the direction (below or above 0.5) and, within it, the factor.
            within = 2.0 * tf.math.floormod(draws[9], 0.5)
            factor = scale_low * tf.pow(scale_high / scale_low, within)
            factor = tf.where(draws[9] < 0.5, 1.0 / factor, factor)
            stranger = draws[6] < stranger_probability
            clip = tf.cond(stranger, lambda: scale_voice(clip, factor), lambda: clip)
            label = tf.where(stranger, tf.cast(STRANGER_LABEL, label.dtype), label)
        if use_babble:
            clip = tf.cond(
                draws[4] < babble_probability,
                lambda: with_babble(clip, label, draws),
                lambda: clip,
            )
        if use_room:
            clip = tf.cond(
                draws[5] < use_room,
                lambda: room.tf_degrade(
                    clip,
                    tf.gather(impulse_bank, pick(draws[7], int(impulses.shape[0]))),
                    tf.gather(channel_bank, pick(draws[8], int(channels.shape[0]))),
                ),
                lambda: clip,
            )
        window = tf.gather(bank, pick(draws[0], bank.shape[0]))
        snr = low + draws[1] * (high - low)
        noisy = tf.clip_by_value(mix(clip, window, snr), -1.0, 1.0)
        clip = tf.where(draws[2] < use_noise, noisy, clip)
        clip = clip * tf.pow(10.0, (2.0 * draws[3] - 1.0) * gain_db / 20.0)
        clip = tf.clip_by_value(clip, -1.0, 1.0)
        if noise_alone_probability > 0:
            # Drawn from a key of their own, so the draws above stay those of every
            # stream without noise alone.
            own_key = tf.random.experimental.stateless_fold_in(key, 1)
            choice = tf.random.stateless_uniform([3], seed=own_key)
            alone = choice[0] < noise_alone_probability
            clip = tf.cond(alone, lambda: noise_alone(own_key, choice), lambda: clip)
            label = tf.where(alone, tf.cast(NO_ONE_LABEL, label.dtype), label)
        return clip, label

    def noise_alone(own_key, choice):
        # choice: [alone?, which window, level]
        if window_count:
            noise = tf.gather(bank, pick(choice[1], window_count))
        else:
            noise = tf.random.stateless_normal(
                [CLIP_SAMPLES], seed=tf.random.experimental.stateless_fold_in(own_key, 1)
            )
        level = tf.pow(10.0, (quiet_dbfs + choice[2] * (loud_dbfs - quiet_dbfs)) / 20.0)
        scaled = noise * level / (tf.sqrt(tf.reduce_mean(tf.square(noise))) + 1e-12)
        return tf.clip_by_value(scaled, -1.0, 1.0)

    return dataset.enumerate().map(
        augment_one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )


def scale_voice(clip, factor):
    """A clip whose frequencies and tempo are all scaled by ``factor``, as a voice of another size.

    Sample ``n`` of the output is the clip read at ``n * factor`` (linear
    interpolation); beyond the clip's end it is read backwards from there
    (mirrored), so the output has the clip's length and no jump. There is no
    anti-aliasing filter: above 1, what lies above ``SAMPLE_RATE / 2 / factor``
    folds back (above 6.4 kHz at 1.25, where speech holds little energy).

    Parameters
    ----------
    clip : tf.Tensor
        ``(CLIP_SAMPLES,)`` float32 audio.
    factor : float or tf.Tensor
        Scalar in [0.5, 2]: above 1 the voice is higher and faster, below 1
        lower and slower.

    Returns
    -------
    tf.Tensor
        ``(CLIP_SAMPLES,)`` float32.
    """
    import tensorflow as tf

    last = float(CLIP_SAMPLES - 1)
    position = tf.range(CLIP_SAMPLES, dtype=tf.float32) * tf.cast(factor, tf.float32)
    position = tf.where(position > last, 2.0 * last - position, position)
    before = tf.floor(position)
    share = position - before
    before = tf.cast(before, tf.int32)
    after = tf.minimum(before + 1, CLIP_SAMPLES - 1)
    return tf.gather(clip, before) * (1.0 - share) + tf.gather(clip, after) * share


def targets(label, speakers: int):
    """Training targets for a label: how likely each speaker is to be the one speaking.

    One-hot for a speaker's label, equal probabilities for ``STRANGER_LABEL``
    and zero for every speaker for ``NO_ONE_LABEL``: what the speakers leave
    of 1 is the probability that no one speaks, which a model learns only
    with a no-one output (``model.build_model``'s ``no_one_output``).

    Parameters
    ----------
    label : tf.Tensor
        Scalar integer label (``augment``'s).
    speakers : int
        Number of speakers.

    Returns
    -------
    tf.Tensor
        ``(speakers,)`` float32 summing to 1, or to 0 for ``NO_ONE_LABEL``.
    """
    import tensorflow as tf

    label = tf.cast(label, tf.int64)
    return tf.where(
        label == STRANGER_LABEL,
        tf.fill([speakers], 1.0 / speakers),
        tf.one_hot(tf.cast(label, tf.int32), speakers),  # zero for NO_ONE_LABEL
    )
