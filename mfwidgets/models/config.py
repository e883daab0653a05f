"""Hyper-parameters, each described once: default, range, meaning, and which kinds use it.

A configuration is a frozen dataclass whose fields carry a :class:`Param` in their metadata.
Validation (:meth:`Config.__post_init__`), the solvers and the TrainerWidget's controls are all
driven by these descriptions: a field added to a subclass gets its check and its control with no
other edit. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..checks import check_number, check_seed, show
from ..data.split import check_holdout_fraction
from ..data.tags import POOLINGS
from .kinds import (
    GRADIENT_OPTIMIZERS,
    KIND_SPECS,
    OPTIMIZERS,
    Kind,
    KindNames,
    kind_spec,
    kinds_where,
)

#: the built-in factorizations (each kind is described once in :mod:`.kinds`): "plain", the
#: chapter's build_model (observed MSE only); "regularized", its build_regularized_model (+ L2 +
#: gravity); "biased": + global mean and user/item biases; "implicit": weighted MF of implicit
#: feedback over all cells (ranking), trained by ALS; "hybrid" / "hybrid_implicit": "biased" /
#: "implicit" with each item's factor (and bias) its free part plus the mean of learned
#: embeddings of its tags (side information, LightFM-style).
KINDS = kinds_where(reference=False)
#: the item–item references beside MF, fitted in closed form (no factors, no iterations):
#: :class:`~mfwidgets.models.itemitem.EASE` and :class:`~mfwidgets.models.itemitem.ItemKNN`
REFERENCE_KINDS = kinds_where(reference=True)
#: the kinds that rank (predict a preference of 1 for every observed pair), trained by ALS
IMPLICIT_KINDS = kinds_where(implicit=True)
#: the kinds whose items carry learned tag embeddings
TAGGED_KINDS = kinds_where(tagged=True)
ALS_SOLVERS = ("exact", "cg")


@dataclass(frozen=True)
class Param:
    """What a hyper-parameter is: its meaning, range and users.

    ``minimum``/``maximum`` bound numbers (``strict``: the minimum itself is refused);
    ``choices`` lists the accepted values of a text field; ``optional`` allows None.
    ``optimizers`` says which optimizers use it (None: all). Which kinds read a model field is
    the kinds' to say (:attr:`.kinds.Kind.fields`); ``kinds`` names them for a field no kind
    lists (a subclass's new field; None: all kinds). ``suggest``, if
    not None, is a good first value for a control (the chapter's runs) when the default is not.
    ``objects``: besides its ``choices``, the field takes an object (checked where it is used).
    """

    help: str
    minimum: float | None = None
    maximum: float | None = None
    strict: bool = False
    integer: bool = False
    choices: tuple[Any, ...] | None = None
    optional: bool = False
    kinds: tuple[str, ...] | None = None
    optimizers: tuple[str, ...] | None = None
    suggest: Any = None
    objects: bool = False

    def check(self, name: str, value: Any) -> None:
        """Raise TypeError/ValueError naming ``name`` and the accepted values."""
        if value is None and self.optional:
            return
        if self.choices is not None:
            if (self.objects and not isinstance(value, str)) or value in self.choices:
                return
            accepted = ", ".join(map(repr, self.choices))
            raise ValueError(f"{name} must be one of {accepted}; got {show(value)}")
        if self.minimum is None and self.maximum is None:
            return
        check_number(name, value, minimum=self.minimum, strict=self.strict, integer=self.integer)
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{name} must be <= {self.maximum:g}, got {show(value)}")


class ByKind:
    """A field's default that the kind chooses (:attr:`.kinds.Kind.defaults`), else ``value``
    (the chapter's first model's)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<the kind's, else {self.value!r}>"


def param(default: Any, help: str, *, by_kind: bool = False, **kwargs: Any) -> Any:
    """A dataclass field described by a :class:`Param` (``by_kind``: its default is the
    kind's own, see :class:`ByKind`)."""
    value = ByKind(default) if by_kind else default
    return field(default=value, metadata={"param": Param(help, **kwargs)})


@dataclass(frozen=True)
class Config:
    """Base of the configuration classes: validation driven by the fields' descriptions."""

    def __post_init__(self) -> None:
        for name, p in self.params():
            p.check(name, getattr(self, name))
        self.check_rules()

    def check_rules(self) -> None:
        """Rules between fields (subclasses add theirs)."""

    @classmethod
    def params(cls) -> Iterator[tuple[str, Param]]:
        """(name, Param) of every described field, in declaration order."""
        for f in dataclasses.fields(cls):
            if "param" in f.metadata:
                yield f.name, f.metadata["param"]

    @classmethod
    def uses(cls, name: str, kind: str | None = None, optimizer: str | None = None) -> bool:
        """True when a model of ``kind`` trained by ``optimizer`` reads the field ``name``."""
        p = dict(cls.params())[name]
        return p.optimizers is None or optimizer is None or optimizer in p.optimizers

    @classmethod
    def defaults(cls, kind: str | None = None) -> dict[str, Any]:
        """Each field's default value (those the kind chooses, :class:`ByKind`, ``kind``'s;
        None: the chapter's first model's)."""
        spec = KIND_SPECS.get(kind) if kind is not None else None

        def value(f: dataclasses.Field) -> Any:
            if not isinstance(f.default, ByKind):
                return f.default
            return spec.default(f.name, f.default.value) if spec else f.default.value

        return {f.name: value(f) for f in dataclasses.fields(cls) if "param" in f.metadata}

    @classmethod
    def kind_defaults(cls, kind: str) -> dict[str, Any]:
        """The fields whose default the kind chooses (:class:`ByKind`), at ``kind``'s values."""
        chosen = {f.name for f in dataclasses.fields(cls) if isinstance(f.default, ByKind)}
        return {n: v for n, v in cls.defaults(kind).items() if n in chosen}

    @classmethod
    def suggestions(cls) -> dict[str, Any]:
        """Each field's first value for a control: its suggestion, else its default."""
        base = cls.defaults()
        return base | {n: p.suggest for n, p in cls.params() if p.suggest is not None}


@dataclass(frozen=True)
class ModelConfig(Config):
    """A model's hyper-parameters (what CFModel builds and the solvers read, by these names)."""

    kind: str = param(
        "plain", "which loss: the chapter's two models or one beyond it (or a reference beside "
        "MF: EASE, item-kNN; or one registered with register_kind)", choices=KindNames(),
    )  # fmt: skip
    embedding_dim: int = param(3, "d, the length of each embedding", minimum=1, integer=True,
                               suggest=30, by_kind=True)  # fmt: skip
    init_stddev: float = param(
        1.0, "standard deviation of the random initial embeddings", minimum=0, strict=True,
        suggest=0.5, by_kind=True,
    )  # fmt: skip
    regularization_coeff: float = param(
        0.0, "L2 weight: coeff · (ΣU²/n_users + ΣV²/n_items)", minimum=0,
        suggest=0.1, by_kind=True,
    )  # fmt: skip
    gravity_coeff: float = param(
        0.0, "gravity weight: coeff · ‖UVᵀ‖²_F / (n_users · n_items), pulls unseen scores to 0",
        minimum=0, suggest=1.0, by_kind=True,
    )  # fmt: skip
    user_bias_reg: float = param(1.0, "ridge of each user bias, in interactions", minimum=0)
    item_bias_reg: float = param(
        12.0, "ridge of each item bias (and tag bias), in interactions", minimum=0,
    )  # fmt: skip
    alpha: float = param(
        10.0, "confidence of an observed pair: 1 + alpha · weight", minimum=0,
    )  # fmt: skip
    tag_min_count: int = param(
        5, "keep the tags given to at least this many items (rarer tags are dropped)",
        minimum=1, integer=True,
    )  # fmt: skip
    tag_pooling: str = param(
        "mean", "an item's tag part: the mean of its tags' embeddings, or their sum / √(number "
        "of tags) (items with more tags get longer tag parts)", choices=POOLINGS,
    )  # fmt: skip
    free_reg_scale: float = param(
        1.0, "L2 of an item's free part, in multiples of its tag embeddings' (higher: items "
        "lean on their tags)", minimum=0, strict=True,
    )  # fmt: skip
    ease_l2: float = param(
        200.0, "EASE's λ: the ridge of its item–item weights (grows with the number of users)",
        minimum=0, strict=True,
    )  # fmt: skip
    knn_neighbors: int = param(
        100, "item-kNN: how many most similar items each item keeps", minimum=1, integer=True,
    )  # fmt: skip
    knn_shrink: float = param(
        10.0, "item-kNN: cosine shrinkage, co-occurrences / (‖i‖‖j‖ + shrink)", minimum=0,
    )  # fmt: skip
    seed: int | None = param(None, "seed of the split and the initial embeddings (None: random)",
                             optional=True, suggest=0)  # fmt: skip

    def __post_init__(self) -> None:
        """The fields not given take the kind's defaults (:attr:`.kinds.Kind.defaults`)."""
        known = isinstance(self.kind, str) and self.kind in KIND_SPECS
        defaults = self.defaults(self.kind if known else None)
        for f in dataclasses.fields(self):
            if isinstance(getattr(self, f.name), ByKind):
                object.__setattr__(self, f.name, defaults[f.name])
        super().__post_init__()

    @property
    def spec(self) -> Kind:
        """The description of this configuration's kind (:mod:`.kinds`)."""
        return kind_spec(self.kind)

    @property
    def implicit(self) -> bool:
        """True for the ranking kinds (see :data:`IMPLICIT_KINDS`)."""
        return self.spec.implicit

    @property
    def default_optimizer(self) -> str:
        """How the kind trains when no optimizer is named (see :class:`.kinds.Kind`)."""
        return self.spec.default_optimizer

    @property
    def reference(self) -> bool:
        """True for the item–item references (see :data:`REFERENCE_KINDS`)."""
        return self.spec.reference

    @property
    def tagged(self) -> bool:
        """True when items carry tag embeddings (see :data:`TAGGED_KINDS`)."""
        return self.spec.tagged

    @classmethod
    def uses(cls, name: str, kind: str | None = None, optimizer: str | None = None) -> bool:
        """True when a model of ``kind`` reads the field ``name``: it is in the kind's
        :attr:`.Kind.fields`, or no kind lists it and its ``Param.kinds`` allows it."""
        if kind is None:
            return True
        if any(name in k.fields for k in KIND_SPECS.values()):
            return name in kind_spec(kind).fields
        kinds = dict(cls.params())[name].kinds
        return kinds is None or kind in kinds

    def check_rules(self) -> None:
        check_seed(self.seed)
        for name in ("regularization_coeff", "gravity_coeff"):  # a loss term the kind lacks
            if getattr(self, name) and not self.uses(name, self.kind):
                users = ", ".join(f"kind={k!r}" for k in kinds_where(reference=False)
                                  if self.uses(name, k))  # fmt: skip
                raise ValueError(
                    f"kind={self.kind!r} has no {name} term: it must be 0 there (it is read by "
                    f"{users})"
                )

    @classmethod
    def for_kind(cls, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` with every field the kind does not use set back to its default."""
        defaults = cls.defaults(values["kind"])
        return {k: (v if cls.uses(k, values["kind"]) else defaults[k]) for k, v in values.items()}


@dataclass(frozen=True)
class TrainConfig(Config):
    """The arguments of one call to ``CFModel.train``."""

    num_iterations: int = param(
        10, "gradient steps after the first (train(n) takes n + 1, as the chapter did), or ALS "
        "sweeps (train(n) takes n)", minimum=0, integer=True, suggest=1000,
    )  # fmt: skip
    learning_rate: float = param(
        1.0, "gradient-descent step size", minimum=0, strict=True,
        optimizers=GRADIENT_OPTIMIZERS, suggest=10.0,
    )  # fmt: skip
    optimizer: Any = param(
        "sgd", "how to minimise the loss (or a Keras optimizer instance)", choices=OPTIMIZERS,
        objects=True,
    )  # fmt: skip
    record_every: int | None = param(
        None, "record the metrics every this many steps (empty: 10, or 1 for ALS)",
        minimum=1, integer=True, optional=True, suggest=10,
    )  # fmt: skip

    als_solver: str = param(
        "exact", "how ALS solves each row: exactly (Cholesky), or by 3 conjugate-gradient steps "
        "from the current factors (faster, as the implicit library does)",
        choices=ALS_SOLVERS, optimizers=("als",),
    )  # fmt: skip
    snapshot_every: int | None = param(
        None, "keep the factors every this many steps, for a replay (empty: none)",
        minimum=1, integer=True, optional=True,
    )  # fmt: skip

    @property
    def num_steps(self) -> int:
        """The steps this call takes: n + 1 gradient steps (the chapter's loop), or n sweeps."""
        return self.num_iterations + (self.optimizer != "als")

    def check_rules(self) -> None:
        if self.optimizer == "als" and self.num_iterations < 1:
            raise ValueError("num_iterations is the number of ALS sweeps: >= 1, got 0")
        if self.record_every is None:  # every sweep for ALS, else every 10 steps
            object.__setattr__(self, "record_every", 1 if self.optimizer == "als" else 10)
        if self.snapshot_every is not None:  # records must fall on the snapshots
            every = math.gcd(self.record_every, self.snapshot_every)
            object.__setattr__(self, "record_every", every)


@dataclass(frozen=True)
class SplitConfig(Config):
    """How the chapter's train/test split is drawn (its seed is the model's)."""

    holdout_fraction: float = param(
        0.1, "share of the interactions held out for testing, in (0, 1)"
    )

    def check_rules(self) -> None:
        check_holdout_fraction(self.holdout_fraction)
