"""Sphinx configuration of the documentation site: the Markdown pages of docs/, the notebooks
and the API reference from the docstrings. Build with ``./dev docs`` (warnings are errors); the
site lands in docs/_build/html.

The notebooks are copied into docs/notebooks/ (not kept in git) when the build starts, and
executed when ``MFWIDGETS_DOCS_EXECUTE=cache`` (what ``./dev docs`` sets: each runs once, its
outputs cached in docs/_build/.jupyter_cache until it changes); without it they are shown as code,
or as run elsewhere: a notebook of the same name in the folder ``MFWIDGETS_DOCS_NOTEBOOKS`` names
(one saved from JupyterLab, say) is copied instead, its outputs kept.
Widgets show their static views (the HTML every mfwidgets widget carries in its mimebundle), and
every chart is drawn in them (``MFWIDGETS_STATIC_CHARTS=all``). The notebooks' $math$ is drawn
by MathJax 2 from the site itself (the copy Jupyter ships in jupyter-server-mathjax), not a CDN.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NOTEBOOKS = ROOT / "docs" / "notebooks"
NOTEBOOKS.mkdir(exist_ok=True)
_RUN = Path(os.environ.get("MFWIDGETS_DOCS_NOTEBOOKS") or ROOT / "notebooks")
for _nb in (ROOT / "notebooks").glob("*.ipynb"):
    shutil.copyfile(_RUN / _nb.name if (_RUN / _nb.name).is_file() else _nb, NOTEBOOKS / _nb.name)
os.environ.setdefault("MFWIDGETS_STATIC_CHARTS", "all")  # (the kernels inherit it)

import mfwidgets  # noqa: E402

project = "mfwidgets"
author = "the mfwidgets authors"
copyright = "2026, the mfwidgets authors"
release = version = mfwidgets.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

nb_execution_mode = os.environ.get("MFWIDGETS_DOCS_EXECUTE", "off")
nb_execution_cache_path = str(ROOT / "docs" / "_build" / ".jupyter_cache")
nb_execution_timeout = 1800
nb_execution_raise_on_error = True
nb_ipywidgets_js: dict = {}  # the static views need no widget scripts (from CDNs)
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", 100),
    ("html", "text/html", 10),
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"

html_theme = "sphinx_book_theme"
html_title = f"mfwidgets {release}"
html_static_path: list[str] = []
html_copy_source = False  # (the executed notebooks' sources: tens of MB of widget state)
#: MathJax 2 as Jupyter ships it for offline use, copied into the site (see _copy_mathjax)
MATHJAX = Path(importlib.util.find_spec("jupyter_server_mathjax").submodule_search_locations[0])
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {
    # Sphinx's own for MathJax 2 (the theme marks the page ignored: only .math is typeset) ...
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": True,
        "ignoreClass": "document",
        "processClass": "math|output_area",
    },
    # ... and the STIX-Web fonts, the only ones that copy holds (as Jupyter configures it)
    "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None},
    "showMathMenu": False,
}
# (no download button: the pages' sources are not copied, see html_copy_source)
html_theme_options = {"show_toc_level": 2, "use_download_button": False}

#: the pages of the site, in the order the index lists them (docs/index.md stays a plain page
#: for readers of the repository: the site's table of contents is added when it is read)
PAGES = ["quickstart", "install", "notebooks/matrix_factorization", "notebooks/movielens",
         "data", "api", "reference", "coming-from", "results", "spark", "performance",
         "design"]  # fmt: skip


def _site_index(app, docname: str, source: list[str]) -> None:
    """The index as the site shows it: its table of contents, and the README named (it lives
    outside docs/, at the root of the repository)."""
    if docname != "index":
        return
    text = source[0].replace("[README](../README.md)", "README (at the root of the repository)")
    source[0] = text + "\n```{toctree}\n:hidden:\n\n" + "\n".join(PAGES) + "\n```\n"


#: the widget state an executed notebook stores (tens of MB): only a widget manager reads it, and
#: the site shows the widgets' static views instead
WIDGET_STATE = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-state\+json">.*?</script>', re.S
)


def _drop_widget_state(app, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if "widget-state+json" in text:
            page.write_text(WIDGET_STATE.sub("", text), encoding="utf-8")


def _copy_mathjax(app, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        shutil.copytree(MATHJAX / "static", Path(app.outdir) / "_static" / "mathjax",
                        dirs_exist_ok=True)  # fmt: skip


def setup(app) -> None:
    app.connect("source-read", _site_index)
    app.connect("build-finished", _drop_widget_state)
    app.connect("build-finished", _copy_mathjax)
