"""Controls built from configuration classes: one per described field, with its meaning as the
tooltip, greyed out where the chosen kind or optimizer does not use it."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ..models.config import Config, Param

STYLE = {"description_width": "150px"}


def css_class(name: str) -> str:
    return f"mf-{name.replace('_', '-')}"


def make_control(name: str, param: Param, value: Any, labels: dict[Any, str] | None = None):
    """The widget for one field: a dropdown for choices, a text box for an optional integer
    (empty: None), else an integer or a number box."""
    common = {"description": name, "tooltip": param.help, "style": STYLE}
    if param.choices is not None:
        labels = labels or {}
        options = [(labels.get(c, str(c)), c) for c in param.choices]
        widget = W.Dropdown(options=options, value=value, **common)
    elif param.optional:
        text = "" if value is None else str(value)
        widget = W.Text(text, placeholder="empty: none", **common)
    elif param.integer:
        widget = W.IntText(value, **common)
    else:
        widget = W.FloatText(value, **common)
    widget.add_class(css_class(name))
    return widget


def read_control(name: str, param: Param, widget: W.Widget) -> Any:
    """The field's value from its control (text boxes parsed; errors name the field)."""
    value = widget.value
    if param.optional and isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{name} must be an integer or empty, got {text!r}") from None
    return value


class ConfigForm:
    """Controls for every described field of some configuration classes, in their order.

    ``values()`` reads them (the configuration classes validate what is built from them);
    ``sync(kind, optimizer)`` greys out what the kind and optimizer do not use.
    """

    def __init__(
        self,
        classes: list[type[Config]],
        values: dict[str, Any],
        labels: dict[str, dict[Any, str]] | None = None,
    ) -> None:
        labels = labels or {}
        self.params: dict[str, Param] = {}
        self.owner: dict[str, type[Config]] = {}
        for cls in classes:
            for name, param in cls.params():
                self.params.setdefault(name, param)
                self.owner.setdefault(name, cls)
        self.widgets: dict[str, W.Widget] = {
            name: make_control(name, p, values[name], labels.get(name))
            for name, p in self.params.items()
        }

    @staticmethod
    def initial_values(classes: list[type[Config]]) -> dict[str, Any]:
        """Each field's first value: its suggestion, else its default."""
        values: dict[str, Any] = {}
        for cls in classes:
            values = cls.suggestions() | values
        return values

    def values(self) -> dict[str, Any]:
        return {n: read_control(n, p, self.widgets[n]) for n, p in self.params.items()}

    def fields(self, cls: type[Config]) -> dict[str, Any]:
        """The current values of ``cls``'s fields."""
        values = self.values()
        return {name: values[name] for name, _ in cls.params()}

    def sync(self, kind: str, optimizer: str | None) -> None:
        for name in self.params:
            self.widgets[name].disabled = not self.owner[name].uses(name, kind, optimizer)
