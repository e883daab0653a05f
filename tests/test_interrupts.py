"""Ctrl-C reaches a run training in the trainer's thread: in a script (or a cell) and in a
real ipykernel left idle, where JupyterLab's interrupt button is the only way to stop it."""

from __future__ import annotations

import os
import signal
import time

import pytest
from test_trainer import synthetic_data, wait_until

from mfwidgets.widgets.trainer import TrainerWidget


def test_ctrl_c_stops_a_run_training_in_the_widgets_thread():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a script
    t = TrainerWidget(synthetic_data(), embedding_dim=3, num_iterations=10**7, learning_rate=0.1,
                      seed=2)  # fmt: skip
    try:
        t.train()  # in the background: the main thread is free
        wait_until(lambda: t.model is not None and t.model.iterations_done >= 50)
        with pytest.raises(KeyboardInterrupt):  # the handler before ours still runs
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(10)
        assert t.wait(30), "the interrupt did not stop the run"
        steps = t.model.iterations_done
        assert steps < 10**7 and t.status.text.startswith("stopped")
        assert t.history["iteration"].iloc[-1] == steps  # the steps done are counted
        assert t.runs.latest is t.model  # and the run is kept
    finally:
        t.stop()  # bounded: never trains on when the interrupt was lost
        t.wait(30)
        signal.signal(signal.SIGINT, previous)


SETUP = """
import sys
sys.path.insert(0, {tests!r})
from test_trainer import synthetic_data
from mfwidgets.widgets.trainer import TrainerWidget
t = TrainerWidget(synthetic_data(), embedding_dim=3, num_iterations=10**7, learning_rate=0.1,
                  seed=2)
t.train()
"""


def run(client, code: str, timeout: float = 120) -> str:
    out: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))

    client.execute_interactive(code, timeout=timeout, output_hook=hook)
    return "".join(out).strip()


def test_the_kernels_interrupt_stops_a_run_while_the_kernel_is_idle():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        run(client, SETUP.format(tests=os.path.dirname(__file__)))
        deadline = time.monotonic() + 120
        while run(client, "print(t.model is not None and t.model.iterations_done >= 50)") != "True":
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.2)
        manager.interrupt_kernel()  # what JupyterLab's ■ button does: SIGINT, kernel idle
        check = "t.history['iteration'].iloc[-1] == t.model.iterations_done"
        said = run(client, f"print(t.wait(30), t.status.text.split(':')[0], {check})")
        assert said == "True stopped True", said
    finally:
        run(client, "t.stop(); t.wait(30)")
        client.stop_channels()
        manager.shutdown_kernel(now=True)
