"""The confusion summaries of training reports, against matrices counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from speaker_recognition import reporting

NAMES = ["Ann", "Bo", "Cy", "Di"]


def test_confusion_matrix_counts_rows_as_truth():
    truth = [0, 0, 1, 2, 2, 2]
    predicted = [0, 1, 1, 2, 0, 0]
    expected = [[1, 1, 0], [0, 1, 0], [2, 0, 1]]
    assert reporting.confusion_matrix(truth, predicted, 3).tolist() == expected


def test_confused_pairs_add_both_directions_and_rank_by_errors():
    matrix = np.array(
        [
            [50, 3, 0, 1],
            [4, 40, 2, 0],
            [0, 9, 30, 0],
            [1, 0, 0, 20],
        ]
    )
    # Errors by hand: Ann/Bo 3 + 4 = 7, Bo/Cy 2 + 9 = 11, Ann/Di 1 + 1 = 2; 20 in all.
    pairs = reporting.confused_pairs(matrix, NAMES)
    assert [pair["speakers"] for pair in pairs] == [["Bo", "Cy"], ["Ann", "Bo"], ["Ann", "Di"]]
    assert [pair["errors"] for pair in pairs] == [11, 7, 2]
    assert [pair["share"] for pair in pairs] == pytest.approx([11 / 20, 7 / 20, 2 / 20])
    assert reporting.confused_pairs(matrix, NAMES, count=1) == pairs[:1]
    assert (
        reporting.confused_pairs_line(pairs[:2]) == "Bo / Cy 11 (55% of errors), Ann / Bo 7 (35%)"
    )


def test_confused_pairs_keep_the_speakers_order_on_ties_and_skip_pairs_without_errors():
    matrix = np.diag([10, 10, 10, 10])
    matrix[3, 2] = 2
    matrix[0, 1] = 2
    pairs = reporting.confused_pairs(matrix, NAMES, count=5)
    assert [pair["speakers"] for pair in pairs] == [["Ann", "Bo"], ["Cy", "Di"]]
    assert reporting.confused_pairs(np.diag([5, 5, 5, 5]), NAMES) == []
    assert reporting.confused_pairs_line([]) == "no errors"


@pytest.mark.parametrize("count", [0, -1, 1.5, "3"])
def test_confused_pairs_refuse_a_count_that_is_not_a_positive_integer(count):
    with pytest.raises(ValueError, match="count must be an integer >= 1"):
        reporting.confused_pairs(np.eye(4, dtype=int), NAMES, count=count)
