"""The documentation site builds with warnings as errors, holds every page, the notebooks (as
code: ``./dev docs`` executes them) and the API reference from the docstrings, and loads nothing
from outside itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import mfwidgets

ROOT = Path(__file__).resolve().parent.parent
RESOURCE = re.compile(r'(?:src|href)="([^"]*)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def test_every_page_and_notebook_is_built(site):
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")}
    pages |= {f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert all((site / f"{page}.html").is_file() for page in pages), pages
    index = (site / "index.html").read_text()
    for page in pages - {"index"}:
        assert f'href="{page}.html"' in index, page  # reachable from the table of contents


def test_the_reference_documents_every_public_name(site):
    reference = (site / "reference.html").read_text()
    missing = [n for n in mfwidgets.__all__ if n != "__version__" and f">{n}<" not in reference]
    assert not missing, missing


def test_the_site_loads_nothing_from_outside(site):
    outside = {
        (page.name, url)
        for page in site.rglob("*.html")
        for url in RESOURCE.findall(page.read_text())
        if re.match(r"(?:[a-z]+:)?//", url) or url.startswith("mailto:")
    }
    assert not outside, sorted(outside)[:10]


def test_every_link_within_the_site_resolves(site):
    broken = set()
    for page in site.rglob("*.html"):
        if "_static" in page.parts:  # (the themes' template fragments)
            continue
        for url in RESOURCE.findall(page.read_text()):
            if re.match(r"(?:[a-z]+:|#)", url):  # outside (the test above), or on this page
                continue
            target = (page.parent / url.split("#")[0].split("?")[0]).resolve()
            if not target.exists():
                broken.add((page.relative_to(site).as_posix(), url))
    assert not broken, sorted(broken)[:10]
