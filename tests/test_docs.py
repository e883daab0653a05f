"""The front door: every Python name README and the docs mention exists where they say, and
every public name is documented (README's quick start runs in tests/browser/test_export_browser)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import mfwidgets

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
API = ROOT / "docs" / "api.md"
NAME = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
DOTTED = re.compile(r"`(mfwidgets(?:\.[A-Za-z_]\w*)+)")


def resolve(path: str, base: object = mfwidgets) -> object:
    """The object a dotted name denotes, from ``base`` (``mfwidgets.x.y`` from the package);
    AttributeError when any part is missing."""
    parts = path.split(".")
    if parts[0] == "mfwidgets":
        base, parts = mfwidgets, parts[1:]
    obj = base
    for part in parts:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            if not isinstance(obj, type(mfwidgets)):
                raise
            obj = importlib.import_module(f"{obj.__name__}.{part}")  # a module not yet imported
    return obj


def api_rows() -> list[tuple[str, str]]:
    """(first cell, second cell) of every table row in docs/api.md."""
    rows = []
    for line in API.read_text().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) >= 2 and cells[0].startswith("`"):
            rows.append((cells[0], cells[1]))
    return rows


def spans(cell: str) -> list[str]:
    return [m.group() for s in re.findall(r"`([^`]+)`", cell) if (m := NAME.match(s))]


def test_every_name_in_the_api_tables_exists_where_it_says():
    missing = []
    for first, second in api_rows():
        names = spans(first)
        module = names[0] if names[0].startswith("mfwidgets.") and len(names) == 1 else None
        if module is not None and isinstance(resolve(module), type(mfwidgets)):
            checks = [(n, resolve(module)) for n in spans(second.split(":")[0])]
        else:
            # the row's names: top-level unless dotted from mfwidgets; after "→", a return type
            # (a class some floor defines)
            checks = [(n, mfwidgets) for n in spans(first.split("→")[0])]
            checks += [(n, None) for n in spans(first.split("→")[1])] if "→" in first else []
        for name, base in checks:
            try:
                if base is None:
                    assert any(hasattr(resolve(p), name) for p in mfwidgets.SUBPACKAGES), name
                else:
                    resolve(name, base)
            except (AttributeError, AssertionError, ImportError):
                missing.append(f"{name} (in {first[:50]})")
    assert not missing, missing


def test_every_dotted_name_in_readme_and_docs_resolves():
    missing = []
    for page in DOCS:
        for name in DOTTED.findall(page.read_text()):
            try:
                resolve(name)
            except (AttributeError, ImportError):
                missing.append(f"{page.name}: {name}")
    assert not missing, missing


def test_every_public_name_is_documented():
    documented = {n.split(".")[0] for first, _ in api_rows() for n in spans(first)}
    assert not set(mfwidgets.__all__) - {"__version__"} - documented


def test_the_api_check_fails_on_a_name_that_does_not_exist():
    with pytest.raises(AttributeError):
        resolve("CFModel.no_such_method")
    with pytest.raises((AttributeError, ImportError)):
        resolve("mfwidgets.analysis.no_such_function")


#: the libraries the side-by-side blocks import that the tests do not install
NOT_INSTALLED = ("surprise", "lightfm")


def side_by_side() -> list[str]:
    """The Python blocks of coming-from.md's side-by-side section, in order."""
    page = (ROOT / "docs" / "coming-from.md").read_text()
    section = page.split("## The same task, side by side", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.filterwarnings("ignore:OpenBLAS is configured:RuntimeWarning")  # (implicit's advice)
def test_the_side_by_side_examples_run_as_written(movielens_100k, tmp_path, monkeypatch, capsys):
    blocks = side_by_side()
    shown = [b for b in blocks if re.search(rf"^from ({'|'.join(NOT_INSTALLED)})\b", b, re.M)]
    assert len(blocks) == 4 and len(shown) == 1  # implicit and mfwidgets run; Surprise is shown
    (tmp_path / "ml-100k").symlink_to(Path(movielens_100k.source).resolve())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        if block not in shown:
            exec(compile(block, "coming-from.md", "exec"), namespace)
    out = capsys.readouterr().out
    # a user's top 10 and item 50's neighbours by both libraries, our table with the baselines
    assert out.count("Index([") == 2 and "dot score" in out and "user+item bias" in out
    # and the biased model of the Surprise comparison beats the bias baseline
    metrics = namespace["mf"].evaluate({"biased": namespace["model"]}, namespace["data"],
                                       namespace["split"])  # fmt: skip
    assert metrics.loc["biased", "test_rmse"] < metrics.loc["user+item bias", "test_rmse"]
