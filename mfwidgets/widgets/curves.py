"""TrainingCurves: the trainer's live metric panels, a log-y toggle, and a static image of the
final curves for notebooks opened without a kernel (hidden while the live panels show)."""

from __future__ import annotations

import base64
from typing import Any

import ipywidgets as W
import pandas as pd

from .. import charts
from .display import LiveChart
from .throttle import Throttle

#: shown while the widget is live: hides the static image written under it, so the curves
#: appear once (JupyterLab's output classes; the image stays for nbviewer, GitHub, nbconvert)
HIDE_STATIC = (
    "<style>.jp-OutputArea-child:has(.mf-trainer) + .jp-OutputArea-child:has(.jp-RenderedImage)"
    "{display:none}</style>"
)
#: seconds between redraws when idle and while a run is in progress
REDRAW_IDLE, REDRAW_BUSY = 0.25, 1.0


class TrainingCurves:
    """One chart per metric panel (errors, loss parts), redrawn from any thread.

    ``submit(model)`` may be called at every record: redraws are rate-limited (a few per second
    when idle, one per second while ``busy``, and never more than ~5 % of the time, since each
    costs the kernel and, on a small machine, the browser shares its cores). ``baseline`` is a
    reference line on the errors panel (the global mean's test MSE).
    """

    def __init__(self) -> None:
        empty = charts.training_charts(pd.DataFrame({"iteration": pd.Series(dtype=float)}))[0]
        self.errors = LiveChart(empty, renderer="svg", css_class="mf-chart-errors")
        self.losses = LiveChart(empty, renderer="svg", css_class="mf-chart-losses")
        self.losses.widget.layout.display = "none"
        self.log_y = W.Checkbox(value=False, description="log y", indent=False)
        self.log_y.add_class("mf-logy")
        self.baseline: float | None = None
        self.model: Any = None
        self._static = None  # display handle of the static image, once displayed
        self._throttle = Throttle(self._draw, REDRAW_IDLE, cost_factor=20.0)
        self.log_y.observe(lambda _: self.draw_now(self.model), names="value")
        self.widget = W.VBox(
            [
                W.HTML(HIDE_STATIC, layout=W.Layout(display="none")),
                W.HBox([self.log_y]),
                W.HBox([self.errors.widget, self.losses.widget]),
            ]
        )

    def busy(self, running: bool) -> None:
        self._throttle.interval = REDRAW_BUSY if running else REDRAW_IDLE

    def submit(self, model: Any) -> None:
        self.model = model
        self._throttle.submit(model)

    def close(self) -> None:
        """Drop a pending redraw (the trainer is closing)."""
        self._throttle.cancel()

    def draw_now(self, model: Any) -> None:
        """Redraw at once (replacing any pending redraw)."""
        self.submit(model)
        self._throttle.flush()

    def figures(self, model: Any) -> list[charts.Figure]:
        hist = model.history if model is not None else pd.DataFrame({"iteration": []})
        return charts.training_charts(hist, log_y=self.log_y.value, baseline=self.baseline)

    def _draw(self, model: Any) -> None:
        panels = self.figures(model)
        self.errors.show(panels[0])
        if len(panels) > 1:
            self.losses.show(panels[1])
        self.losses.widget.layout.display = None if len(panels) > 1 else "none"

    def display_static(self) -> None:
        """Reserve the output under the widget for the static image (call when displayed)."""
        from IPython.display import display

        self._static = display({"text/plain": ""}, raw=True, display_id=True)

    def write_static_image(self, model: Any) -> None:
        """Write the model's final curves as a PNG output (visible without a kernel)."""
        if self._static is None or model is None or model.history.empty:
            return
        try:
            png = base64.b64encode(charts.to_png(*self.figures(model))).decode()
        except Exception:  # a missing image must not break the widget
            return
        self._static.update({"image/png": png, "text/plain": "final training curves"}, raw=True)
