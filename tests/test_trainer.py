"""TrainerWidget, headless: set values, click, wait for the thread, assert on state and charts."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from synthetic import dataset

from mfwidgets.models import ModelConfig, SplitConfig, TrainConfig
from mfwidgets.models.config import param
from mfwidgets.widgets.controls import ConfigForm
from mfwidgets.widgets.trainer import TrainerWidget, default_name

DEFAULTS = ConfigForm.initial_values([ModelConfig, TrainConfig, SplitConfig])


def synthetic_data(n_users=30, n_artists=40, seed=0):
    rng = np.random.default_rng(seed)
    cells = rng.choice(n_users * n_artists, 500, replace=False)
    listens = pd.DataFrame(
        {
            "userID": cells // n_artists,
            "artistID": cells % n_artists,
            "listenCount": rng.uniform(1, 5, len(cells)),
        }
    )
    listens.loc[listens.index[:2], ["userID", "artistID"]] = [[n_users - 1, n_artists - 1]] * 2
    listens = listens.drop_duplicates(["userID", "artistID"]).reset_index(drop=True)
    return dataset(listens, n_users, n_artists)


@pytest.fixture
def data():
    return synthetic_data()


def chart_rows(live_chart) -> list[dict]:
    spec = live_chart.widget.spec
    rows = [r for values in spec.get("datasets", {}).values() for r in values]
    return [r for r in rows if "metric" in r]


def test_defaults_are_the_chapter_first_run(data):
    t = TrainerWidget(data)
    assert t.w["embedding_dim"].value == 30 and t.w["init_stddev"].value == 0.5
    assert t.w["learning_rate"].value == 10.0 and t.w["num_iterations"].value == 1000
    assert t.w["kind"].value == "plain" and t.w["optimizer"].value == "sgd"
    assert t.w["regularization_coeff"].disabled and t.w["gravity_coeff"].disabled
    assert t.stop_button.disabled is not False  # Stop is disabled when idle
    assert set(DEFAULTS) >= {"embedding_dim", "init_stddev", "learning_rate", "num_iterations"}


def test_a_kind_given_starts_from_its_own_defaults_and_optimizer(data):
    t = TrainerWidget(data, kind="biased", embedding_dim=8)
    own = ModelConfig(kind="biased", embedding_dim=8)
    assert t.w["embedding_dim"].value == 8  # given: kept
    assert t.w["init_stddev"].value == own.init_stddev
    assert t.w["regularization_coeff"].value == own.regularization_coeff
    assert t.w["optimizer"].value == "als" and t.w["num_iterations"].value == 10
    t.train(block=True)
    assert t.model.config == own.__class__(**{**own.__dict__, "seed": t.model.config.seed})
    assert t.model.iterations_done == 10
    sgd = TrainerWidget(data, kind="biased", optimizer="sgd")
    assert sgd.w["optimizer"].value == "sgd" and sgd.w["num_iterations"].value == 1000


def test_initial_values_use_core_names_and_bad_ones_raise(data):
    t = TrainerWidget(data, embedding_dim=4, num_iterations=30, learning_rate=0.5, seed=3)
    assert (t.w["embedding_dim"].value, t.w["seed"].value) == (4, "3")
    with pytest.raises(TypeError, match="embeding_dim"):
        TrainerWidget(data, embeding_dim=4)
    with pytest.raises(ValueError, match="embedding_dim"):
        TrainerWidget(data, embedding_dim=0)
    with pytest.raises(ValueError, match="kind"):
        TrainerWidget(data, kind="deep")
    with pytest.raises(TypeError, match="Dataset"):
        TrainerWidget(object())


def test_click_train_runs_in_a_thread_and_fills_progress_history_and_charts(data):
    t = TrainerWidget(data, embedding_dim=3, num_iterations=60, learning_rate=0.5, seed=1)
    t.train_button.click()
    assert t.wait(120)
    assert t.model is not None and list(t.models) == ["model"]
    assert t.runs.names == ["model"]
    assert t.progress.value == t.progress.max == 61
    assert "iteration 61/61" in t.progress_label.value
    hist = t.history
    assert hist["iteration"].tolist() == [0, 10, 20, 30, 40, 50, 60]
    assert t.status.text.startswith("finished: model") and "test_error" in t.status.text
    rows = chart_rows(t.curves.errors)
    assert {r["metric"] for r in rows} == {"train_error", "test_error"}
    assert len(rows) == 2 * len(hist)
    # the global-mean baseline's test MSE is a reference rule on the error panel
    spec = t.curves.errors.widget.spec
    rules = [
        lay for lay in spec["layer"] if lay["mark"] == "rule" or lay["mark"].get("type") == "rule"
    ]
    assert rules
    assert t.curves.losses.widget.layout.display == "none"  # the plain model has one metric group
    assert not t.train_button.disabled and t.stop_button.disabled


def test_programmatic_train_block_and_regularized_panels(data):
    t = TrainerWidget(data, kind="regularized", embedding_dim=3, num_iterations=20,
                      learning_rate=0.5, init_stddev=0.1)  # fmt: skip
    model = t.train(block=True)
    assert model is t.model and "reg_model" in t.models
    assert t.curves.losses.widget.layout.display is None
    assert {r["metric"] for r in chart_rows(t.curves.losses)} == {
        "observed_loss", "regularization_loss", "gravity_loss",
    }  # fmt: skip


def test_invalid_values_show_a_message_and_start_nothing(data):
    t = TrainerWidget(data)
    for key, bad, words in [
        ("embedding_dim", 0, "embedding_dim"),
        ("learning_rate", -1.0, "learning_rate"),
        ("holdout_fraction", 1.5, "holdout_fraction"),
        ("seed", "abc", "seed"),
        ("num_iterations", -5, "num_iterations"),
    ]:
        t.w[key].value = bad
        t.train_button.click()
        assert not t.busy and t.model is None
        assert words in t.status.text and t.status.level == "error"
        t.w[key].value = DEFAULTS[key] if key != "seed" else "0"


def wait_until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_stop_keeps_the_model_and_continue_trains_it_further(data):
    t = TrainerWidget(data, embedding_dim=3, num_iterations=10**7, learning_rate=0.1, seed=2)
    t.train_button.click()
    assert t.train_button.disabled and not t.stop_button.disabled
    try:
        wait_until(lambda: t.model is not None and t.model.iterations_done >= 50)
    except BaseException:  # bounded: the run never trains on after a failed wait
        t.stop_button.click()
        raise
    t.train_button.click()  # a second click cannot start a second run
    assert list(t.models) == []  # a run joins the registry once trained (or stopped)
    t.stop_button.click()
    t0 = time.monotonic()
    wait_until(lambda: t.status.text.startswith("stopped"), timeout=30)
    # Stop is honoured at the next block of steps, not at the run's 10**7th: the run ends and
    # says so. (Not a latency bound: in a process of 300 tests' objects one of Python's
    # automatic full garbage collections alone takes about a second — CI saw 1.2 s twice.)
    assert time.monotonic() - t0 < 10.0
    assert t.wait(30)
    steps = t.model.iterations_done
    assert 50 <= steps < 10**7 and t.status.text.startswith("stopped")
    assert t.history["iteration"].iloc[-1] == steps
    assert np.isfinite(t.model.embeddings["userID"]).all()
    t.w["num_iterations"].value = 9
    t.continue_button.click()
    assert t.wait(60)
    assert t.model.iterations_done == steps + 10
    assert list(t.models) == ["model"]  # the same run, trained further


def test_divergence_is_reported_with_a_hint_and_the_model_stays_usable(data):
    t = TrainerWidget(data, embedding_dim=3, num_iterations=300, learning_rate=1e5, seed=1,
                      init_stddev=1.0, record_every=1)  # fmt: skip
    t.train(block=True)
    assert t.status.text.startswith("diverged") and "smaller learning rate" in t.status.text
    assert np.isfinite(t.model.embeddings["artistID"]).all()
    assert not t.train_button.disabled


def test_save_and_load_through_the_core_format(data, tmp_path):
    t = TrainerWidget(data, embedding_dim=3, num_iterations=5, learning_rate=0.5, seed=1)
    t.train(block=True)
    path = tmp_path / "first.mfmodel"
    t.path.value = str(path)
    t.save_button.click()
    assert path.exists() and "saved" in t.status.text
    t.load_button.click()
    assert "first" in t.models
    np.testing.assert_array_equal(
        t.models["first"].embeddings["userID"], t.models["model"].embeddings["userID"]
    )
    t.path.value = str(tmp_path / "missing.mfmodel")
    t.load_button.click()
    assert t.status.level == "error" and "missing.mfmodel" in t.status.text


def test_implicit_kind_forces_als_and_log_toggle_redraws(data):
    t = TrainerWidget(data, kind="implicit", embedding_dim=3, num_iterations=3)
    assert t.w["optimizer"].value == "als" and t.w["optimizer"].disabled
    assert t.w["learning_rate"].disabled
    t.train(block=True)
    assert "implicit_model" in t.models and t.model.iterations_done == 3  # ALS: n sweeps
    t.curves.log_y.value = True
    assert t.curves.errors.widget.spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"


def test_default_names_follow_the_chapter():
    assert default_name("plain", 0.5, set()) == "model"
    assert default_name("plain", 0.05, {"model"}) == "model_lowinit"
    assert default_name("regularized", 0.05, set()) == "reg_model"
    assert default_name("plain", 0.5, {"model", "model_2"}) == "model_3"


def test_add_run_keeps_a_model_trained_in_code(data):
    from mfwidgets.models import CFModel

    t = TrainerWidget(data)
    model = CFModel.from_listens(data, seed=0, embedding_dim=2)
    model.train(num_iterations=5, learning_rate=0.5)
    t.add_run("model", model)
    assert t.models == {"model": model} and t.model is model and t.runs.names == ["model"]
    assert len(chart_rows(t.curves.errors)) == 2 * len(model.history)
    assert not t.continue_button.disabled
    with pytest.raises(TypeError, match="CFModel"):
        t.add_run("x", object())


@dataclass(frozen=True)
class ShrinkConfig(ModelConfig):
    """A configuration with one more hyper-parameter, used by the regularized kind only."""

    shrink: float = param(
        0.5, "a made-up factor in [0, 1]", minimum=0, maximum=1, kinds=("regularized",)
    )


def test_a_new_config_field_gets_its_control_with_no_other_edit(data):
    t = TrainerWidget(data, config_class=ShrinkConfig, num_iterations=2, learning_rate=0.5)
    control = t.w["shrink"]
    assert control.value == 0.5 and control.tooltip == "a made-up factor in [0, 1]"
    assert control.disabled  # the plain kind does not use it
    t.w["kind"].value = "regularized"
    assert not control.disabled
    control.value = 2.0  # validated by the configuration's own range
    t.train_button.click()
    assert not t.busy and "shrink must be <= 1" in t.status.text
    control.value = 0.25
    model = t.train(block=True)
    assert isinstance(model.config, ShrinkConfig) and model.config.shrink == 0.25
    t.w["kind"].value = "plain"  # unused fields go back to their default
    assert t.train(block=True).config.shrink == 0.5


def test_controls_are_built_from_the_configuration(data):
    t = TrainerWidget(data)
    for cls in (ModelConfig, TrainConfig, SplitConfig):
        for name, p in cls.params():
            assert t.w[name].description == name and t.w[name].tooltip == p.help
    t.w["kind"].value = "biased"
    assert not t.w["item_bias_reg"].disabled and t.w["alpha"].disabled
    t.w["optimizer"].value = "als"
    assert t.w["learning_rate"].disabled


def test_tune_button_fills_the_controls_with_the_best_validation_point(data):
    t = TrainerWidget(data, kind="biased", embedding_dim=2, regularization_coeff=0.2, seed=0)
    t.tune_button.click()
    assert t.busy and t.stop_button.disabled is False
    assert t.wait(120)
    table = t.last_tune.table
    assert set(table["embedding_dim"]) == {1, 2, 4}
    assert set(table["regularization_coeff"]) == {0.1, 0.2, 0.4}
    best = table.iloc[0]
    assert t.w["embedding_dim"].value == best["embedding_dim"]
    assert t.w["regularization_coeff"].value == best["regularization_coeff"]
    assert t.status.text.startswith("tuned:") and "validation rmse" in t.status.text
    edges = t.last_tune.edges  # an edge is said, with the way to widen the grid
    assert all(f"{n}={getattr(t.last_tune.best, n)}" in t.status.text for n in edges)
    assert t.progress.value == t.progress.max == 9 and "fit 9/9" in t.progress_label.value
    assert not t.train_button.disabled and not t.runs.names  # tuning keeps no run


def test_tune_stops_and_ranks_the_implicit_kind_by_recall_and_refuses_hybrids(data):
    t = TrainerWidget(data, kind="biased", embedding_dim=8, seed=0)
    t.tune_button.click()
    wait_until(lambda: t.last_tune is not None or "fit 1/" in t.progress_label.value, 60)
    t.stop_button.click()
    assert t.wait(60)
    assert len(t.last_tune.table) < 9 and t.last_tune.stopped
    t.w["kind"].value = "implicit"
    t.w["embedding_dim"].value = 2
    result = t.tune(block=True)
    assert result.metric == "recall@10" and len(result.table) == 9 and not result.stopped
    assert "validation recall@10" in t.status.text
    assert t.w["embedding_dim"].value == result.best.embedding_dim
    t.w["kind"].value = "hybrid"
    assert t.tune() is None and "does not offer the hybrid kinds" in t.status.text


def test_only_the_run_in_training_keeps_its_compiled_machinery(data):
    t = TrainerWidget(data, embedding_dim=3, num_iterations=5, learning_rate=0.1, seed=2)
    t.train(block=True)
    first = t.model
    assert first.kernels() is not None
    t.train(block=True)
    assert first._kernels is None and t.model._kernels is not None  # memory follows what is kept
    steps = first.iterations_done
    first.train(num_iterations=2, learning_rate=0.1)  # an old run still trains on
    assert first.iterations_done == steps + 3


def test_runs_of_one_seed_and_holdout_share_one_split(data):
    t = TrainerWidget(data, embedding_dim=2, num_iterations=2, learning_rate=0.1, seed=4)
    first = t.train(block=True)
    second = t.train(block=True)
    assert second.split is first.split and first.split.seed == 4  # one copy of the frames
    t.w["seed"].value = "5"
    assert t.train(block=True).split is not first.split


def test_stop_while_the_model_is_being_built_stops_the_run_at_once(data):
    t = TrainerWidget(data, embedding_dim=3, num_iterations=10**7, learning_rate=0.1, seed=2)
    t.train()
    t.stop()  # at once: the run is still building its model
    assert t.wait(60)
    assert t.status.text.startswith("stopped") and t.model.iterations_done < 10**7
