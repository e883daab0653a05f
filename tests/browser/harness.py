"""Real JupyterLab + headless Chromium for tests and benchmarks (no pytest in here).

``lab_server(root)`` starts `jupyter lab` on 127.0.0.1 with a token, a fresh workspace folder and
the settings that remove flakiness (no news pop-ups, no cell windowing), as root when run as root,
and stops it and its kernels on exit. The page helpers drive notebooks through JupyterLab's own
commands and scope every selector to the active notebook panel.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ARTIFACTS = Path(os.environ.get("ARTIFACTS") or Path(tempfile.gettempdir()) / "mfwidgets-artifacts")
CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Lab settings that remove flakiness: no news/update toasts, every cell attached to the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
_MAC_CHROMES = [
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
]


def find_chromium() -> str | None:
    """Path of a Chromium-family browser: $CHROMIUM_PATH, then the usual names and places."""
    if os.environ.get("CHROMIUM_PATH"):
        return os.environ["CHROMIUM_PATH"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return next((p for p in _MAC_CHROMES if Path(p).exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab_server(root: Path, env: dict[str, str] | None = None) -> Iterator[dict]:
    """Run `jupyter lab` in ``root``; yield {url, token, dir, log}; stop it and its kernels.

    ``env`` adds variables for the server and the kernels it starts.
    """
    nbdir = root / "notebooks"
    nbdir.mkdir(parents=True, exist_ok=True)
    settings = root / "user-settings"
    for rel, value in LAB_SETTINGS.items():
        p = settings / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={nbdir}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={root / 'ws'}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI runs as root
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(root / "runtime"), **(env or {}))
    log_path = root / "jupyter.log"
    url = f"http://127.0.0.1:{port}"
    t0 = time.time()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("jupyter lab died:\n" + log_path.read_text())
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                    break
                except OSError:
                    if time.time() - t0 > 90:
                        raise TimeoutError("jupyter lab did not start in 90 s") from None
                    time.sleep(0.2)
            yield {"url": url, "token": token, "dir": nbdir, "log": log_path}
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def shutdown_kernels(lab: dict, timeout: float = 30) -> int:
    """Shut down every kernel the server runs (a test's kernels must not outlive it: each holds
    a gigabyte or two and may still be computing); returns how many there were. Bounded."""

    def call(method: str, path: str = "") -> bytes:
        req = urllib.request.Request(
            f"{lab['url']}/api/kernels{path}?token={lab['token']}", method=method
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()

    kernels = json.loads(call("GET"))
    for k in kernels:
        with contextlib.suppress(OSError):  # (already gone)
            call("DELETE", f"/{k['id']}")
    deadline = time.time() + timeout
    while json.loads(call("GET")) and time.time() < deadline:
        time.sleep(0.2)
    return len(kernels)


def offline_route(blocked: list[str]):
    """A Playwright route handler that lets only localhost through and records the rest."""
    import urllib.parse

    def route(r):
        url = r.request.url
        host = urllib.parse.urlparse(url).hostname
        if host in ("127.0.0.1", "localhost") or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    return route


@contextlib.contextmanager
def lab_and_page(root: Path) -> Iterator[tuple[dict, Any, list[str]]]:
    """(lab, page, blocked URLs): JupyterLab in ``root`` and an offline page (for benchmarks)."""
    from playwright.sync_api import sync_playwright

    with lab_server(root) as lab, sync_playwright() as pw:
        browser, page, blocked = offline_page(pw)
        try:
            yield lab, page, blocked
        finally:
            browser.close()


def offline_page(pw) -> tuple[Any, Any, list[str]]:
    """(browser, page, blocked URLs): headless Chromium whose page may reach localhost only."""
    browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROME_ARGS)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []
    ctx.route("**/*", offline_route(blocked))
    return browser, ctx.new_page(), blocked


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # (no line per request on stderr)
        pass


@contextlib.contextmanager
def served(folder):
    """``folder`` over HTTP on 127.0.0.1 (a free port), for as long as the block runs."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ---------- page helpers -----------------------------------------------------------------------
_workspaces = itertools.count()


def write_notebook(lab: dict, name: str, cells: list[str]) -> str:
    """Write a notebook of code cells (markdown when a cell starts with '#md') into Lab's folder."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(c[3:].strip())
        if c.startswith("#md")
        else nbformat.v4.new_code_cell(c)
        for c in cells
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, lab["dir"] / name)
    return name


def nb_sel(page) -> str:
    """CSS selector of the active notebook panel (never a restored, hidden one)."""
    return "#" + page.evaluate("CSS.escape(window.jupyterapp.shell.currentWidget.id)")


def open_notebook(page, lab: dict, name: str, timeout: int = 120_000) -> str:
    """Open ``name`` in a fresh workspace, wait for an idle kernel, return the panel selector."""
    ws = f"t{next(_workspaces)}"
    page.goto(f"{lab['url']}/lab/workspaces/{ws}/tree/{name}?reset&token={lab['token']}")
    page.wait_for_function(
        f"() => window.jupyterapp?.shell.currentWidget?.context?.path === {name!r}",
        timeout=timeout,
    )
    page.wait_for_selector(f"{nb_sel(page)} .jp-Cell", timeout=timeout)
    page.wait_for_function(
        """() => { const w = window.jupyterapp?.shell.currentWidget;
        const k = w?.sessionContext?.session?.kernel; return k && k.status === 'idle'; }""",
        timeout=timeout,
    )
    return nb_sel(page)


def prompts(page) -> list[str]:
    return page.eval_on_selector_all(
        f"{nb_sel(page)} .jp-CodeCell .jp-InputArea-prompt", "els => els.map(e => e.textContent)"
    )


def run_all(page, timeout: int = 180_000, wait: bool = True) -> None:
    """Run > Run All Cells through the real menu; optionally wait until every cell has run."""
    page.locator(".lm-MenuBar-item", has_text="Run").click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    if wait:
        wait_all_executed(page, timeout)


def wait_all_executed(page, timeout: int = 180_000) -> None:
    """Every code cell shows '[n]:' and the kernel is idle; on timeout save a screenshot."""
    try:
        page.wait_for_function(
            """() => { const w = window.jupyterapp.shell.currentWidget;
            const p = [...w.node.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                .map(e => e.textContent);
            const k = w.sessionContext.session.kernel;
            return p.length && p.every(t => /\\[\\d+\\]/.test(t)) && k.status === 'idle'; }""",
            timeout=timeout,
        )
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "timeout.png"))
        raise AssertionError(f"cells did not all run; prompts: {prompts(page)}") from None


def cell_errors(page) -> list[str]:
    """Text of every error output in the active notebook."""
    return page.eval_on_selector_all(
        f"{nb_sel(page)} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        f", {nb_sel(page)} .jp-RenderedText[data-mime-type='application/vnd.jupyter.error']",
        "els => els.map(e => e.textContent)",
    )


def save_notebook(page, path: Path, timeout: float = 60) -> None:
    """File > Save as the user saves (outputs kept); wait until ``path`` holds outputs."""
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if any(c.get("outputs") for c in nb["cells"]):
            return
        time.sleep(0.5)
    raise AssertionError(f"{path.name} was not saved with its outputs within {timeout:.0f} s")


def run_cell(page, index: int) -> None:
    """Select cell ``index`` (0-based among all cells) and run it."""
    page.evaluate(
        f"""() => {{ const nb = window.jupyterapp.shell.currentWidget.content;
        nb.activeCellIndex = {index}; nb.deselectAll(); }}"""
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")


def cell(page, index: int):
    return page.locator(f"{nb_sel(page)} .jp-Cell").nth(index)


# Samples the DOM every `ms` inside the page while the kernel works: [t, bar width, marks, text].
SAMPLER = """async ([root, bar, chart, status, ms, until]) => {
  const out = [], t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const b = document.querySelector(`${root} ${bar} .progress-bar`);
    const c = document.querySelector(`${root} ${chart}`);
    const s = document.querySelector(`${root} ${status}`)?.textContent ?? '';
    out.push([Math.round(performance.now() - t0), b?.style.width ?? '', c ? 1 : 0, s]);
    if (until && s.includes(until)) break;
    await new Promise(r => setTimeout(r, 100));
  }
  return out; }"""
