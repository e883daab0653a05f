"""Every kind of model, described once: its label, default run name, family, fields, how and
where it trains — and the registry a new kind joins (:func:`register_kind`).

The configuration's choices and checks, the trainer's dropdown and controls, the default run
names, persistence and the engines all read these descriptions (no TensorFlow here). A kind's
maths lives with its family (:mod:`.explicit`, :mod:`.implicit`, worn with :mod:`.tagtower`;
the item–item references in :mod:`.itemitem`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: where a kind can train: TensorFlow on this machine, Spark's ALS, or a closed-form fit here
ENGINES = ("tensorflow", "spark", "closed form")
#: the optimizers that follow the loss's gradient
GRADIENT_OPTIMIZERS = ("sgd", "adagrad", "adam")
#: "als" alternates exact least-squares solves of U and V; one sweep counts as one iteration
OPTIMIZERS = (*GRADIENT_OPTIMIZERS, "als")

# the ModelConfig fields each family reads (besides ``kind`` and ``seed``, which all read)
FACTORS = ("embedding_dim", "init_stddev")
EXPLICIT = (*FACTORS, "regularization_coeff", "gravity_coeff")
BIASES = ("user_bias_reg", "item_bias_reg")
IMPLICIT = (*FACTORS, "regularization_coeff", "alpha")
TAGS = ("tag_min_count", "tag_pooling", "free_reg_scale")


@dataclass(frozen=True)
class Kind:
    """One kind of model.

    ``label``: what the trainer's dropdown says; ``run_name``: a run's default name;
    ``family``: the class of its maths (a :class:`~mfwidgets.models.family.Family`; for a
    reference, a model class with ``from_config(data, split, config)``), or where to import it
    from ("explicit:Biased" in this package, "package.module:Class" elsewhere); ``fields``: the
    :class:`~mfwidgets.models.ModelConfig` fields it reads; ``optimizers``: how it trains, the
    first by default; ``implicit``: it ranks (a preference of 1 per observed pair); ``tagged``:
    its items wear the tag tower; ``reference``: an item–item model without factors, fitted in
    closed form; ``engines``: where it trains (:data:`ENGINES`); ``defaults``: the values its
    fields take when a configuration does not give them, where the chapter's first model's
    (``embedding_dim=3``, ``init_stddev=1``, no regularization) do not serve it (a dict).
    """

    name: str
    label: str
    run_name: str
    family: Any = None
    fields: tuple[str, ...] = FACTORS
    optimizers: tuple[str, ...] = GRADIENT_OPTIMIZERS
    implicit: bool = False
    tagged: bool = False
    reference: bool = False
    engines: tuple[str, ...] = ("tensorflow",)
    defaults: Any = ()

    def __post_init__(self) -> None:  # a dict kept as sorted pairs (a Kind stays hashable)
        object.__setattr__(self, "defaults", tuple(sorted(dict(self.defaults).items())))

    def default(self, field: str, fallback: Any) -> Any:
        """The value of ``field`` in a configuration of this kind that does not give it."""
        return dict(self.defaults).get(field, fallback)

    @property
    def default_optimizer(self) -> str | None:
        """How it trains when no optimizer is named (None: it does not iterate)."""
        return self.optimizers[0] if self.optimizers else None

    def check_optimizer(self, optimizer: str | None) -> None:
        """ValueError unless this kind trains by ``optimizer`` (None: a Keras optimizer)."""
        ok = (
            optimizer in self.optimizers
            if optimizer is not None
            else any(o in GRADIENT_OPTIMIZERS for o in self.optimizers)
        )
        if not ok:
            ways = " or ".join(f"optimizer={o!r}" for o in self.optimizers) or "no optimizer"
            raise ValueError(f"kind={self.name!r} trains with {ways}")

    def family_class(self) -> type:
        """The family's class (imported on first use: the families import TensorFlow)."""
        if not isinstance(self.family, str):
            return self.family
        module, _, name = self.family.partition(":")
        package = None if "." in module else __package__
        return getattr(importlib.import_module(module if package is None else f".{module}",
                                               package), name)  # fmt: skip


#: the chapter's build_regularized_model's own defaults
CHAPTER_REGULARIZED = {"init_stddev": 0.1, "regularization_coeff": 0.1, "gravity_coeff": 1.0}
#: a first model worth having, for the kinds beyond the chapter, trained by ALS (10 sweeps):
#: docs/data.md gives the biased kind's 5-fold CV on MovieLens 100K beside the bias baseline
#: (benchmarks/quality_movielens.py); test_cfmodel holds that, unasked, biased beats the bias
#: baseline and implicit the popularity list there
BIASED_DEFAULTS = {"embedding_dim": 32, "init_stddev": 0.1, "regularization_coeff": 0.3}
IMPLICIT_DEFAULTS = {"embedding_dim": 32, "init_stddev": 0.1, "regularization_coeff": 30.0}
ALS_FIRST = ("als", *GRADIENT_OPTIMIZERS)

#: every kind, in the order the trainer offers them
KIND_LIST = (
    Kind("plain", "chapter: build_model (observed MSE)", "model", "explicit:Plain",
         optimizers=OPTIMIZERS),
    Kind("regularized", "chapter: build_regularized_model (+ L2 + gravity)", "reg_model",
         "explicit:Explicit", EXPLICIT, OPTIMIZERS, engines=("tensorflow", "spark"),
         defaults=CHAPTER_REGULARIZED),
    Kind("biased", "beyond: biased (mean + user/item bias + UVᵀ)", "biased_model",
         "explicit:Biased", EXPLICIT + BIASES, ALS_FIRST, defaults=BIASED_DEFAULTS),
    Kind("implicit", "beyond: implicit feedback (weighted MF, ALS)", "implicit_model",
         "implicit:Implicit", IMPLICIT, ("als",), implicit=True,
         engines=("tensorflow", "spark"), defaults=IMPLICIT_DEFAULTS),
    Kind("hybrid", "beyond: hybrid (biased + each item's tags)", "hybrid_model",
         "explicit:Biased", EXPLICIT + BIASES + TAGS, ALS_FIRST, tagged=True,
         defaults=BIASED_DEFAULTS),
    Kind("hybrid_implicit", "beyond: hybrid implicit (implicit + each item's tags)",
         "hybrid_implicit_model", "implicit:Implicit", IMPLICIT + TAGS, ("als",),
         implicit=True, tagged=True, defaults=IMPLICIT_DEFAULTS),
    Kind("ease", "reference: EASE (item–item, closed form)", "ease", "itemitem:EASE",
         ("ease_l2",), (), reference=True, engines=("closed form",)),
    Kind("itemknn", "reference: item-kNN (item–item cosine)", "itemknn", "itemitem:ItemKNN",
         ("knn_neighbors", "knn_shrink"), (), reference=True, engines=("closed form",)),
)  # fmt: skip
#: every kind by name: the built-in ones, then those registered (:func:`register_kind`); the
#: one registry of kinds, as the codecs or entry points are Python's
KIND_SPECS: dict[str, Kind] = {k.name: k for k in KIND_LIST}


def register_kind(kind: Kind) -> Kind:
    """Add a kind: from now on configurations accept it, the trainer offers it with the
    controls of its ``fields``, and saved models of it load. Returns ``kind``."""
    if not isinstance(kind, Kind):
        raise TypeError(f"kind must be a mfwidgets.models.kinds.Kind, got {type(kind).__name__}")
    if kind.name in KIND_SPECS:
        raise ValueError(f"a kind named {kind.name!r} exists already")
    if kind.family is None:
        raise ValueError(f"kind {kind.name!r} needs a family (the class of its maths)")
    KIND_SPECS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    """Remove a kind added by :func:`register_kind` (the built-in kinds stay)."""
    if any(k.name == name for k in KIND_LIST):
        raise ValueError(f"{name!r} is a built-in kind; it cannot be removed")
    KIND_SPECS.pop(name, None)


def kind_spec(name: str) -> Kind:
    """The description of the kind ``name``; ValueError naming the accepted kinds."""
    if name not in KIND_SPECS:
        accepted = ", ".join(map(repr, KIND_SPECS))
        raise ValueError(f"kind must be one of {accepted}; got {name!r}")
    return KIND_SPECS[name]


class KindNames:
    """The names of every kind, registered ones included, as a live sequence (a field's
    choices)."""

    def __iter__(self) -> Iterator[str]:
        return iter(list(KIND_SPECS))

    def __contains__(self, name: object) -> bool:
        return name in KIND_SPECS

    def __len__(self) -> int:
        return len(KIND_SPECS)


def kinds_where(**flags: bool) -> tuple[str, ...]:
    """The names of the kinds whose attributes equal ``flags`` (e.g. ``implicit=True``)."""
    return tuple(
        k.name for k in KIND_SPECS.values() if all(getattr(k, f) == v for f, v in flags.items())
    )


def kinds_on(engine: str) -> tuple[str, ...]:
    """The names of the kinds that train on ``engine``."""
    return tuple(k.name for k in KIND_SPECS.values() if engine in k.engines)
