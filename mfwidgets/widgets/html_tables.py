"""The HTML tables the widgets show: item tables (shared rows highlighted, the query in bold)
and small frames of figures (significant cells marked). Every value is escaped."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analysis.compare import ALPHA
from .common import escape

TABLE_STYLE = (
    "<style>.mf-table{border-collapse:collapse;font-size:12px;margin:2px 8px 8px 0}"
    ".mf-table th,.mf-table td{padding:2px 6px;text-align:left;border-bottom:1px solid #ddd}"
    ".mf-table td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".mf-table tr.mf-shared td{background:#fff3c4}"
    ".mf-table tr.mf-query td{font-weight:600}</style>"
)


def table_html(df: pd.DataFrame, title: str, query: int | None = None, noun: str = "item") -> str:
    """An escaped HTML table of an item table; shared rows highlighted, the query in bold."""
    cols = [c for c in ("rank", "name", "score", "n_users", "norm", "tags") if c in df]
    heads = {"name": noun, "n_users": "users"}
    head = "".join(f"<th>{escape(heads.get(c, c).replace('_', ' '))}</th>" for c in cols)
    rows = []
    for rec in df.to_dict("records"):
        cls = []
        if rec.get("shared"):
            cls.append("mf-shared")
        if query is not None and rec.get("item_index") == query:
            cls.append("mf-query")
        cells = []
        for c in cols:
            v = rec[c]
            if isinstance(v, (float, np.floating)):
                cells.append(f'<td class="num">{v:.3f}</td>' if np.isfinite(v) else "<td>–</td>")
            elif isinstance(v, (int, np.integer)):
                cells.append(f'<td class="num">{int(v)}</td>')
            else:
                cells.append(f"<td>{escape(v)}</td>")
        rows.append(f'<tr class="{" ".join(cls)}">{"".join(cells)}</tr>')
    return (
        f'<div><b>{escape(title)}</b><table class="mf-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "–" if not np.isfinite(value) else f"{value:.4f}"
    return escape(value)


def frame_html(df: pd.DataFrame, title: str = "", marks: pd.DataFrame | None = None) -> str:
    """An escaped HTML table of a small frame; ``marks`` (same shape: p-values) puts a * and
    a highlight on cells below ALPHA, with the p-value as the cell's tooltip."""
    head = "".join(f"<th>{escape(c)}</th>" for c in [df.index.name or "", *df.columns])
    rows = []
    for name, row in df.iterrows():
        cells = [f"<td><b>{escape(name)}</b></td>"]
        for col, value in row.items():
            p = marks.loc[name, col] if marks is not None and col in marks else np.nan
            if np.isfinite(p) and p < ALPHA:
                cells.append(f'<td class="num mf-significant" title="p = {p:.2g}">'
                             f"{_cell(value)}*</td>")  # fmt: skip
            elif np.isfinite(p):
                cells.append(f'<td class="num" title="p = {p:.2g}">{_cell(value)}</td>')
            else:
                cells.append(f'<td class="num">{_cell(value)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    caption = f"<b>{escape(title)}</b>" if title else ""
    return (
        f'<div>{caption}<table class="mf-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
