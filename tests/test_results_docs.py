"""The docs' tables and cited figures are those of the recorded benchmark runs (docs/tables.py):
a table typed by hand, or a run recorded without ``./dev results``, fails here."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))
import tables  # noqa: E402


def test_every_table_and_figure_in_the_docs_is_made_from_the_recorded_runs():
    stale = tables.stale()
    assert not stale, f"{', '.join(stale)} differ from benchmarks/results: run ./dev results"


def test_every_block_names_a_known_table_and_every_benchmark_has_a_performance_row():
    text = "".join((ROOT / name).read_text() for name in tables.FILES)
    named = {m[1] for m in tables.BLOCK.findall(text)}
    assert named == set(tables.TABLES)  # each table shown, none unknown
    benchmarks = {p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.name[0] != "_"}
    assert benchmarks - {"quality"} <= set(tables.PERFORMANCE)  # (quality.py: results.md)
    assert text.count("<!-- v ") >= 20


def test_a_recorded_figure_that_changes_makes_the_docs_stale(tmp_path, monkeypatch):
    results = tmp_path / "results"
    shutil.copytree(tables.RESULTS, results)
    record = json.loads((results / "quality.json").read_text())
    record["result"]["table"]["hybrid implicit MF (ALS)"]["recall@10"] += 0.01
    (results / "quality.json").write_text(json.dumps(record))
    monkeypatch.setattr(tables, "RESULTS", results)
    assert {"README.md", "docs/results.md"} <= set(tables.stale())
    record["result"].pop("cold_start")
    (results / "quality.json").write_text(json.dumps(record))
    with pytest.raises(KeyError, match="cold_start"):
        tables.stale()


def test_no_line_begins_with_a_figure_marker():
    """(A line that begins with ``<!--`` starts an HTML block in Markdown: it would break the
    paragraph it stands in.)"""
    for name in tables.FILES:
        text = (ROOT / name).read_text()
        if name.endswith(".ipynb"):
            text = "".join("".join(c["source"]) for c in json.loads(text)["cells"])
        bad = [line for line in text.splitlines() if line.lstrip().startswith("<!-- v ")]
        assert not bad, f"{name}: {bad[:3]}"
