"""Browser-test fixtures: a real JupyterLab server and headless Chromium driven by Playwright.

Never runs ``playwright install``: it launches the system Chromium (Debian's ``chromium``, or
``CHROMIUM_PATH``). Without one the tests skip with a message naming what is missing, unless
``MFWIDGETS_REQUIRE_BROWSER=1`` (set by CI), which turns the skip into a failure.
Every page may reach localhost only; a test that made the page ask for anything else fails.
"""

from __future__ import annotations

import os

import pytest
from harness import (
    ARTIFACTS,
    CHROME_ARGS,
    find_chromium,
    lab_server,
    offline_route,
    shutdown_kernels,
)

REQUIRE = os.environ.get("MFWIDGETS_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str):
    message = f"browser tests need {reason}"
    if REQUIRE:
        pytest.fail(f"{message} (MFWIDGETS_REQUIRE_BROWSER=1 forbids skipping)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if not path:
        _unavailable(
            "a Chromium: on Debian `sudo apt-get install chromium`, on macOS Google Chrome, "
            "or set CHROMIUM_PATH"
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package (pip install 'mfwidgets[test]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROME_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory, browser):
    """A real `jupyter lab` on 127.0.0.1 with a token; its notebook folder is ``lab["dir"]``."""
    # MFWIDGETS_QUICK shortens the chapter notebook's training runs (and only that); every chart
    # drawn in the static views, as a documentation build draws them (the chapter is published)
    env = {"MFWIDGETS_QUICK": "1", "MFWIDGETS_STATIC_CHARTS": "all"}
    with lab_server(tmp_path_factory.mktemp("jlab"), env=env) as lab:
        yield lab


@pytest.fixture
def page(browser, jupyter_lab):
    """A fresh page that may reach localhost only; the test fails if anything was blocked."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []
    ctx.route("**/*", offline_route(blocked))
    pg = ctx.new_page()
    pg.blocked_urls = blocked
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    yield pg
    ctx.close()
    shutdown_kernels(jupyter_lab)  # the next test starts on a quiet machine
    assert not blocked, f"the page tried to reach hosts other than localhost: {blocked[:5]}"
