"""The training engine (``models/training.py``): metrics and history, continuation, seeds,
optimizers, Stop, divergence, Ctrl-C, threads, fused steps, the step budget, release."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from dense_reference import dense_loss_parts
from synthetic import random_listens

from mfwidgets.models import (
    CFModel,
    TrainingDiverged,
    build_model,
    build_regularized_model,
)
from mfwidgets.models.training import Callback, StepBudget


# ------------------------------------------------------------------------------------------------
# metrics, history, continuation, reproducibility
# ------------------------------------------------------------------------------------------------
def test_chapter_metric_names_records_and_return_shape():
    df = random_listens(n=120)
    plain = build_model(df, embedding_dim=3, seed=1)
    out = plain.train(num_iterations=25, learning_rate=0.5, record_every=10)
    assert [list(d) for d in out] == [["train_error", "test_error"]]
    hist = plain.history
    assert hist["iteration"].tolist() == [0, 10, 20, 25]
    assert {"train_error", "test_error", "seconds"} <= set(hist.columns)
    assert out[0]["train_error"] == pytest.approx(hist["train_error"].iloc[-1])
    reg = build_regularized_model(df, seed=1)
    out = reg.train(num_iterations=3, learning_rate=0.5)
    assert [list(d) for d in out] == [
        ["train_error_observed", "test_error_observed"],
        ["observed_loss", "regularization_loss", "gravity_loss"],
    ]
    assert reg.history["iteration"].tolist() == [0, 3]


def test_metrics_at_a_record_are_taken_before_that_step():
    df = random_listens()
    model = CFModel(df, embedding_dim=3, seed=2)
    model.train(num_iterations=0, learning_rate=0.5)  # one step, one record (at i = 0)
    U0 = CFModel(df, embedding_dim=3, seed=2).embeddings
    idx = df[["userID", "artistID"]].to_numpy()
    before = dense_loss_parts(
        tf.constant(U0["userID"]), tf.constant(U0["artistID"]), idx,
        df["listenCount"].to_numpy(np.float32),
    )["observed"]  # fmt: skip
    assert model.history["train_error"].iloc[0] == pytest.approx(float(before), rel=1e-5)
    assert model.iterations_done == 1


def test_continue_training_equals_one_longer_run():
    df = random_listens()
    a = CFModel(df, embedding_dim=3, seed=4)
    a.train(num_iterations=9, learning_rate=0.5)
    a.train(num_iterations=9, learning_rate=0.5)
    b = CFModel(df, embedding_dim=3, seed=4)
    b.train(num_iterations=19, learning_rate=0.5)
    assert a.iterations_done == b.iterations_done == 20
    np.testing.assert_allclose(a.embeddings["artistID"], b.embeddings["artistID"], rtol=1e-5)
    assert a.history["iteration"].tolist() == [0, 9, 10, 19]


def test_same_seed_same_numbers_different_seed_different_numbers():
    df = random_listens(n=120)
    runs = []
    for seed in (5, 5, 6):
        m = build_regularized_model(df, embedding_dim=4, seed=seed)
        m.train(num_iterations=15, learning_rate=0.5)
        runs.append((m.embeddings["userID"], m.history.drop(columns="seconds")))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    pd.testing.assert_frame_equal(runs[0][1], runs[1][1])
    assert not np.allclose(runs[0][0], runs[2][0])


@pytest.mark.parametrize("optimizer", ["adagrad", "adam"])
def test_keras_optimizers_reduce_the_loss(optimizer):
    df = random_listens(n=120)
    m = build_model(df, embedding_dim=3, seed=1)
    m.train(num_iterations=60, learning_rate=0.1, optimizer=optimizer)
    h = m.history
    assert h["train_error"].iloc[-1] < 0.5 * h["train_error"].iloc[0]


def test_keras_optimizer_instance_is_accepted():
    import keras

    m = build_model(random_listens(), embedding_dim=3, seed=1)
    m.train(num_iterations=5, optimizer=keras.optimizers.Adam(learning_rate=0.05))
    assert m.iterations_done == 6


# ------------------------------------------------------------------------------------------------
# stop, divergence, interrupt, threads
# ------------------------------------------------------------------------------------------------
class Recorder(Callback):
    def __init__(self, on_record=None):
        self.events, self._on_record = [], on_record

    def on_train_begin(self, model, info):
        self.events.append(("begin", info.num_steps))

    def on_record(self, model, iteration, metrics, seconds):
        self.events.append(("record", iteration))
        if self._on_record:
            self._on_record(model, iteration)

    def on_train_end(self, model, reason, info):
        self.events.append(("end", reason, info.steps_done))


def test_request_stop_from_another_thread_keeps_the_model():
    df = random_listens(n=150)
    m = build_model(df, embedding_dim=3, seed=1)
    seen = threading.Event()
    rec = Recorder(on_record=lambda model, it: it >= 20 and seen.set())
    t = threading.Thread(
        target=m.train, kwargs={"num_iterations": 10**7, "learning_rate": 0.1, "callbacks": rec}
    )
    t.start()
    try:
        assert seen.wait(60)
    finally:  # bounded: never trains on for minutes when the event never comes
        m.request_stop()
        t.join(30)
    assert not t.is_alive()
    end = rec.events[-1]
    assert end[0] == "end" and end[1] == "stopped"
    assert 20 <= m.iterations_done < 10**7
    assert m.history["iteration"].iloc[-1] == m.iterations_done  # the curve ends where it stands
    assert np.isfinite(m.embeddings["userID"]).all()
    before = m.iterations_done
    m.train(num_iterations=2)  # usable afterwards; a stale stop does not cut the next run
    assert m.iterations_done == before + 3


def test_a_second_concurrent_train_is_refused():
    m = build_model(random_listens(n=150), embedding_dim=3, seed=1)
    started = threading.Event()
    rec = Recorder(on_record=lambda model, it: started.set())
    t = threading.Thread(target=m.train, kwargs={"num_iterations": 10**7, "callbacks": rec})
    t.start()
    try:
        assert started.wait(60)
        with pytest.raises(RuntimeError, match="already training"):
            m.train(num_iterations=1)
    finally:
        m.request_stop()
        t.join(30)


@pytest.mark.parametrize("steps_per_call", [1, 1000])
def test_divergence_restores_the_last_finite_state_and_says_where(steps_per_call):
    df = random_listens(n=150)
    m = fused(build_model(df, embedding_dim=3, init_stddev=1.0, seed=1), steps_per_call)
    rec = Recorder()
    with pytest.raises(TrainingDiverged, match=r"iteration \d+.*smaller learning rate") as err:
        m.train(num_iterations=500, learning_rate=1e4, callbacks=rec, record_every=1)
    assert isinstance(err.value, RuntimeError)
    emb = m.embeddings
    assert np.isfinite(emb["userID"]).all() and np.isfinite(emb["artistID"]).all()
    hist = m.history
    assert len(hist) >= 1 and np.isfinite(hist.drop(columns="seconds").to_numpy()).all()
    assert rec.events[-1][:2] == ("end", "diverged")
    assert err.value.iteration > hist["iteration"].iloc[-1]
    assert m.iterations_done == hist["iteration"].iloc[-1]  # the count follows the embeddings
    # the restored embeddings are the ones of the last finite record
    idx = df.loc[m.train_listens.index, ["userID", "artistID"]].to_numpy()
    mse = np.mean((m.train_listens["listenCount"] - np.einsum(
        "nd,nd->n", emb["userID"][idx[:, 0]], emb["artistID"][idx[:, 1]])) ** 2)  # fmt: skip
    assert mse == pytest.approx(hist["train_error"].iloc[-1], rel=1e-4)


def fused(model: CFModel, steps_per_call: int) -> CFModel:
    """Make ``model`` fuse exactly ``steps_per_call`` steps into each compiled call."""
    model.training_state.budgets["sgd"] = StepBudget(first=steps_per_call, most=steps_per_call)
    return model


def assert_embeddings_after(model: CFModel, df: pd.DataFrame, steps: int, lr: float) -> None:
    """``model``'s embeddings are those of a fresh model of the same seed after ``steps`` steps."""
    fresh = build_model(df, embedding_dim=3, seed=1)
    fresh.train(num_iterations=steps - 1, learning_rate=lr)
    for key, value in fresh.embeddings.items():
        np.testing.assert_allclose(model.embeddings[key], value, rtol=1e-5, atol=1e-6)


def test_keyboard_interrupt_in_a_callback_keeps_embeddings_and_history_consistent():
    df = random_listens(n=150)
    m = fused(build_model(df, embedding_dim=3, seed=1), 60)  # records 0..50 in the first call

    def interrupt(model, it):
        if it >= 20:
            raise KeyboardInterrupt

    rec = Recorder(on_record=interrupt)
    with pytest.raises(KeyboardInterrupt):
        m.train(num_iterations=100, learning_rate=0.1, callbacks=rec)
    assert rec.events[-1][:2] == ("end", "interrupted")
    assert rec.events[-2] == ("record", 20)  # no callback after the interrupting one
    # the call had already run 60 steps: the count and history say so, as the embeddings do
    assert m.history["iteration"].tolist() == [0, 10, 20, 30, 40, 50]
    assert m.iterations_done == 60
    assert_embeddings_after(m, df, 60, lr=0.1)
    m.train(num_iterations=1)  # still usable
    assert m.iterations_done == 62


def test_ctrl_c_during_a_compiled_call_waits_until_its_steps_are_counted():
    df = random_listens(n=150)
    m = fused(build_model(df, embedding_dim=3, seed=1), 500)
    m.train(num_iterations=0, learning_rate=0.1)  # trace outside the timed part
    # A process started in the background by a non-interactive shell (as CI may run the suite)
    # begins with SIGINT ignored: Ctrl-C is Python's KeyboardInterrupt only where its handler
    # is installed, so the test installs it; and it is bounded: a lost interrupt fails in
    # seconds instead of training 10⁷ steps.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    bound = threading.Timer(30, m.request_stop)
    timer.start()
    bound.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            m.train(num_iterations=10**7, learning_rate=0.1)
    finally:
        timer.cancel()
        bound.cancel()
        signal.signal(signal.SIGINT, previous)
    steps = m.iterations_done
    assert 1 < steps < 10**7 and m.history["iteration"].iloc[-1] < steps
    assert_embeddings_after(m, df, steps, lr=0.1)


def test_records_fused_into_one_call_equal_one_call_per_step():
    df = random_listens(n=150)
    runs = [fused(build_model(df, embedding_dim=3, seed=1), k) for k in (1, 1000)]
    for m in runs:
        m.train(num_iterations=60, learning_rate=0.3, record_every=3)
    one, many = (m.history.drop(columns="seconds") for m in runs)
    pd.testing.assert_frame_equal(one, many, rtol=1e-6)
    assert runs[0].iterations_done == runs[1].iterations_done == 61
    np.testing.assert_allclose(runs[0].embeddings["userID"], runs[1].embeddings["userID"])


def test_step_budget_sizes_calls_to_the_target_duration():
    budget = StepBudget(seconds=0.2, first=1, most=1000)
    assert budget.steps() == 1
    budget.observe(1, 3.0)  # a tracing call
    assert budget.steps() == 1
    budget.observe(1, 0.002)
    assert budget.steps() == 100
    budget.observe(100, 0.4)
    assert budget.steps() == 50
    budget.observe(50, 1e-6)
    assert budget.steps() == 1000


def test_release_lets_go_of_the_machinery_and_training_goes_on_identically():
    df = random_listens(n=150)
    kept, released = (build_model(df, embedding_dim=3, seed=1) for _ in range(2))
    for m in (kept, released):
        m.train(num_iterations=20, learning_rate=0.3)
    released.release()
    assert released._kernels is None and len(released.history) == len(kept.history)
    np.testing.assert_array_equal(released.user_factors, kept.user_factors)  # factors stay
    for m in (kept, released):
        m.train(num_iterations=20, learning_rate=0.3)  # rebuilt on the next train
    np.testing.assert_allclose(released.user_factors, kept.user_factors, rtol=1e-6)
    pd.testing.assert_frame_equal(
        released.history.drop(columns="seconds"), kept.history.drop(columns="seconds")
    )
