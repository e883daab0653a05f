"""Background work and its races: the widgets' worker (the latest request wins), a history read
while a run appends to it."""

from __future__ import annotations

import threading

import pytest

from mfwidgets.widgets.worker import Cancel, LatestWorker

T = 10  # seconds any wait here may take at most (the tests never hang)


def blocking_job(log, label, release):
    """A job that records when it starts, waits for ``release`` (or its cancel), then records
    whether it was cancelled."""

    def job(cancel):
        log.append(("start", label))
        while not release.wait(0.01):
            if cancel.is_set():
                break
        log.append(("end", label, cancel.is_set()))

    return job


def started(log, label):
    return any(e[:2] == ("start", label) for e in log)


def wait_for(predicate):
    for _ in range(T * 100):
        if predicate():
            return
        threading.Event().wait(0.01)
    raise AssertionError("timed out")


def test_a_request_while_busy_cancels_the_running_job_and_runs_next():
    worker, log, release = LatestWorker(), [], threading.Event()
    worker.submit(blocking_job(log, "a", release))
    wait_for(lambda: started(log, "a"))
    worker.submit(blocking_job(log, "b", threading.Event()))
    wait_for(lambda: started(log, "b"))
    assert ("end", "a", True) in log  # a stopped at its next check
    worker.cancel()
    assert worker.wait(T) and not worker.busy
    assert [e for e in log if e[0] == "start"] == [("start", "a"), ("start", "b")]


def test_a_burst_of_requests_runs_only_the_latest():
    worker, log, release = LatestWorker(cancel_running=False), [], threading.Event()
    worker.submit(blocking_job(log, "first", release))
    wait_for(lambda: started(log, "first"))
    for i in range(20):
        worker.submit(lambda cancel, i=i: log.append(("start", i)))
    release.set()
    assert worker.wait(T)
    assert log == [("start", "first"), ("end", "first", False), ("start", 19)]


def test_cancel_mid_work_stops_the_job_and_drops_the_waiting_one():
    worker, log = LatestWorker(cancel_running=False), []
    worker.submit(blocking_job(log, "a", threading.Event()))
    wait_for(lambda: started(log, "a"))
    worker.submit(lambda cancel: log.append(("start", "never")))
    worker.cancel()
    assert worker.wait(T)
    assert log == [("start", "a"), ("end", "a", True)]


def test_a_failing_job_is_reported_and_the_worker_lives_on():
    errors = []
    worker = LatestWorker(on_error=errors.append)

    def boom(cancel):
        raise ValueError("bad value")

    worker.submit(boom)
    assert worker.wait(T)
    done = []
    worker.submit(lambda cancel: done.append(1))
    assert worker.wait(T)
    assert [str(e) for e in errors] == ["bad value"] and worker.failures == 1 and done == [1]


def test_close_while_busy_stops_the_job_and_refuses_new_ones():
    worker, log = LatestWorker(), []
    worker.submit(blocking_job(log, "a", threading.Event()))
    wait_for(lambda: started(log, "a"))
    assert worker.close(T) and not worker.busy and worker.closed
    assert log[-1] == ("end", "a", True)
    with pytest.raises(RuntimeError, match="closed"):
        worker.submit(lambda cancel: None)


def test_wait_is_bounded_and_cancel_hooks_run_once():
    worker, release = LatestWorker(), threading.Event()
    calls = []
    hooked = threading.Event()

    def job(cancel):
        cancel.on_set(lambda: calls.append("stop"))
        hooked.set()
        release.wait(T)

    worker.submit(job)
    assert hooked.wait(T)
    assert not worker.wait(0.05)  # still busy: wait returns, it does not hang
    worker.cancel()
    worker.cancel()
    release.set()
    assert worker.wait(T) and calls == ["stop"]
    late = Cancel()
    late.set()
    late.on_set(lambda: calls.append("at once"))
    assert calls == ["stop", "at once"]
    with pytest.raises(TypeError, match="job must be callable"):
        worker.submit("not a job")


def test_a_history_read_while_training_appends_is_consistent():
    from mfwidgets.models.training import History

    history, done = History(), threading.Event()

    def train():
        for i in range(300_000):
            history.append(i, {"train_error": 1.0 / (i + 1)}, 0.001 * i)
        done.set()

    threading.Thread(target=train, daemon=True).start()
    reads = 0
    while not done.is_set() or reads < 3:  # (a redraw reads while the run appends)
        frame = history.to_frame()
        assert list(frame["iteration"]) == list(range(len(frame)))
        reads += 1
