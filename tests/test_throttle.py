from __future__ import annotations

import itertools
import threading
import time

import pytest

from mfwidgets.widgets.throttle import Throttle


def test_first_value_is_delivered_at_once_and_the_last_is_never_lost():
    got = []
    th = Throttle(got.append, interval=0.2)
    for i in range(50):
        th.submit(i)
    assert got == [0]  # the rest fall in the quiet period
    time.sleep(0.35)  # the timer delivers the latest value when the period ends
    assert got == [0, 49]


def test_flush_delivers_pending_value_immediately_and_only_once():
    got = []
    th = Throttle(got.append, interval=10)
    th.submit("a")
    th.submit("b")
    th.flush()
    th.flush()
    assert got == ["a", "b"]


def test_rate_is_bounded_under_a_flood_from_threads():
    got = []
    th = Throttle(got.append, interval=0.05)

    def flood(k):
        for i in range(2000):
            th.submit((k, i))

    threads = [threading.Thread(target=flood, args=(k,)) for k in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    th.flush()
    elapsed = time.monotonic() - t0
    assert len(got) <= elapsed / 0.05 + 3
    assert got[-1][1] == 1999


def test_a_timer_running_late_lets_no_second_delivery_in_before_it(monkeypatch):
    """On a loaded machine a timer thread may start well after its period ended; a value
    submitted meanwhile waits for it rather than being delivered at once beside it."""
    timers = []

    class LateTimer:  # starts only when the test says: a timer thread running late
        def __init__(self, wait, fn):
            self.fn, self.daemon = fn, True
            timers.append(self)

        def start(self):
            pass

        def cancel(self):
            pass

    import mfwidgets.widgets.throttle as throttle

    monkeypatch.setattr(throttle.threading, "Timer", LateTimer)
    got = []
    th = Throttle(lambda v: got.append((v, time.monotonic())), interval=0.05)
    th.submit(1)  # at once
    th.submit(2)  # in the quiet period: a timer is due
    time.sleep(0.08)  # the period is over, the timer has not run yet
    th.submit(3)  # must not be delivered at once: the due timer carries it
    assert [v for v, _ in got] == [1] and len(timers) == 1
    timers[0].fn()  # the late timer runs
    th.submit(4)  # just after a delivery: waits for a new period
    assert [v for v, _ in got] == [1, 3] and len(timers) == 2
    timers[1].fn()
    assert [v for v, _ in got] == [1, 3, 4]


def test_a_failing_callback_does_not_break_the_caller(caplog):
    def boom(_):
        raise RuntimeError("render failed")

    th = Throttle(boom, interval=0)
    th.submit(1)  # logged, not raised
    assert "throttled update failed" in caplog.text


def test_negative_interval_is_refused():
    with pytest.raises(ValueError, match="interval"):
        Throttle(print, interval=-1)


def test_a_costly_call_stretches_the_quiet_period_by_its_cost_factor():
    times = []

    def slow(value):
        times.append(time.monotonic())
        time.sleep(0.05)  # each delivery costs 50 ms

    th = Throttle(slow, interval=0.01, cost_factor=10.0)  # so calls come >= 0.5 s apart
    deadline = time.monotonic() + 1.3
    while time.monotonic() < deadline:
        th.submit(1)
        time.sleep(0.005)
    th.flush()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) <= 4 and all(g >= 0.45 for g in gaps[:-1]), gaps  # the flush may come early
    plain = Throttle(lambda v: time.sleep(0.05), interval=0.01)
    start = time.monotonic()
    while time.monotonic() - start < 0.5:
        plain.submit(1)
        time.sleep(0.005)
    assert plain.calls >= 6  # without the factor, calls follow the interval
