"""A session that lasts: many runs in one process stay quiet and let go of what they no longer
need (the long measurement is benchmarks/session_soak.py)."""

from __future__ import annotations

import logging
import warnings

from synthetic import dataset, random_listens

from mfwidgets.widgets import ComparisonBoard, NeighborExplorer, TrainerWidget

KINDS = [
    {"kind": "plain", "optimizer": "sgd", "num_iterations": 20, "learning_rate": 1.0},
    {"kind": "regularized", "optimizer": "sgd", "num_iterations": 20, "learning_rate": 1.0,
     "regularization_coeff": 0.1, "gravity_coeff": 1.0},
    {"kind": "biased", "optimizer": "als", "num_iterations": 3, "regularization_coeff": 0.1,
     "gravity_coeff": 0.0},
    {"kind": "implicit", "optimizer": "als", "num_iterations": 3, "regularization_coeff": 1.0,
     "gravity_coeff": 0.0},
]  # fmt: skip


def test_thirty_runs_are_quiet_and_keep_only_the_latest_machinery(caplog):
    data = dataset(random_listens(40, 60, 500, seed=3), 40, 60)
    caplog.set_level(logging.INFO)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        trainer = TrainerWidget(data, embedding_dim=3, init_stddev=0.1, seed=0)
        explorer = NeighborExplorer(data, trainer, measure="both")
        explorer.select(5)
        board = ComparisonBoard(trainer, data, k=5)
        for r in range(30):
            for name, value in KINDS[r % len(KINDS)].items():
                trainer.w[name].value = value
            trainer.train(block=True)
            assert trainer.last_error == "", trainer.last_error
        assert board.wait(120)
    loud = [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records if r.levelno > logging.INFO]
    assert not loud and not [str(w.message) for w in seen]  # no warning reaches the notebook
    models = list(trainer.runs.as_dict().values())
    assert len(models) == 30 and all(m._kernels is None for m in models[:-1])
    assert len(explorer.model_picker.value) == len(board.run_picker.value) == 8
