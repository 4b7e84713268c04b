"""PowerToDecibel and AmplitudeToDecibel against the formula and librosa."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import spela
from tests import reference

# float32 log: about 1e-7 relative on the log, i.e. < 1e-4 dB over a 200 dB span.
DB_TOLERANCE = 1e-3

log_uniform_arrays = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 3), st.integers(1, 20), st.integers(1, 12)),
    elements=st.floats(-12.0, 4.0),
).map(lambda exponents: (10.0**exponents).astype(np.float32))


@given(
    log_uniform_arrays,
    st.sampled_from([1.0, 0.01, 37.0, "max"]),
    st.sampled_from([1e-10, 1e-6]),
    st.sampled_from([80.0, None, 0.0, 25.0]),
)
def test_power_to_db(record_error, power, ref, amin, top_db):
    got = np.asarray(spela.PowerToDecibel(ref=ref, amin=amin, top_db=top_db)(power))
    for example in range(power.shape[0]):
        values = power[example].astype(np.float64)
        want = reference.power_to_db(values, ref, amin, top_db)
        theirs = librosa.power_to_db(
            values, ref=np.max if ref == "max" else ref, amin=amin, top_db=top_db
        )
        record_error(
            "PowerToDecibel vs formula [dB, absolute]", np.max(np.abs(got[example] - want))
        )
        record_error(
            "PowerToDecibel vs librosa [dB, absolute]", np.max(np.abs(got[example] - theirs))
        )
        np.testing.assert_allclose(got[example], want, atol=DB_TOLERANCE, rtol=0)
        np.testing.assert_allclose(got[example], theirs, atol=DB_TOLERANCE, rtol=0)


@given(
    log_uniform_arrays,
    st.sampled_from([1.0, 0.5, "max"]),
    st.sampled_from([1e-5, 1e-3]),
    st.sampled_from([80.0, None]),
)
def test_amplitude_to_db(record_error, amplitude, ref, amin, top_db):
    got = np.asarray(spela.AmplitudeToDecibel(ref=ref, amin=amin, top_db=top_db)(amplitude))
    for example in range(amplitude.shape[0]):
        values = amplitude[example].astype(np.float64)
        reference_amplitude = values.max() if ref == "max" else ref
        want = 20 * np.log10(np.maximum(values, amin)) - 20 * np.log10(
            max(amin, reference_amplitude)
        )
        if top_db is not None:
            want = np.maximum(want, want.max() - top_db)
        theirs = librosa.amplitude_to_db(
            values, ref=np.max if ref == "max" else ref, amin=amin, top_db=top_db
        )
        record_error(
            "AmplitudeToDecibel vs formula [dB, absolute]", np.max(np.abs(got[example] - want))
        )
        record_error(
            "AmplitudeToDecibel vs librosa [dB, absolute]", np.max(np.abs(got[example] - theirs))
        )
        np.testing.assert_allclose(got[example], want, atol=DB_TOLERANCE, rtol=0)
        np.testing.assert_allclose(got[example], theirs, atol=DB_TOLERANCE, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"amin": -1e-10}, "amin"),
        ({"amin": 0}, "amin"),
        ({"ref": -1.0}, "ref"),
        ({"ref": "min"}, "ref"),
        ({"top_db": -1.0}, "top_db"),
        ({"top_db": float("nan")}, "top_db"),
        ({"amin": float("inf")}, "amin"),
        ({"ref": float("inf")}, "ref"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spela.PowerToDecibel(**kwargs)
    with pytest.raises(ValueError, match=match):
        spela.AmplitudeToDecibel(**kwargs)
