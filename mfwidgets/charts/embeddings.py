"""Charts of embeddings: the chapter's norm-versus-popularity panels and the map of all items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from ..analysis.embeddings import OTHER, norm_popularity
from ..models.registry import Runs
from .figure import Figure, table


def embedding_norm_chart(
    models: Any, data: Any, *, log_scale: bool = True, width: int = 300, height: int = 260
) -> Figure:
    """The chapter's embedding norm against popularity (users per item), one panel per model.

    ``models``: a model, a list, a dict name -> model, or runs. One interval brush is linked
    across the panels (select items in one, see them in all); hover shows the item; each panel's
    subtitle carries the Spearman rank correlation between norm and popularity.
    """
    named = Runs.of(models).as_dict()
    df, rhos = norm_popularity(named, data)
    if log_scale:
        df = df[df["n_users"] > 0]
    data_ref, tables = table(df, "norms")
    views = [f"norm_panel_{i}" for i in range(len(named))]
    # one brush whose views are all the panels: drag in any panel, see the items in all
    brush = alt.TopLevelSelectionParameter(
        name="brush",
        select=alt.IntervalSelectionConfig(type="interval", encodings=["x", "y"]),
        views=views,
    )
    x_scale = alt.Scale(type="log") if log_scale else alt.Scale(type="linear")
    x_title = f"n_users ({data.user_noun}s per {data.item_noun})"
    panels = []
    for i, name in enumerate(named):
        panels.append(
            alt.Chart()
            .mark_circle(size=14, opacity=0.6)
            .encode(
                x=alt.X("n_users:Q", scale=x_scale, title=x_title),
                y=alt.Y(f"norm{i}:Q", title="embedding norm"),
                color=alt.condition(
                    {"param": "brush"}, alt.value("#4c78a8"), alt.value("lightgray")
                ),
                tooltip=[
                    alt.Tooltip("name:N", title=data.item_noun),
                    "tag:N",
                    "n_users:Q",
                    alt.Tooltip(f"norm{i}:Q", format=".3f"),
                ],
            )
            .properties(
                name=views[i],
                title=alt.TitleParams(
                    str(name), subtitle=f"Spearman ρ(norm, n_users) = {rhos[name]:.2f}"
                ),
                width=width,
                height=height,
            )
        )
    chart = alt.hconcat(*panels, data=data_ref)
    chart.params = [brush]
    return Figure(chart, tables)


def embedding_map_chart(
    points: pd.DataFrame,
    *,
    tag_filter: str = "all",
    highlight: Sequence[int] = (),
    width: int = 620,
    height: int = 480,
    title: str = "",
    noun: str = "item",
    user_noun: str = "user",
) -> Figure:
    """Scatter of all items: colour by top tag, size by popularity, tooltip, zoom/pan, click.

    ``points`` has columns x, y, item_id, name, tag, tags, n_users, norm (see
    ``analysis.embeddings.map_points``). Parameters the widget changes without resending the
    data: ``tag_filter`` (fades other tags) and ``highlight`` (item ids ringed, e.g. the
    selection and its neighbours). Clicking an item sets the ``pick`` point selection. ``noun``
    and ``user_noun`` are the dataset's words, used in tooltips. (Just over 60 lines: one
    layered chart, its three layers and four parameters, read best in one place.)
    """
    data_ref, tables = table(points, "points")
    tag_param = alt.param(name="tag_filter", value=tag_filter)
    highlight_param = alt.param(name="highlight", value=[int(i) for i in highlight])
    pick = alt.selection_point(name="pick", fields=["item_index"], on="click", empty=False)
    zoom = alt.selection_interval(name="zoom", bind="scales")
    tags = [t for t in points["tag"].value_counts().index if t != OTHER]
    domain = [*tags, OTHER] if (points["tag"] == OTHER).any() else tags
    base = alt.Chart().encode(x=alt.X("x:Q", axis=None), y=alt.Y("y:Q", axis=None))
    dots = (
        base.mark_circle()
        .encode(
            color=alt.Color(
                "tag:N",
                scale=alt.Scale(domain=domain, scheme="tableau20"),
                legend=alt.Legend(title="top tag", orient="right"),
            ),
            size=alt.Size("n_users:Q", scale=alt.Scale(type="sqrt", range=[6, 300]), legend=None),
            opacity=alt.condition(
                "tag_filter == 'all' || datum.tag == tag_filter", alt.value(0.75), alt.value(0.04)
            ),
            tooltip=[
                alt.Tooltip("name:N", title=noun),
                alt.Tooltip("tags:N", title="tags"),
                alt.Tooltip("n_users:Q", title=f"{user_noun}s"),
                alt.Tooltip("norm:Q", title="norm", format=".3f"),
            ],
        )
        .add_params(pick, zoom)
    )
    ringed = base.transform_filter("indexof(highlight, datum.item_index) >= 0")
    rings = ringed.mark_point(
        shape="circle", size=140, strokeWidth=2, color="black", filled=False
    ).encode(tooltip=[alt.Tooltip("name:N", title=noun)])
    labels = ringed.mark_text(align="left", dx=8, dy=-6, fontSize=11, fontWeight="bold").encode(
        text="name:N"
    )
    chart = (
        alt.layer(dots, rings, labels, data=data_ref)
        .add_params(tag_param, highlight_param)
        .properties(width=width, height=height, title=title)
    )
    return Figure(chart, tables)
