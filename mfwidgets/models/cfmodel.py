"""CFModel: the chapter's matrix-factorization model in TensorFlow 2, exact and fast.

A = UVᵀ is fitted on the observed (user, item) pairs of a training frame. The loss is made of
named parts, as in the chapter: the observed MSE, ``regularization_coeff * (ΣU²/N + ΣV²/M)`` and
``gravity_coeff / (N·M) * Σ (UᵀU)∘(VᵀV)``. ``train`` runs full-batch gradient descent by default.

Step count, as in the chapter's loop ``for i in range(num_iterations + 1)``: ``train(n)`` takes
n + 1 gradient steps (ALS, where a step is a sweep, takes n sweeps, as ALS users count them).
Metrics are recorded at the first step, every ``record_every`` and at the last, each computed on
the parameters *before* that step (what the chapter's ``session.run((train_op, metrics))`` saw),
so the last record is one step behind the final embeddings. ``history['iteration']`` counts steps
taken before the record, continuing across calls to ``train``.

TensorFlow is imported when a model is built, not when this module is imported.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import Dataset, check_interactions, interaction_arrays
from ..data.split import Split, random_split
from ..data.tags import ItemTags
from .backend import is_keras_optimizer, keras_optimizer, new_variable
from .config import ModelConfig, TrainConfig
from .contract import FactorScoring
from .inputs import Inputs, dataset_first, model_config, read_item_tags
from .snapshots import DEFAULT_CAP, Snapshot, check_budget
from .training import (
    Callback,
    CallbackList,
    History,
    RunInfo,
    TrainingCall,
    TrainingState,
)


@dataclass(frozen=True)
class ModelState:
    """Trained parameters to start from instead of random ones (what a saved file holds)."""

    #: "U", "V" (+ "bu", "bi" for the biased kinds) (+ "T" (+ "tb") for the hybrid kinds)
    arrays: dict[str, np.ndarray]
    history: History
    steps: int
    global_mean: float


class CFModel(FactorScoring):
    """User and item embeddings fitted to observed interactions, with the chapter's loss.

    ``train`` is a :class:`~mfwidgets.data.Split` (then ``test`` is its own), or ``train`` and
    ``test`` are interaction frames (the chapter's ``userID, artistID, listenCount`` or
    ``user, item, weight``) of 0-based indexes; :attr:`split` holds them either way. Or, as
    ``EASE(data, split)``, ``train`` is a :class:`~mfwidgets.data.Dataset` and the Split comes
    second (positional or ``split=``; none: all its interactions train).
    ``n_users``/``n_items`` default to the dataset's sizes, else the largest index seen plus
    one. The configuration is a :class:`ModelConfig` or its fields as keywords.
    Embeddings start as N(0, init_stddev²) draws from ``seed``, or from ``state`` (a loaded
    model; then ``train`` may be None and the model predicts but cannot train).

    The hybrid kinds read the items' tags from ``item_tags`` (an :class:`ItemTags`, or any
    non-negative items × tags matrix), else from ``dataset`` (:func:`~mfwidgets.data.item_tags`,
    keeping the tags of at least ``tag_min_count`` items): where the dataset knows who gave each
    tag, only the tags given on training pairs (a tag of a held-out pair's user for that item
    never reaches the model; ``item_tags=item_tags(data)`` passes every tag, by name). Their
    :attr:`item_factors` and :attr:`item_bias` are the whole factors, free part plus tag part;
    an item without training interactions has no free part, its factor comes from its tags
    alone (:attr:`from_tags_only`).
    """

    #: how ALS solves its rows: "auto" (numba's kernels on a CPU, TensorFlow's on a GPU),
    #: "numba" or "tensorflow" (see als.py); set on a model to change it
    row_solver: str = "auto"
    #: bytes TensorFlow's ALS path may gather at once, its rows in blocks that fit (None:
    #: als.BLOCK_BYTES, 256 MiB)
    block_bytes: int | None = None

    def __init__(
        self,
        train: pd.DataFrame | Split | Dataset | None,
        test: pd.DataFrame | Split | None = None,
        *,
        config: ModelConfig | None = None,
        n_users: int | None = None,
        n_items: int | None = None,
        n_artists: int | None = None,
        split: Split | None = None,
        dataset: Dataset | None = None,
        state: ModelState | None = None,
        item_tags: Any = None,
        **options: Any,
    ) -> None:
        config = model_config(config, options)
        n_items = n_items if n_items is not None else n_artists
        if isinstance(train, Dataset):
            train, dataset = dataset_first(train, test, split, dataset)
            test = split = None
        inputs = Inputs.read(
            train, test, split, (n_users, n_items), dataset, config, state is not None
        )
        self.config, self.n_users, self.n_items = config, inputs.n_users, inputs.n_items
        #: the train/test interactions and how they were made (train is None once loaded
        #: without its data)
        self.split = inputs.split
        self._dataset = dataset
        self._tags = read_item_tags(config, item_tags, dataset, self.n_items, inputs.split.train)
        if state is None:
            state = self._initial_state(inputs.checked["train"])
        self.global_mean = state.global_mean
        self._vars = {k: new_variable(v, k) for k, v in state.arrays.items()}  # imports TF
        last = state.history.last
        self.training_state = TrainingState(
            state.history, state.steps, float(last["seconds"]) if last else 0.0
        )
        self._kernels = None
        self._lock = threading.Lock()
        self._snapshots: list[Snapshot] = []
        self.snapshot_cap = DEFAULT_CAP  #: bytes the snapshots may take (see snapshots.py)

    def _initial_state(self, train: Any) -> ModelState:
        """The family's initial arrays from ``seed`` (and the tag tower's, when worn)."""
        cfg = self.config
        family = cfg.spec.family_class()
        rng = np.random.default_rng(cfg.seed)
        arrays = family.initial_arrays(cfg, self.n_users, self.n_items, rng)
        if cfg.tagged:
            from .tagtower import tower_arrays

            has_pairs = np.bincount(train.items, minlength=self.n_items) > 0
            arrays = tower_arrays(arrays, cfg, self._tags.n_tags, has_pairs, rng)
        return ModelState(arrays, History(), 0, family.mean_of(train.weights))

    @classmethod
    def from_listens(
        cls,
        listens: pd.DataFrame | Dataset,
        *,
        holdout_fraction: float = 0.1,
        seed: int | None = None,
        config: ModelConfig | None = None,
        **options: Any,
    ) -> CFModel:
        """Split ``listens`` (a frame or a :class:`Dataset`) as the chapter did, seeded, and build
        a model on the split; sizes come from the dataset (or the largest ids + 1).

        ``seed`` seeds the split (and, without ``config``, the initial embeddings too, as in
        the chapter); ``options`` are :class:`ModelConfig` fields, or pass ``config`` (whose own
        seed draws the embeddings, and the split when ``seed`` is None). For another protocol,
        make a :class:`~mfwidgets.data.Split` and pass it to ``CFModel(split, dataset=...)``.
        Everything is validated before any work.
        """
        dataset = listens if isinstance(listens, Dataset) else None
        frame = dataset.interactions if dataset is not None else listens
        checked = check_interactions(frame, "listens")
        if config is None:
            config = ModelConfig(seed=seed, **options)
        elif options:
            raise TypeError(
                f"pass either config= or its fields as keywords, not both (got config= and "
                f"{', '.join(options)})"
            )
        split = random_split(frame, holdout_fraction, config.seed if seed is None else seed)
        n_users = dataset.n_users if dataset is not None else int(checked.users.max()) + 1
        n_items = dataset.n_items if dataset is not None else int(checked.items.max()) + 1
        return cls(split, config=config, n_users=n_users, n_items=n_items, dataset=dataset)

    @property
    def train_listens(self) -> pd.DataFrame | None:
        """The training interactions (``split.train``)."""
        return self.split.train

    @property
    def test_listens(self) -> pd.DataFrame | None:
        """The test interactions (``split.test``), or None."""
        return self.split.test

    # -- the model contract ----------------------------------------------------------------------
    @property
    def user_factors(self) -> np.ndarray:
        """(n_users, d) user embeddings."""
        return self._vars["U"].numpy()

    @property
    def item_factors(self) -> np.ndarray:
        """(n_items, d) item embeddings (hybrid kinds: free part + mean of the tags')."""
        V = self._vars["V"].numpy()
        return V if self._tags is None else V + self._tags.matrix @ self._vars["T"].numpy()

    @property
    def user_bias(self) -> np.ndarray | None:
        return self._vars["bu"].numpy() if "bu" in self._vars else None

    @property
    def item_bias(self) -> np.ndarray | None:
        """(n_items,) item biases (hybrid: free part + mean of the tags'), or None."""
        if "bi" not in self._vars:
            return None
        bi = self._vars["bi"].numpy()
        return bi if self._tags is None else bi + self._tags.matrix @ self._vars["tb"].numpy()

    @property
    def item_tags(self) -> ItemTags | None:
        """The items × tags matrix and tag names of a hybrid kind (else None)."""
        return self._tags

    @property
    def from_tags_only(self) -> np.ndarray:
        """(n_items,) True for the items whose factor comes from their tags alone: tagged, with
        no free part (no training interactions). All False for the other kinds."""
        if self._tags is None:
            return np.zeros(self.n_items, dtype=bool)
        return self._tags.tagged & ~self._vars["V"].numpy().any(axis=1)

    @property
    def version(self) -> int:
        """Changes whenever the embeddings change (caches key on it)."""
        return self.training_state.version

    @property
    def dataset(self) -> Dataset | None:
        return self._dataset

    @property
    def predicts_ratings(self) -> bool:
        return not self.config.implicit

    # -- the chapter's views ---------------------------------------------------------------------
    @property
    def n_artists(self) -> int:
        return self.n_items

    @property
    def embeddings(self) -> dict[str, np.ndarray]:
        """The chapter's dict: ``userID`` (n_users, d) and ``artistID`` (n_items, d)."""
        return {"userID": self.user_factors, "artistID": self.item_factors}

    @property
    def biases(self) -> dict[str, Any] | None:
        """``{"global": μ, "userID": (n_users,), "artistID": (n_items,)}`` for the biased kinds."""
        if "bu" not in self._vars:
            return None
        return {"global": self.global_mean, "userID": self.user_bias, "artistID": self.item_bias}

    @property
    def history(self) -> pd.DataFrame:
        """One row per recorded iteration: ``iteration``, one column per metric, ``seconds``."""
        return self.training_state.history.to_frame()

    @property
    def iterations_done(self) -> int:
        """Gradient steps (or ALS sweeps) taken so far, over all calls to ``train``."""
        return self.training_state.steps

    @property
    def is_training(self) -> bool:
        return self._lock.locked()

    @property
    def variables(self) -> dict[str, Any]:
        """The TensorFlow variables by name ("U", "V", "bu", "bi" when biased, the free parts;
        "T", "tb" for the hybrid kinds: the tag embeddings and biases)."""
        return self._vars

    @property
    def snapshots(self) -> list[Snapshot]:
        """The factors kept by ``train(snapshot_every=N)``, oldest first (clear() frees them)."""
        return self._snapshots

    def _take_snapshot(self, steps: int) -> None:
        if self._snapshots and self._snapshots[-1].iteration == steps:
            return
        U = np.array(self.user_factors, dtype=np.float32)
        V = np.array(self.item_factors, dtype=np.float32)
        U.flags.writeable = V.flags.writeable = False
        self._snapshots.append(Snapshot(int(steps), U, V))

    def release(self) -> None:
        """Let go of what trained the model (compiled functions, the data as tensors, rollback
        copies: tens of MB on Last.fm); factors, history and snapshots stay, and the next
        ``train`` builds it again (a few seconds of compiling). Refused while it trains."""
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("this model is training: release it once the run has ended")
        try:
            self._kernels = None
        finally:
            self._lock.release()

    def request_stop(self) -> None:
        """Ask a running ``train`` (any thread) to stop at the next step boundary."""
        self.training_state.stop.set()

    # -- training --------------------------------------------------------------------------------
    def kernels(self):
        """The compiled loss and step functions (built on first use)."""
        if self._kernels is None:
            if self.train_listens is None:
                raise ValueError(
                    "this model was loaded without its listens; pass listens= to CFModel.load() "
                    "to continue training"
                )
            from .kernels import Pairs, make_kernels

            pairs = [
                None if f is None or f.empty else Pairs(*interaction_arrays(f))
                for f in (self.train_listens, self.test_listens)
            ]
            self._kernels = make_kernels(
                self.config, list(self._vars.values()), (self.n_users, self.n_items), *pairs,
                self.global_mean, None if self._tags is None else self._tags.matrix,
            )  # fmt: skip
        return self._kernels

    def train(
        self,
        num_iterations: int = 10,
        learning_rate: float | None = None,
        optimizer: Any = None,
        callbacks: Callback | list[Callback] | None = None,
        record_every: int | None = None,
        *,
        snapshot_every: int | None = None,
        config: TrainConfig | None = None,
    ) -> list[dict[str, float]]:
        """Train, and return the last metrics: ``num_iterations + 1`` gradient steps (the
        chapter's loop), or ``num_iterations`` sweeps of ALS.

        ``optimizer`` is ``"sgd"`` (full-batch gradient descent, the chapter's), ``"adagrad"``,
        ``"adam"``, a Keras optimizer instance (then ``learning_rate`` is the instance's own), or
        ``"als"`` (alternating least squares; a step is a sweep; ``learning_rate`` is unused).
        None (the default) is the kind's own: ``"sgd"`` for the chapter's two kinds, ALS for
        the others (a ``learning_rate`` given to those asks for ``optimizer=`` too).
        ``learning_rate`` None is 1.0.
        ``config`` (a :class:`TrainConfig`) replaces the first, second, third and fifth
        arguments. ``snapshot_every=N`` keeps the factors every N steps and at the end, in
        :attr:`snapshots` (for a replay; refused before any work when they would pass
        ``snapshot_cap``). Returns the last metrics in the chapter's shape: [errors, losses].
        Raises :class:`TrainingDiverged` after restoring the last finite recorded embeddings.
        """
        given = (num_iterations, learning_rate, optimizer, record_every, snapshot_every)
        if config is not None and given != (10, None, None, None, None):
            raise ValueError(
                "pass config= or num_iterations, learning_rate, optimizer, record_every and "
                "snapshot_every, not both (config replaces them)"
            )
        own = self.config.default_optimizer
        if optimizer is None and learning_rate is not None and own == "als":
            ways = " or ".join(repr(o) for o in self.config.spec.optimizers if o != "als")
            raise ValueError(
                f"learning_rate is a gradient-descent setting, and kind={self.config.kind!r} "
                + (f"trains by ALS unless told otherwise: pass optimizer={ways} with it"
                   if ways else "trains by ALS only: pass no learning_rate")
            )  # fmt: skip
        cfg = config or TrainConfig(
            num_iterations,
            TrainConfig.defaults()["learning_rate"] if learning_rate is None else learning_rate,
            own if optimizer is None else optimizer, record_every, snapshot_every=snapshot_every,
        )  # fmt: skip
        if not isinstance(cfg.optimizer, str) and not is_keras_optimizer(cfg.optimizer):
            raise TypeError(f"optimizer must be a name or a Keras optimizer, got {optimizer!r}")
        self.config.spec.check_optimizer(cfg.optimizer if isinstance(cfg.optimizer, str) else None)
        cbs = CallbackList(callbacks)
        snapshot = None
        if cfg.snapshot_every is not None:
            shape = (self.n_users, self.n_items, self.config.embedding_dim)
            steps = cfg.num_steps
            check_budget(self._snapshots, cfg.snapshot_every, steps, shape, self.snapshot_cap)
            snapshot = (cfg.snapshot_every, self._take_snapshot)
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("this model is already training (in another thread)")
        try:
            stepper, info = self._stepper(cfg)
            call = TrainingCall(
                self,
                self.training_state,
                stepper,
                self._kernels.metrics,
                info,
                cfg.record_every,
                cbs,
                snapshot,
            )
            last = call.run()
        finally:
            self._lock.release()
        return chapter_shape(last or {})

    def _stepper(self, cfg: TrainConfig):
        kernels = self.kernels()
        if cfg.optimizer == "als":
            stepper = kernels.als_stepper(cfg.als_solver, self.row_solver, self.block_bytes)
            return stepper, RunInfo(self.training_state.steps, cfg.num_steps, "als", None)
        optimizer = cfg.optimizer
        if isinstance(optimizer, str) and optimizer != "sgd":
            optimizer = keras_optimizer(optimizer, cfg.learning_rate)
        sgd = isinstance(optimizer, str)
        stepper = kernels.stepper(None if sgd else optimizer, cfg.learning_rate)
        name = "sgd" if sgd else type(optimizer).__name__.lower()
        lr = cfg.learning_rate if sgd else float(optimizer.learning_rate)
        return stepper, RunInfo(self.training_state.steps, cfg.num_steps, name, lr)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write embeddings, configuration, history and split identity to ``path`` atomically."""
        from .persistence import save_model

        return save_model(self, path)

    @classmethod
    def load(
        cls, path: str | os.PathLike, listens: pd.DataFrame | Dataset | None = None
    ) -> CFModel:
        """Read a model written by :meth:`save` (any format version so far).

        With ``listens`` (the frame or dataset the model was split from), the train/test split
        is rebuilt and checked against the stored identity, so training can continue; without
        it, the model scores and predicts but cannot train.
        """
        from .persistence import load_model

        return load_model(cls, path, listens)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"CFModel(kind={c.kind!r}, embedding_dim={c.embedding_dim}, "
            f"{self.n_users} users × {self.n_items} items, "
            f"iterations_done={self.iterations_done})"
        )


def chapter_shape(metrics: dict[str, float]) -> list[dict[str, float]]:
    """Flat metrics as the chapter's train returned them: [errors] or [errors, loss parts]."""
    errors = {k: v for k, v in metrics.items() if "error" in k}
    losses = {k: v for k, v in metrics.items() if "error" not in k}
    return [errors, losses] if losses else [errors]
