"""A session that lasts: many runs in one process stay quiet and let go of what they no longer
need (the long measurement is benchmarks/session_soak.py)."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
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


def test_a_dozen_runs_are_quiet_and_keep_only_the_latest_machinery(caplog):
    data = dataset(random_listens(40, 60, 500, seed=3), 40, 60)
    caplog.set_level(logging.INFO)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        trainer = TrainerWidget(data, embedding_dim=3, init_stddev=0.1, seed=0)
        explorer = NeighborExplorer(data, trainer, measure="both")
        explorer.select(5)
        board = ComparisonBoard(trainer, data, k=5)
        for r in range(12):  # (more than the 8 shown; session_soak.py runs 50)
            for name, value in KINDS[r % len(KINDS)].items():
                trainer.w[name].value = value
            trainer.train(block=True)
            assert trainer.last_error == "", trainer.last_error
        assert board.wait(120)
    loud = [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records if r.levelno > logging.INFO]
    assert not loud and not [str(w.message) for w in seen]  # no warning reaches the notebook
    models = list(trainer.runs.as_dict().values())
    assert len(models) == 12 and all(m._kernels is None for m in models[:-1])
    assert len(explorer.model_picker.value) == len(board.run_picker.value) == 8


def test_runs_can_be_let_go_and_the_widgets_drop_them():
    from mfwidgets.widgets import EmbeddingMap

    data = dataset(random_listens(40, 60, 500, seed=3), 40, 60)
    trainer = TrainerWidget(data, embedding_dim=3, init_stddev=0.1, seed=0, num_iterations=20,
                            learning_rate=1.0)  # fmt: skip
    for _ in range(3):
        trainer.train(block=True)
    explorer = NeighborExplorer(data, trainer)
    explorer.select(5)
    board = ComparisonBoard(trainer, data, k=5)
    emap = EmbeddingMap(data, trainer, seed=0)
    assert board.wait(60) and emap.wait(60)
    last = trainer.runs.names[-1]
    trainer.runs.remove(last)  # the one shown everywhere
    assert last not in trainer.runs and trainer.model is trainer.runs.latest
    assert last not in explorer.model_picker.options
    assert last not in {name for name, _ in explorer.results}
    assert board.wait(60) and last not in board.results["metrics"].index
    assert emap.wait(60) and emap.model_pick.value == trainer.runs.names[-1]
    with pytest.raises(ValueError, match="no run named 'nope'"):
        trainer.runs.remove("nope")
    trainer.runs_pick.value = trainer.runs.names[0]
    trainer.remove_button.click()  # the trainer's own Remove: the picked run
    assert len(trainer.runs) == 1 and "removed run" in trainer.status.text
    trainer.runs.clear()
    assert trainer.remove_button.disabled and not trainer.runs and trainer.model is None
    assert not explorer.model_picker.options
    trainer.train(block=True)  # and the session goes on
    assert len(trainer.runs) == 1


def test_followers_see_each_run_once_trained_and_again_when_continued():
    from mfwidgets.widgets import EmbeddingMap

    data = dataset(random_listens(40, 60, 500, seed=3), 40, 60)
    trainer = TrainerWidget(data, embedding_dim=3, init_stddev=0.1, seed=0, num_iterations=30,
                            learning_rate=1.0)  # fmt: skip
    heard = []
    trainer.runs.observe(
        lambda runs, name: heard.append((name, runs[name].is_training, runs[name].version))
    )
    explorer = NeighborExplorer(data, trainer)
    explorer.select(5)
    board = ComparisonBoard(trainer, data, k=5)
    emap = EmbeddingMap(data, trainer, seed=0)

    def assert_followers_show(name):
        model = trainer.runs[name]
        assert board.wait(60) and emap.wait(60)
        alone = NeighborExplorer(data, {name: model})
        alone.select(5)
        table = alone.results[(name, "dot")]
        assert explorer.results[(name, "dot")][table.columns].equals(table)
        fresh = ComparisonBoard({name: model}, data, k=5)
        assert fresh.wait(60)
        got, want = board.results["metrics"].loc[name], fresh.results["metrics"].loc[name]
        assert got.drop("train_seconds").equals(want.drop("train_seconds"))
        if emap.model_pick.value == name:
            drawn = EmbeddingMap(data, {name: model}, seed=0)
            assert np.allclose(emap.points[["x", "y"]], drawn.points[["x", "y"]])

    trainer.train(block=True)
    first = trainer.runs.names[-1]
    assert heard == [(first, False, trainer.model.version)]  # once, trained, not before
    assert_followers_show(first)
    trainer.w["kind"].value = "biased"
    trainer.w["optimizer"].value = "als"
    trainer.w["num_iterations"].value = 3
    trainer.train(block=True)
    assert_followers_show(trainer.runs.names[-1])
    trainer.runs_pick.value = first  # the map shows the first run: continue it
    before = emap.points[["x", "y"]].to_numpy().copy()
    trainer.continue_button.click()
    assert trainer.wait(60) and heard[-1] == (first, False, trainer.runs[first].version)
    assert_followers_show(first)
    assert not np.allclose(emap.points[["x", "y"]], before)  # projected again


def test_close_stops_every_widgets_work_and_following():
    import threading

    from mfwidgets.widgets import EmbeddingMap, WhatIfPanel

    data = dataset(random_listens(40, 60, 500, seed=3), 40, 60)
    trainer = TrainerWidget(data, embedding_dim=3, init_stddev=0.1, seed=0, num_iterations=20,
                            learning_rate=1.0)  # fmt: skip
    trainer.train(block=True)
    explorer = NeighborExplorer(data, trainer)
    explorer.select(5)
    board = ComparisonBoard(trainer, data, k=5)
    emap = EmbeddingMap(data, trainer, seed=0)
    panel = WhatIfPanel(data, trainer.model, runs=trainer, sweeps=2)
    assert board.wait(60) and emap.wait(60)
    seen = (explorer.results_version, board.results_version, emap.model_pick.options)
    for widget in (explorer, board, emap, panel):
        widget.close()
    trainer.train(block=True)  # the closed widgets no longer follow the runs
    assert (explorer.results_version, board.results_version, emap.model_pick.options) == seen
    with pytest.raises(RuntimeError, match="closed"):
        board.refresh()
    trainer.w["num_iterations"].value = 10**7
    first = trainer.model
    trainer.train()  # closing the trainer mid-run stops it; what it did is kept
    for _ in range(3000):
        if trainer.model is not first and trainer.model.iterations_done >= 5:
            break
        threading.Event().wait(0.01)
    trainer.close()
    assert not trainer.busy and 5 <= trainer.model.iterations_done < 10**7
    assert trainer.runs.names[-1] in trainer.runs  # the stopped run joined the registry
    alive = [t.name for t in threading.enumerate() if t.name.startswith("mfwidgets-")]
    assert not alive


def test_runs_can_be_renamed_and_pinned_and_the_widgets_follow():
    from mfwidgets.widgets import common

    data = dataset(random_listens(40, 60, 500, seed=3), 40, 60)
    trainer = TrainerWidget(data, embedding_dim=3, init_stddev=0.1, seed=0, num_iterations=5,
                            learning_rate=1.0)  # fmt: skip
    trainer.train(block=True)
    first = trainer.runs.names[0]
    explorer = NeighborExplorer(data, trainer)
    explorer.select(5)
    board = ComparisonBoard(trainer, data, k=5)
    trainer.runs_pick.value = first
    trainer.pin_button.value = True  # the trainer's Pin: the picked run
    assert trainer.runs.pinned == [first] and "pinned" in trainer.status.text
    assert trainer.runs_pick.options[0] == (f"📌 {first}", first)
    for _ in range(common.MAX_SHOWN + 2):  # newer runs push the older ones out, not the pinned
        trainer.train(block=True)
    assert board.wait(60)
    shown = list(explorer.model_picker.value)
    assert len(shown) == common.MAX_SHOWN and shown[0] == first
    assert shown[1:] == trainer.runs.names[-(common.MAX_SHOWN - 1) :]
    assert list(board.run_picker.value) == shown and first in board.results["metrics"].index
    trainer.runs_pick.value = first
    trainer.new_name.value = "baseline"
    trainer.rename_button.click()  # the trainer's Rename: the picked run
    assert trainer.runs.names[0] == "baseline" and trainer.runs.pinned == ["baseline"]
    assert trainer.runs_pick.value == "baseline" and trainer.pin_button.value
    assert board.wait(60) and "baseline" in board.results["metrics"].index
    assert first not in board.results["metrics"].index
    assert ("baseline", "dot") in explorer.results and (first, "dot") not in explorer.results
    with pytest.raises(ValueError, match="exists already"):
        trainer.runs.rename("baseline", trainer.runs.names[-1])
    with pytest.raises(ValueError, match="no run named"):
        trainer.runs.pin("nope")
    trainer.pin_button.value = False
    assert trainer.runs.pinned == [] and "unpinned" in trainer.status.text
    assert trainer.runs_pick.options[0] == ("baseline", "baseline")


def test_runs_shown_keeps_the_pinned_and_the_latest():
    from mfwidgets.widgets.common import MAX_SHOWN, runs_shown

    names = [f"r{i}" for i in range(20)]
    assert runs_shown(names, (), ()) == names[-MAX_SHOWN:]
    assert runs_shown(names[:3], (), ()) == names[:3]
    assert runs_shown(names, (), (), ["r0", "r3"]) == ["r0", "r3", *names[-(MAX_SHOWN - 2) :]]
    offered, picked = tuple(names[:19]), ("r5",)  # r19 is new: it joins what was picked
    assert runs_shown(names, offered, picked, ["r1"]) == ["r1", "r5", "r19"]


def test_widgets_share_a_runs_item_embeddings_while_one_holds_them():
    import gc

    from mfwidgets.analysis.scoring import ItemEmbeddings
    from mfwidgets.models.registry import Runs

    data = dataset(random_listens(40, 60, 500, seed=3), 40, 60)
    trainer = TrainerWidget(data, embedding_dim=3, seed=0, num_iterations=5, learning_rate=1.0)
    trainer.train(block=True)
    name, model = trainer.runs.names[-1], trainer.model
    explorer = NeighborExplorer(data, trainer)
    explorer.select(5)
    board = ComparisonBoard(trainer, data, k=5)
    assert board.wait(60)
    held = trainer.runs.shared(name, "item_embeddings", ItemEmbeddings)
    assert explorer._cache[name] is held  # one copy of the run's float64 vectors, not two
    runs, made = Runs({"a": model}), []

    def make(m):
        made.append(m)
        return ItemEmbeddings(m)

    first = runs.shared("a", "emb", make)
    assert runs.shared("a", "emb", make) is first and len(made) == 1
    del first
    gc.collect()
    runs.shared("a", "emb", make)  # nobody held it: made again
    other = trainer.runs.latest
    assert runs.shared("gone", "emb", make, other).model is other and len(made) == 3
