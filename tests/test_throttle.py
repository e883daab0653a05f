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
