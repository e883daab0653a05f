"""Make the pictures README and the docs show, from real JupyterLab in headless Chromium.

Run: ``./dev pictures`` (needs the Last.fm data: MFWIDGETS_DATA, the cache or a download, and a
Chromium as for the browser tests). It opens a notebook of README's widgets with the browser
tests' harness (offline: the page may reach localhost only), clicks Train twice (the chapter's
first model, then a biased model by ALS) and writes into docs/img/:

- ``training.webp``: the trainer during the first run, the curves moving (frames captured every
  ~0.15 s, encoded by Pillow: an animated WebP, looping);
- ``trainer.png``, ``explorer.png`` (Coldplay, by cosine), ``map.png``, ``board.png`` and
  ``whatif.png``: each widget once both runs have trained.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

from harness import lab_and_page, open_notebook, run_cell, write_notebook  # noqa: E402

from mfwidgets.models.kinds import kind_spec  # noqa: E402
from mfwidgets.widgets.controls import css_class  # noqa: E402

IMG = HERE / "img"
CELLS = [
    "import mfwidgets as mf\ndata = mf.load_lastfm()",
    "trainer = mf.TrainerWidget(data, num_iterations=400, record_every=10, seed=0)\ntrainer",
    "explorer = mf.NeighborExplorer(data, trainer, measure='cosine')\n"
    "explorer.select('Coldplay')\n"
    "explorer",
    "emap = mf.EmbeddingMap(data, trainer)\nemap",
    "board = mf.ComparisonBoard(trainer, data)\nboard",
    "panel = mf.WhatIfPanel(data, trainer.model, runs=trainer)\npanel",
]
FRAME_SECONDS, MAX_FRAMES, FRAME_WIDTH = 0.15, 80, 900


def wait_idle(page, timeout: float = 300) -> None:
    """Until the notebook's kernel is idle (every cell sent has run)."""
    page.wait_for_timeout(500)
    page.wait_for_function(
        """() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status
        === 'idle'""",
        timeout=timeout * 1000,
    )


def train(page, root: str, frames: list[bytes] | None = None) -> None:
    """Click Train and wait for 'finished'; with ``frames``, capture the trainer meanwhile."""
    trainer = page.locator(f"{root} .mf-trainer")
    trainer.scroll_into_view_if_needed()
    trainer.locator(".mf-train").click()
    status = trainer.locator(".mf-status")
    deadline = time.monotonic() + 300
    while "finished" not in status.inner_text():
        if time.monotonic() > deadline:
            raise TimeoutError("the run did not finish in 5 minutes")
        if frames is not None and len(frames) < MAX_FRAMES:
            grab(page, trainer, frames)
        time.sleep(FRAME_SECONDS)
    if frames is not None:
        page.wait_for_timeout(500)  # the last curves drawn
        grab(page, trainer, frames)


def grab(page, element, frames: list[bytes]) -> None:
    """A frame of ``element`` as it is (a clip of the page: no wait for it to stand still)."""
    box = element.bounding_box()
    if box and box["width"] > 0 and box["height"] > 0:
        frames.append(page.screenshot(clip=box))


def animated_webp(frames: list[bytes], path: Path) -> Path:
    """Frames (PNG bytes) as a looping animated WebP, scaled to FRAME_WIDTH pixels wide."""
    from PIL import Image

    images = []
    for png in frames:
        im = Image.open(io.BytesIO(png)).convert("RGB")
        scale = FRAME_WIDTH / im.width
        images.append(im.resize((FRAME_WIDTH, round(im.height * scale)), Image.LANCZOS))
    height = images[-1].height  # the trainer as it ends (it grows when its chart appears)
    padded = []
    for im in images:
        canvas = Image.new("RGB", (FRAME_WIDTH, height), "white")
        canvas.paste(im, (0, 0))
        padded.append(canvas)
    durations = [int(FRAME_SECONDS * 1000)] * (len(padded) - 1) + [2500]  # rest on the end
    padded[0].save(
        path, save_all=True, append_images=padded[1:], duration=durations, loop=0, quality=70
    )
    return path


def main() -> None:
    IMG.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, lab_and_page(Path(tmp)) as (lab, page, blocked):
        name = write_notebook(lab, "pictures.ipynb", CELLS)
        root = open_notebook(page, lab, name)
        for i in range(len(CELLS) - 1):  # the what-if panel waits for a trained run
            run_cell(page, i)
        wait_idle(page)
        frames: list[bytes] = []
        train(page, root, frames)
        print(f"{len(frames)} frames of the first run", flush=True)
        page.set_viewport_size({"width": 1400, "height": 2800})  # every widget fits whole
        trainer = page.locator(f"{root} .mf-trainer")
        biased = kind_spec("biased").label
        trainer.locator(f".{css_class('kind')} select").select_option(label=biased)
        trainer.locator(f".{css_class('optimizer')} select").select_option(label="als")
        trainer.locator(f".{css_class('num_iterations')} input").fill("15")
        train(page, root)
        run_cell(page, len(CELLS) - 1)
        wait_idle(page)
        page.wait_for_timeout(3000)  # the explorer, map, board and what-if catch up
        shots = {
            "trainer.png": f"{root} .mf-trainer",
            "explorer.png": f"{root} .mf-explorer",
            "map.png": f"{root} .mf-embedding-map",
            "board.png": f"{root} .mf-board",
            "whatif.png": f"{root} .mf-whatif",
        }
        for file, selector in shots.items():
            element = page.locator(selector).first
            element.scroll_into_view_if_needed()
            element.screenshot(path=str(IMG / file))
        assert not blocked, blocked
    print(animated_webp(frames, IMG / "training.webp"))
    for file in [*shots, "training.webp"]:
        print(f"{IMG / file}: {(IMG / file).stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
