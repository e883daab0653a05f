"""ItemPicker: a name box and a ranked dropdown of matches (the explorer's lookup, compact),
with the closest names offered when nothing matches."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import numpy as np

from ..analysis.lookup import ItemIndex
from .common import StatusLine

MATCHES = 20


def did_you_mean(noun: str, text: str, index: ItemIndex, ids: list[int]) -> str:
    """The status line when a typed name matched nothing and the closest names are offered."""
    names = ", ".join(str(index.names[i]) for i in ids[:3])
    return f"no {noun} name contains {text!r}: did you mean {names}? (showing the closest)"


class ItemPicker:
    """``search`` (a text box) and ``matches`` (a dropdown whose value is the picked item id),
    starting on the most popular item; messages go to ``status``."""

    def __init__(self, data: Any, index: ItemIndex, status: StatusLine, width: str = "300px"):
        self.data, self.index, self.status = data, index, status
        self.search = W.Text(placeholder="type a name", description=data.item_noun,
                             layout=W.Layout(width=width))  # fmt: skip
        self.matches = W.Dropdown(options=[], description="matches", layout=W.Layout(width="400px"))
        self.search.add_class("mf-search")
        self.matches.add_class("mf-matches")
        top = int(np.argmax(data.item_popularity))
        self.matches.options = [(self.label(top), top)]
        self.matches.value = top
        self.search.observe(self._on_search, names="value")
        self.widget = W.HBox([self.search, self.matches])

    def label(self, i: int) -> str:
        return f"{self.index.names[i]} ({self.index.popularity[i]} {self.data.user_noun}s)"

    def _on_search(self, change) -> None:
        text = change["new"]
        ids, suggested = self.index.lookup(text, MATCHES)
        if not ids:
            self.status.show(f"no {self.data.item_noun} name contains {text!r}", "warn")
            return
        self.matches.options = [(self.label(i), i) for i in ids]
        self.matches.value = ids[0]
        if suggested:
            self.status.show(did_you_mean(self.data.item_noun, text, self.index, ids), "warn")
