"""IGNITE: sharpness-constrained surrogate training and offline gradient ascent (tiny torch runs)."""

import dataclasses

import numpy as np
import pytest

from cutslack.errors import InvalidInstanceError

torch = pytest.importorskip("torch")

from cutslack.surrogates.ignite import (IgniteSettings, offline_optimise, offline_task, score_percentiles,  # noqa: E402
                                        train_surrogate)

TINY = IgniteSettings(epochs=15, hidden=(16, 16), solver_samples=16, solver_steps=30, batch_size=64)


def test_offline_task_uses_lower_half():
    task = offline_task("ackley", 5, n_points=200, rng=0)
    assert task.X.shape == (200, 5) and np.allclose(task.objective(task.X), task.y)
    fresh = task.objective(np.random.default_rng(1).uniform(-5, 5, size=(4000, 5)))
    assert task.y.max() <= np.median(fresh) + 0.2


def test_offline_optimise_improves_on_data_and_is_seeded():
    task = offline_task("rosenbrock", 6, n_points=300, rng=0)
    a = offline_optimise(task.X, task.y, settings=TINY, objective=task.objective, lower=task.lower,
                         upper=task.upper, rng=3)
    b = offline_optimise(task.X, task.y, settings=TINY, objective=task.objective, lower=task.lower,
                         upper=task.upper, rng=3)
    assert np.allclose(a.candidates, b.candidates)
    assert a.percentiles["p100"] > task.y.max()
    assert set(a.percentiles) == {"p100", "p80", "p50"}


def test_sharpness_multiplier_rises_when_constraint_violated():
    task = offline_task("ackley", 4, n_points=200, rng=0)
    strict = dataclasses.replace(TINY, epsilon=1e-6, eta_lambda=1.0)
    _, stats = train_surrogate(task.X, task.y, strict, rng=0)
    assert stats["lambda"] > TINY.lambda0 and stats["sharpness"] > 0
    _, plain = train_surrogate(task.X, task.y, dataclasses.replace(TINY, sharpness=False), rng=0)
    assert plain["lambda"] == TINY.lambda0


def test_percentiles():
    assert score_percentiles(np.arange(11.0)) == {"p100": 10.0, "p80": 8.0, "p50": 5.0}


def test_bad_datasets():
    with pytest.raises(InvalidInstanceError, match="'X'"):
        train_surrogate(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(InvalidInstanceError, match="constant"):
        train_surrogate(np.random.default_rng(0).normal(size=(5, 2)), np.ones(5))
    with pytest.raises(InvalidInstanceError, match="NaN"):
        train_surrogate(np.zeros((3, 2)), np.array([1.0, np.nan, 2.0]))
