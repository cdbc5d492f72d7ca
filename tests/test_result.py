"""Result and SampleSet behaviour."""

import numpy as np
import pytest

from cutslack import Result, SampleSet, Status
from cutslack.result import relative_gap


def test_sampleset_aggregate_lowest_and_feasible_fraction():
    X = np.array([[0, 1], [1, 1], [0, 1], [1, 0]])
    s = SampleSet(X, [2.0, -1.0, 2.0, 0.5], feasible=[True, False, True, True])
    assert s.num_reads == 4 and len(s) == 4
    np.testing.assert_array_equal(s.best, [1, 1])
    agg = s.aggregate()
    assert len(agg) == 3 and agg.num_reads == 4
    np.testing.assert_array_equal(agg.energies, [-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(agg.counts, [1, 1, 2])
    assert s.feasible_fraction() == pytest.approx(0.75)
    assert s.lowest(2).energies.tolist() == [-1.0, 0.5]
    both = SampleSet.concatenate([s, s])
    assert both.num_reads == 8


def test_sampleset_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="energies"):
        SampleSet(np.zeros((3, 2)), [1.0, 2.0])


def test_relative_gap_signs():
    assert relative_gap(90, 100, "max") == pytest.approx(0.1)
    assert relative_gap(110, 100, "min") == pytest.approx(0.1)
    assert relative_gap(None, 100, "min") is None
    assert relative_gap(1.0, float("inf"), "min") is None


def test_result_is_frozen_and_summarises():
    r = Result(x=[1], objective=3.0, feasible=True, status=Status.OPTIMAL, method="dp", wall_time=0.1, gap=0.0)
    assert r.success
    assert "dp: optimal" in r.summary()
    with pytest.raises(Exception):
        r.objective = 4.0
    assert r.replace(objective=4.0).objective == 4.0
