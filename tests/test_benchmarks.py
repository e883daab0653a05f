"""Benchmarks that cannot rot: each script's smoke run (``--quick``) ends in a JSON line with the
keys its ``RESULT_KEYS`` documents (the ones its full run records and the docs' tables read)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from _smoke import needs_browser, scripts  # noqa: E402
from harness import find_chromium  # noqa: E402

SCRIPTS = scripts()
#: every benchmark, by name: one that goes, or one added without a smoke run here, fails
EXPECTED = (
    "als_engines", "als_speed", "board_speed", "chapter_tf1", "explorer_speed", "figure_speed",
    "load_360k", "load_speed", "map_browser", "map_browser_large", "projection_speed", "quality",
    "quality_movielens", "replay_browser", "scale", "session_soak", "spark_als", "train_speed",
    "trainer_browser", "whatif_speed",
)  # fmt: skip


def result_keys(name: str) -> tuple[str, ...]:
    """The script's ``RESULT_KEYS``, read from its source (a literal tuple)."""
    tree = ast.parse((BENCH / f"{name}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "RESULT_KEYS" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"benchmarks/{name}.py documents no RESULT_KEYS")


def unavailable(name: str) -> str | None:
    """Why ``name`` cannot run here (a browser or Spark missing), unless CI requires it."""
    required = os.environ.get
    if (
        needs_browser(name)
        and find_chromium() is None
        and required("MFWIDGETS_REQUIRE_BROWSER") != "1"
    ):
        return "no Chromium"
    if (
        name == "spark_als"
        and shutil.which("java") is None
        and required("MFWIDGETS_REQUIRE_SPARK") != "1"
    ):
        return "no Java for Spark"
    return None


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    """Every runnable script's smoke run, in one process (benchmarks/_smoke.py)."""
    tmp = tmp_path_factory.mktemp("bench")
    names = [n for n in SCRIPTS if unavailable(n) is None]
    env = {**os.environ, "MFWIDGETS_BENCH_RESULTS": str(tmp / "results")}
    done = subprocess.run(
        [sys.executable, str(BENCH / "_smoke.py"), str(tmp / "smoke.json"), *names],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert not (tmp / "results").exists(), "a smoke run recorded results"
    return json.loads((tmp / "smoke.json").read_text())


def test_every_benchmark_documents_its_keys_and_takes_quick():
    assert tuple(SCRIPTS) == EXPECTED
    for name in SCRIPTS:
        assert result_keys(name), name
        assert "options(__doc__" in (BENCH / f"{name}.py").read_text(), f"{name}: no --quick"


@pytest.mark.realdata
@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_smoke_run_ends_in_its_documented_json(smoke, name):
    if (why := unavailable(name)) is not None:
        pytest.skip(why)
    run = smoke[name]
    assert run["error"] is None, f"{name} --quick failed:\n{run['error']}\n{run['stdout'][-2000:]}"
    last = run["stdout"].strip().splitlines()[-1]
    result = json.loads(last)
    assert isinstance(result, dict)
    missing = set(result_keys(name)) - set(result)
    assert not missing, f"{name}: keys {sorted(missing)} missing from {sorted(result)}"
