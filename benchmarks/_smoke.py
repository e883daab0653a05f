"""Every benchmark's smoke run (``--quick``) in one process, so that a rename anywhere fails a
test instead of a release (``tests/test_benchmarks.py`` reads what this writes).

TensorFlow and the data load once for all; the browser benchmarks share one JupyterLab and
page. For each script: its printed output, its seconds and its error (a traceback), as one JSON
file. Run: python benchmarks/_smoke.py OUT.json [NAME ...]
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import shared_lab_page  # noqa: E402


def scripts() -> list[str]:
    """Every benchmark script's name (the helpers start with an underscore)."""
    return sorted(p.stem for p in HERE.glob("*.py") if not p.name.startswith("_"))


def needs_browser(name: str) -> bool:
    return "lab_page" in (HERE / f"{name}.py").read_text()


def run(name: str) -> dict:
    """``name``'s main(["--quick"]): {"stdout", "seconds", "error"}."""
    out = io.StringIO()
    t0 = time.perf_counter()
    error = None
    try:
        with contextlib.redirect_stdout(out):
            importlib.import_module(name).main(["--quick"])
    except BaseException as exc:  # SystemExit included: a script that gives up has failed
        if isinstance(exc, KeyboardInterrupt):
            raise
        error = "".join(traceback.format_exception(exc))[-4000:]
    return {"stdout": out.getvalue()[-20000:], "seconds": time.perf_counter() - t0, "error": error}


def main() -> None:
    target, names = Path(sys.argv[1]), sys.argv[2:] or scripts()
    results = {}
    plain = [n for n in names if not needs_browser(n)]
    browser = [n for n in names if needs_browser(n)]
    for name in plain:
        results[name] = run(name)
    if browser:
        with shared_lab_page():
            for name in browser:
                results[name] = run(name)
    target.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
