"""Every kind of model, described once: its label, default run name, how it trains, where.

The configuration's choices, the trainer's dropdown, the default run names and the engines all
read these descriptions (no TensorFlow here). A kind's maths lives with its family: the
factorizations in the kernels, the item–item references in :mod:`.itemitem`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: where a kind can train: TensorFlow on this machine, Spark's ALS, or a closed-form fit here
ENGINES = ("tensorflow", "spark", "closed form")


@dataclass(frozen=True)
class Kind:
    """One kind of model.

    ``label``: what the trainer's dropdown says; ``run_name``: a run's default name;
    ``implicit``: it ranks (a preference of 1 per observed pair) and trains by ALS; ``biased``:
    global mean and user/item biases; ``tagged``: items carry learned tag embeddings;
    ``reference``: an item–item model without factors, fitted in closed form; ``engines``:
    where it trains (see :data:`ENGINES`).
    """

    name: str
    label: str
    run_name: str
    implicit: bool = False
    biased: bool = False
    tagged: bool = False
    reference: bool = False
    engines: tuple[str, ...] = ("tensorflow",)

    @property
    def default_optimizer(self) -> str:
        """ALS for the implicit kinds (their loss weighs every cell, which only ALS solves
        without the dense matrix), else the chapter's gradient descent."""
        return "als" if self.implicit else "sgd"


#: every kind, in the order the trainer offers them
KIND_LIST = (
    Kind("plain", "chapter: build_model (observed MSE)", "model"),
    Kind(
        "regularized",
        "chapter: build_regularized_model (+ L2 + gravity)",
        "reg_model",
        engines=("tensorflow", "spark"),
    ),
    Kind("biased", "beyond: biased (mean + user/item bias + UVᵀ)", "biased_model", biased=True),
    Kind(
        "implicit",
        "beyond: implicit feedback (weighted MF, ALS)",
        "implicit_model",
        implicit=True,
        engines=("tensorflow", "spark"),
    ),
    Kind(
        "hybrid",
        "beyond: hybrid (biased + each item's tags)",
        "hybrid_model",
        biased=True,
        tagged=True,
    ),
    Kind(
        "hybrid_implicit",
        "beyond: hybrid implicit (implicit + each item's tags)",
        "hybrid_implicit_model",
        implicit=True,
        tagged=True,
    ),
    Kind(
        "ease",
        "reference: EASE (item–item, closed form)",
        "ease",
        reference=True,
        engines=("closed form",),
    ),
    Kind(
        "itemknn",
        "reference: item-kNN (item–item cosine)",
        "itemknn",
        reference=True,
        engines=("closed form",),
    ),
)
KIND_SPECS = {k.name: k for k in KIND_LIST}


def kinds_where(**flags: bool) -> tuple[str, ...]:
    """The names of the kinds whose attributes equal ``flags`` (e.g. ``implicit=True``)."""
    return tuple(k.name for k in KIND_LIST if all(getattr(k, f) == v for f, v in flags.items()))


def kinds_on(engine: str) -> tuple[str, ...]:
    """The names of the kinds that train on ``engine``."""
    return tuple(k.name for k in KIND_LIST if engine in k.engines)
