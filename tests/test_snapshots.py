"""Snapshots of the factors during training: exact, bounded, across calls."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import random_listens

from mfwidgets.models import CFModel, TrainConfig


def _model():
    return CFModel(random_listens(25, 40, 300), kind="regularized", embedding_dim=4,
                   init_stddev=0.1, seed=0, n_users=25, n_items=40)  # fmt: skip


def test_snapshots_hold_exactly_the_factors_of_their_step():
    model = _model()
    model.train(num_iterations=99, learning_rate=5.0, snapshot_every=20)
    assert [s.iteration for s in model.snapshots] == [0, 20, 40, 60, 80, 100]
    # records fall on the snapshots (record_every lowered to divide snapshot_every)
    assert {0, 20, 40, 60, 80} <= set(model.history["iteration"])
    for steps in (20, 60):
        fresh = _model()
        if steps:
            fresh.train(num_iterations=steps - 1, learning_rate=5.0)
        snap = next(s for s in model.snapshots if s.iteration == steps)
        np.testing.assert_array_equal(snap.item_factors, fresh.item_factors)
        np.testing.assert_array_equal(snap.user_factors, fresh.user_factors)
    last = model.snapshots[-1]
    np.testing.assert_array_equal(last.item_factors, model.item_factors)  # where the call ended
    assert not last.item_factors.flags.writeable


def test_snapshots_continue_across_calls_and_with_als():
    model = _model()
    model.train(config=TrainConfig(num_iterations=5, optimizer="als", snapshot_every=2))
    model.train(config=TrainConfig(num_iterations=4, optimizer="als", snapshot_every=2))
    assert [s.iteration for s in model.snapshots] == [0, 2, 4, 5, 7, 9]
    model.train(num_iterations=5, learning_rate=1.0)  # no snapshots asked: none added
    assert model.snapshots[-1].iteration == 9


def test_the_memory_cap_refuses_before_any_work():
    model = _model()
    model.snapshot_cap = 10_000  # bytes; one snapshot of 65 × 4 float32 is 1,040
    with pytest.raises(ValueError, match=r"snapshot_every=1 would keep 101 snapshots.*"
                       r"use snapshot_every=13 or more"):  # fmt: skip
        model.train(num_iterations=99, learning_rate=5.0, snapshot_every=1)
    assert model.iterations_done == 0 and model.snapshots == []
    model.train(num_iterations=99, learning_rate=5.0, snapshot_every=13)
    assert len(model.snapshots) == 9  # 0, 13, ..., 91 and 100: within the cap
    assert sum(s.nbytes for s in model.snapshots) <= model.snapshot_cap
    with pytest.raises(ValueError, match="snapshot_every must be >= 1"):
        model.train(num_iterations=9, snapshot_every=0)
