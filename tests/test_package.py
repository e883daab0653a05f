"""Package contract: cheap, side-effect-free import; lazy TensorFlow; layer boundaries; lint."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "mfwidgets"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_import_has_no_heavy_imports_or_side_effects():
    code = """
import sys, pandas as pd
before = pd.get_option("display.max_rows")
import mfwidgets
heavy = [m for m in ("tensorflow", "altair", "ipywidgets", "IPython") if m in sys.modules]
assert not heavy, heavy
assert pd.get_option("display.max_rows") == before
print(mfwidgets.__version__)
"""
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == __import__("mfwidgets").__version__


def test_every_public_name_resolves_and_unknown_names_fail():
    import mfwidgets

    for name in mfwidgets.__all__:
        assert getattr(mfwidgets, name) is not None, name
    assert set(mfwidgets.__all__) <= set(dir(mfwidgets))
    with pytest.raises(AttributeError, match="no_such_thing"):
        mfwidgets.no_such_thing  # noqa: B018


def test_subpackages_are_attributes_after_a_plain_import():
    code = """
import sys
import mfwidgets
assert "mfwidgets.spark" not in sys.modules and "tensorflow" not in sys.modules
print(mfwidgets.spark.read_spark_model.__name__, mfwidgets.charts.Figure.__name__,
      mfwidgets.analysis.project.__name__, mfwidgets.models.Runs.__name__,
      mfwidgets.data.Dataset.__name__, mfwidgets.widgets.TrainerWidget.__name__)
assert set(mfwidgets.SUBPACKAGES) <= set(dir(mfwidgets))
"""
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "read_spark_model", "Figure", "project", "Runs", "Dataset", "TrainerWidget"
    ]  # fmt: skip


def test_missing_tensorflow_says_what_to_install():
    code = """
import sys
sys.modules["tensorflow"] = None  # makes `import tensorflow` raise ImportError
from mfwidgets.models.backend import import_tensorflow
try:
    import_tensorflow()
except ImportError as e:
    print(e)
"""
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert "pip install 'mfwidgets[cpu]'" in out.stdout


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "library, allowed",
    [
        ("tensorflow", {"backend.py", "kernels.py", "als.py"}),
        ("keras", {"backend.py"}),
        ("altair", {"charts", "display.py"}),
        ("ipywidgets", {"widgets"}),
        ("IPython", {"widgets"}),
        ("pyspark", {"spark.py"}),
    ],
)
def test_layer_boundaries(library, allowed):
    """TensorFlow only in the models floor's kernels, altair in charts (and the widgets'
    display module, for JupyterChart), ipywidgets/IPython only in widgets/."""
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if library in _imports(path) and not ({rel.parts[0], rel.name} & allowed):
            offenders.append(str(rel))
    assert not offenders, f"{library} imported outside {allowed}: {offenders}"


#: the floors, bottom up: a module may import only its own floor and the ones below
FLOORS = [
    "checks",
    "memory",
    "data",
    "models",
    "spark",
    "analysis",
    "charts",
    "widgets",
    "__main__",
]


def _floor(parts: tuple[str, ...]) -> str:
    return parts[0].removesuffix(".py")


def _package_imports(path: Path) -> list[tuple[tuple[str, ...], list[str]]]:
    """(target module parts inside mfwidgets, imported names) of each import of the package."""
    rel = path.relative_to(PKG).with_suffix("").parts
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = rel[: len(rel) - node.level]
                target = (*base, *(node.module.split(".") if node.module else []))
            elif node.module and node.module.split(".")[0] == "mfwidgets":
                target = tuple(node.module.split(".")[1:])
            else:
                continue
            out.append((target, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "mfwidgets":
                    out.append((tuple(a.name.split(".")[1:]), []))
    return out


def test_each_floor_imports_only_floors_below_it():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).parts
        if rel == ("__init__.py",):
            continue  # the lazy top-level re-exports
        mine = FLOORS.index(_floor(rel))
        for target, names in _package_imports(path):
            if not target:  # `from .. import __version__` (or from a floor's own package)
                continue
            if FLOORS.index(_floor(target)) > mine:
                offenders.append(f"{'/'.join(rel)} imports {'.'.join(target)} {names}")
    assert not offenders, offenders


def test_no_module_imports_a_private_name_of_another():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = "/".join(path.relative_to(PKG).parts)
        for target, names in _package_imports(path):
            private = [p for p in target if p.startswith("_") and p not in ("__main__",)]
            private += [n for n in names if n.startswith("_") and n != "__version__"]
            if private:
                offenders.append(f"{rel}: {'.'.join(target)} {private}")
    assert not offenders, offenders


def test_no_print_in_library_code():
    offenders = []
    for path in PKG.rglob("*.py"):
        if path.name == "__main__.py":
            continue  # the command-line entry point may print
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders


def test_ruff_format_and_lint_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed (pip install 'mfwidgets[test]')")
    fmt = subprocess.run([ruff, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    lint = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_dataset_is_never_tracked():
    """The HetRec licence forbids redistribution: no data file may be committed."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    bad = [f for f in files if f.endswith((".dat", ".zip")) or "hetrec" in f.lower()]
    assert not bad, bad


def test_the_wheel_ships_the_licence_the_notebooks_and_every_subpackage(tmp_path):
    """Built as pip builds it (from a copy: the checkout stays clean), then used from the wheel's
    files alone: ``python -m mfwidgets notebooks DEST`` finds the notebooks as package data."""
    import zipfile

    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(PKG, src / "mfwidgets", ignore=ignore)
    shutil.copytree(ROOT / "notebooks", src / "notebooks", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("mfwidgets-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    packages = {p.parent.relative_to(ROOT).as_posix() for p in PKG.rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names  # a new subpackage is not left out
    shipped = {Path(n).name for n in names if n.startswith("mfwidgets/notebooks/")}
    assert shipped == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run(
        [sys.executable, "-m", "mfwidgets", "notebooks", str(tmp_path / "mine")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert {p.name for p in (tmp_path / "mine").iterdir()} == shipped


def test_notebooks_command_keeps_what_is_there_unless_forced(tmp_path):
    from mfwidgets.__main__ import copy_notebooks, main

    copied = copy_notebooks(tmp_path)
    assert {p.name for p in copied} >= {"matrix_factorization.ipynb", "movielens.ipynb"}
    copied[0].write_text("mine")
    assert main(["notebooks", str(tmp_path)]) == 2  # refused: the user's file is kept
    assert copied[0].read_text() == "mine"
    assert main(["notebooks", str(tmp_path), "--force"]) == 0
    assert copied[0].read_text() != "mine"
