"""Label discovery, splitting, noise mixing and the repair/skip rules of the data module."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.io.wavfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speaker_recognition import CLIP_SAMPLES, data
from speaker_recognition.wavfile import AudioFileError, read_wav, write_wav


def _write_pcm16(path, samples, rate=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.wavfile.write(path, rate, np.asarray(samples))


def _tone(seconds=1.0, rate=16000, frequency=220.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_discover_labels_skips_noise_and_hidden_folders(tmp_path):
    for name in (
        "Nelson_Mandela",
        "Benjamin_Netanyahu",
        "_background_noise_",
        "other",
        ".cache",
        "Julia_Gillard",
    ):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("not a folder")
    assert data.discover_labels(tmp_path) == [
        "Benjamin_Netanyahu",
        "Julia_Gillard",
        "Nelson_Mandela",
    ]
    with pytest.raises(data.DatasetError, match="does not exist"):
        data.discover_labels(tmp_path / "missing")
    empty = tmp_path / "empty"
    (empty / "_background_noise_").mkdir(parents=True)
    with pytest.raises(data.DatasetError, match="no speaker folders"):
        data.discover_labels(empty)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(60, 160), min_size=2, max_size=6),
    st.integers(0, 1000),
    st.sampled_from([5, 10, 20]),
)
def test_split_is_disjoint_stratified_and_blockwise(sizes, seed, block_size):
    labels = np.concatenate([np.full(n, k) for k, n in enumerate(sizes)])
    numbers = np.concatenate(
        [np.random.default_rng(k).permutation(n) for k, n in enumerate(sizes)]
    )
    parts = data.split_indices(labels, numbers, seed=seed, block_size=block_size)
    combined = np.concatenate(list(parts.values()))
    assert np.array_equal(np.sort(combined), np.arange(labels.size))  # disjoint, covering
    for label, size in enumerate(sizes):
        blocks = -(-size // block_size)
        for part, fraction in (("validation", 0.1), ("test", 0.1)):
            chosen = parts[part][labels[parts[part]] == label]
            assert 1 <= len(chosen) <= max(1, round(fraction * blocks)) * block_size
        members = np.flatnonzero(labels == label)
        where = {int(i): name for name, index in parts.items() for i in index}
        ordered = members[np.argsort(numbers[members])]
        for start in range(0, size, block_size):
            block = ordered[start : start + block_size]
            assert len({where[int(i)] for i in block}) == 1  # a block never straddles
    again = data.split_indices(labels, numbers, seed=seed, block_size=block_size)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)


def test_split_refuses_speakers_with_too_few_blocks():
    with pytest.raises(data.DatasetError, match="at least 3 blocks"):
        data.split_indices(np.zeros(15, int), np.arange(15), block_size=10)


@settings(max_examples=60, deadline=None)
@given(st.floats(-5.0, 30.0), st.floats(0.001, 0.05), st.integers(0, 1000))
def test_mix_at_snr_hits_the_requested_snr(snr_db, level, seed):
    rng = np.random.default_rng(seed)
    clip = (level * rng.standard_normal(CLIP_SAMPLES)).astype(np.float32)
    noise = (0.2 * rng.standard_normal(CLIP_SAMPLES)).astype(np.float32)
    mixed = data.mix_at_snr(clip, noise, snr_db)
    added = mixed.astype(np.float64) - clip
    if np.max(np.abs(clip + added)) < 1.0:  # no clipping
        measured = 10 * np.log10(np.mean(clip.astype(np.float64) ** 2) / np.mean(added**2))
        assert measured == pytest.approx(snr_db, abs=0.01)  # float32 rounding of the sum


def test_train_pipeline_mixes_noise_at_the_drawn_snr_and_repeats():
    rng = np.random.default_rng(0)
    clips = (0.05 * rng.standard_normal((12, CLIP_SAMPLES))).astype(np.float32)
    labels = np.arange(12, dtype=np.int32)  # the label identifies the clip
    bank = (0.1 * rng.standard_normal((3, CLIP_SAMPLES))).astype(np.float32)
    options = {
        "batch_size": 4,
        "seed": 3,
        "snr_db": (10, 10),
        "noise_probability": 1.0,
        "gain_db": 0.0,
    }
    pipeline = data.train_pipeline(clips, labels, bank, **options)
    batches = [b for _, b in zip(range(6), pipeline, strict=False)]
    for x, y in batches:
        for mixed, label in zip(np.asarray(x), np.asarray(y), strict=True):
            added = mixed.astype(np.float64) - clips[label]
            snr = 10 * np.log10(np.mean(clips[label].astype(np.float64) ** 2) / np.mean(added**2))
            assert snr == pytest.approx(10.0, abs=0.05)
    seen = np.concatenate([np.asarray(y) for _, y in batches[:3]])
    assert sorted(seen) == list(range(12))  # one epoch covers every clip once
    again = data.train_pipeline(clips, labels, bank, **options)
    for (x1, _), (x2, _) in zip(batches, again, strict=False):
        np.testing.assert_array_equal(np.asarray(x1), np.asarray(x2))


def _odd_dataset(tmp_path):
    """A dataset of odd clip files (resampled, stereo, float, 32-bit, unreadable) and a hum."""
    speaker = tmp_path / "Speaker"
    _write_pcm16(speaker / "0.wav", (_tone() * 32768).astype(np.int16))
    _write_pcm16(speaker / "1.wav", (_tone(1.0, 8000) * 32768).astype(np.int16), 8000)
    stereo = np.stack([_tone(), _tone()], axis=1)
    _write_pcm16(speaker / "2.wav", (stereo * 32768).astype(np.int16))
    _write_pcm16(speaker / "3.wav", _tone(2.0))  # float32, 2 s
    _write_pcm16(speaker / "4.wav", (_tone(0.5) * 2**31).astype(np.int32))
    (speaker / "5.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (tmp_path / "Other_Speaker").mkdir()
    write_wav(tmp_path / "Other_Speaker" / "0.wav", _tone(), 16000)
    _write_pcm16(
        tmp_path / "_background_noise_" / "hum.wav",
        (_tone(3.0, 44100, 50.0) * 32768).astype(np.int16),
        44100,
    )


def test_odd_files_are_repaired_and_counted(tmp_path):
    _odd_dataset(tmp_path)
    with pytest.warns(UserWarning, match="5.wav"):
        dataset = data.load_dataset(tmp_path, progress=False)
    counts = dataset.summary.counts
    assert dataset.clips.shape == (6, CLIP_SAMPLES) and dataset.label_names == [
        "Other_Speaker",
        "Speaker",
    ]
    assert (counts["resampled"], counts["downmixed"], counts["converted"]) == (2, 1, 2)
    assert (counts["padded"], counts["trimmed"], counts["skipped"]) == (1, 1, 1)
    assert len(dataset.noises) == 1 and dataset.noises[0].size == 3 * 16000
    assert "skipped 1 unreadable" in dataset.summary.line()
    # The repaired clips still carry the tone: compare with the clean one.
    reference = dataset.clips[1]
    for repaired in dataset.clips[2:5]:
        assert np.corrcoef(repaired[:7000], reference[:7000])[0, 1] > 0.99


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200), st.booleans())
def test_bad_wav_bytes_are_skipped_with_a_warning(tmp_path, payload, with_header):
    folder = tmp_path / "dataset"
    speaker = folder / "Speaker"
    speaker.mkdir(parents=True, exist_ok=True)
    for i in range(2):
        write_wav(speaker / f"{i}.wav", _tone(), 16000)
    bad = speaker / "2.wav"
    bad.write_bytes((b"RIFF\x24\x00\x00\x00WAVEfmt " if with_header else b"") + payload)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = data.load_dataset(folder, progress=False)
    skipped = dataset.summary.counts["skipped"]
    assert len(dataset.clips) == 3 - skipped
    if skipped:
        assert any("2.wav" in str(w.message) for w in caught)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300))
def test_read_wav_raises_only_audio_file_error(tmp_path_factory, payload):
    path = tmp_path_factory.mktemp("bytes") / "x.wav"
    path.write_bytes(payload)
    try:
        audio = read_wav(path)
    except AudioFileError as error:
        assert "x.wav" in str(error)
    else:
        assert audio.samples.ndim == 1 and np.all(np.isfinite(audio.samples))


def test_labels_file_keeps_label_order(tmp_path):
    data.write_labels(tmp_path / "labels.txt", ["b", "a", "c"])
    assert (tmp_path / "labels.txt").read_text() == "b\na\nc\n"


def test_noise_windows_hold_out_the_end_of_each_recording():
    noise = np.arange(10 * CLIP_SAMPLES, dtype=np.float32)
    train = data.noise_windows([noise], "train")
    test = data.noise_windows([noise], "test")
    assert train.max() < 8 * CLIP_SAMPLES <= test.min()
    assert train.shape[1] == test.shape[1] == CLIP_SAMPLES
    (held_out,) = data.noise_parts([noise], "test")
    np.testing.assert_array_equal(held_out, noise[8 * CLIP_SAMPLES :])
    (kept,) = data.noise_parts([noise], "train")
    np.testing.assert_array_equal(kept, noise[: 8 * CLIP_SAMPLES])
    with pytest.raises(ValueError, match="part must be"):
        data.noise_parts([noise], "validation")


def test_streaming_reader_yields_what_the_in_memory_reader_reads(tmp_path):
    _odd_dataset(tmp_path)
    with pytest.warns(UserWarning, match="5.wav"):
        dataset = data.load_dataset(tmp_path, progress=False)
    files, labels, names = data.clip_files(tmp_path)
    assert names == dataset.label_names
    summary = data.ReadSummary()
    with pytest.warns(UserWarning, match="5.wav"):
        streamed = [(np.asarray(c), int(y)) for c, y in data.clip_stream(files, labels, summary)]
    np.testing.assert_array_equal(np.stack([c for c, _ in streamed]), dataset.clips)
    assert [y for _, y in streamed] == dataset.labels.tolist()
    for key in ("resampled", "downmixed", "converted", "clipped", "padded", "trimmed", "skipped"):
        # The in-memory reader also reads the noise files; the stream reads clips only.
        clip_only = dataset.summary.counts[key] - (key == "resampled")  # the 44.1 kHz hum
        assert summary.counts[key] == clip_only, key
    assert summary.counts["clips"] == len(dataset.clips)


def _rows_of(clip_set, clips, taken, **options):
    """``(row of clips, label)`` of the first ``taken`` clips a repeating ClipSet yields."""
    by_first_sample = {float(first): row for row, first in enumerate(clips[:, 0])}
    stream = clip_set.dataset(repeat=True, **options).take(taken)
    return [(by_first_sample[float(clip[0])], int(label)) for clip, label in stream]


def test_clip_set_yields_every_sample_of_every_clip():
    clips = np.random.default_rng(4).standard_normal((23, CLIP_SAMPLES)).astype(np.float32)
    labels = (np.arange(23) % 5).astype(np.int32)
    yielded = list(data.ClipSet([], labels, clips).dataset())
    assert len(yielded) == 23
    for row, (clip, label) in enumerate(yielded):
        np.testing.assert_array_equal(clip.numpy(), clips[row])
        assert int(label) == labels[row]


@pytest.mark.parametrize("seed", range(6))
def test_split_in_place_gives_views_holding_each_parts_rows(seed):
    rng = np.random.default_rng(seed)
    count = int(rng.integers(3, 40))
    clips = rng.standard_normal((count, 8)).astype(np.float32)
    before = clips.copy()
    cuts = np.sort(rng.choice(np.arange(1, count), 2, replace=False))
    shuffled = rng.permutation(count)
    # Parts in any order of indices, as long as they cover each row once.
    parts = dict(zip(data.SPLITS, np.split(shuffled, cuts), strict=True))
    views = data.split_in_place(clips, parts)
    for name, index in parts.items():
        np.testing.assert_array_equal(views[name], before[index])
        assert np.shares_memory(views[name], clips)
    np.testing.assert_array_equal(np.sort(clips, axis=None), np.sort(before, axis=None))


@pytest.mark.parametrize(
    "parts", [{"a": [0, 1], "b": [1, 2, 3]}, {"a": [0, 1], "b": [2]}, {"a": [0, 1, 2, 3, 4]}]
)
def test_split_in_place_refuses_parts_that_do_not_cover_each_row_once(parts):
    clips = np.arange(16, dtype=np.float32).reshape(4, 4)
    with pytest.raises(ValueError, match="cover each of the 4 rows of clips once"):
        data.split_in_place(clips, parts)
    np.testing.assert_array_equal(clips, np.arange(16).reshape(4, 4))


# Measures in a fresh process how much resident memory a ClipSet's training pipeline
# adds to the clips it is given, from its creation through its first batches.
PIPELINE_MEMORY = """
import json, sys
import numpy as np
from spela_tflite.quiet import import_tensorflow_quietly
import_tensorflow_quietly(False)
from speaker_recognition import CLIP_SAMPLES, data

def resident():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096

def first_batches(count):
    clips = np.random.default_rng(0).standard_normal((count, CLIP_SAMPLES), np.float32)
    before = resident()
    clip_set = data.ClipSet([], np.zeros(count, np.int32), clips)
    batches = iter(clip_set.dataset(shuffle_seed=0, repeat=True).batch(32))
    for _ in range(3):
        next(batches)
    return resident() - before, clips.nbytes

first_batches(64)  # TensorFlow's own start-up allocations
added, size = first_batches(int(sys.argv[1]))
print(json.dumps({"added": added, "clips": size}))
"""


def test_a_clip_set_pipeline_holds_no_copy_of_its_clips():
    # A pipeline that captured the clips as a constant tensor held two copies besides
    # the set's array (tf.data's graph rewrites copy the constant); as a variable, one.
    result = subprocess.run(
        [sys.executable, "-c", PIPELINE_MEMORY, "6000"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["added"] < 0.5 * measured["clips"], measured


# Measures in a fresh process how much resident memory a babble pool adds, from its
# drawing through an augmented pipeline's first batches: as an array, or as a bank.
BANK_MEMORY = """
import json, sys
import numpy as np
from spela_tflite.quiet import import_tensorflow_quietly
import_tensorflow_quietly(False)
from speaker_recognition import CLIP_SAMPLES, data

def resident():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096

def first_batches(count, as_bank):
    before = resident()
    pool = np.random.default_rng(0).standard_normal((count, CLIP_SAMPLES), np.float32)
    size = pool.nbytes
    if as_bank:
        pool = data.pipeline_bank(pool)
    clips = np.zeros((64, CLIP_SAMPLES), np.float32)
    clips[:, ::100] = 0.1
    stream = data.ClipSet([], np.zeros(64, np.int32), clips).dataset(repeat=True)
    babble = {"babble_probability": 1.0, "babble_clips": pool}
    babble["babble_labels"] = np.ones(count, np.int32)
    pipeline = data.augment(stream, np.zeros((0, CLIP_SAMPLES), np.float32), **babble)
    batches = iter(pipeline.batch(32))
    for _ in range(3):
        next(batches)
    return resident() - before, size

first_batches(64, sys.argv[2] == "bank")  # TensorFlow's own start-up allocations
added, size = first_batches(int(sys.argv[1]), sys.argv[2] == "bank")
print(json.dumps({"added": added, "pool": size}))
"""


def _added_by_a_babble_pool(form: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", BANK_MEMORY, "3000", form],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_babble_pool_given_as_a_bank_keeps_no_array_of_it():
    # As an array, the pool is held three times: the array, the tensor the pipeline
    # converts and captures, and that tensor's copy from tf.data's graph rewrite. As
    # a bank, the array goes.
    as_array = _added_by_a_babble_pool("array")
    as_bank = _added_by_a_babble_pool("bank")
    pool = as_bank["pool"]
    assert as_array["added"] > 2.7 * pool, as_array
    assert as_bank["added"] < 2.4 * pool, as_bank


@pytest.mark.parametrize("shard", [(1, 0), (3, 1)])
def test_clip_set_yields_each_clip_once_a_pass_with_its_label_in_a_seeded_order(shard):
    rng = np.random.default_rng(3)
    clips = rng.standard_normal((23, CLIP_SAMPLES)).astype(np.float32)
    labels = (np.arange(23) % 4).astype(np.int32)
    clip_set = data.ClipSet([], labels, clips)
    count, index = shard
    share = list(range(index, 23, count))
    in_order = _rows_of(clip_set, clips, 2 * len(share), shard=shard)
    assert in_order == [(row, labels[row]) for row in share * 2]
    shuffled = _rows_of(clip_set, clips, 3 * len(share), shard=shard, shuffle_seed=5)
    assert all(label == labels[row] for row, label in shuffled)
    rows_in_order = [row for row, _ in shuffled]
    passes = [rows_in_order[i * len(share) : (i + 1) * len(share)] for i in range(3)]
    assert all(sorted(rows) == share for rows in passes)
    assert passes[0] != share and passes[0] != passes[1]  # shuffled anew each pass
    assert _rows_of(clip_set, clips, 3 * len(share), shard=shard, shuffle_seed=5) == shuffled
    other_seed = _rows_of(clip_set, clips, len(share), shard=shard, shuffle_seed=6)
    assert other_seed != shuffled[: len(share)]
