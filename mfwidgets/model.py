"""CFModel: the chapter's matrix-factorization model in TensorFlow 2, exact and fast.

A = UVᵀ is fitted on the observed (user, artist) pairs of a training frame. The loss is made of
named parts, as in the chapter: the observed MSE, ``regularization_coeff * (ΣU²/N + ΣV²/M)`` and
``gravity_coeff / (N·M) * Σ (UᵀU)∘(VᵀV)``. ``train`` runs full-batch gradient descent by default.

Step count, as in the chapter's loop ``for i in range(num_iterations + 1)``: ``train(n)`` takes
n + 1 steps. Metrics are recorded at i = 0, every ``record_every`` and at i = n, each computed on
the parameters *before* step i (what the chapter's ``session.run((train_op, metrics))`` saw), so
the last record is one step behind the final embeddings. ``history['iteration']`` counts steps
taken before the record, continuing across calls to ``train``.

TensorFlow is imported when a model is built, not when this module is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .checks import check_number, check_seed
from .data import split_dataframe
from .training import (
    DIVERGED,
    FINISHED,
    INTERRUPTED,
    STOPPED,
    Callback,
    CallbackList,
    History,
    RunInfo,
    StepBudget,
    TrainingDiverged,
    deferred_interrupt,
    first_non_finite,
)

__all__ = [
    "KINDS",
    "OPTIMIZERS",
    "CFModel",
    "ModelConfig",
    "SplitInfo",
    "TrainingDiverged",
    "build_listens_sparse_tensor",
    "build_model",
    "build_regularized_model",
    "check_train_args",
]

#: "plain": the chapter's build_model (observed MSE only); "regularized": its
#: build_regularized_model (+ L2 + gravity); "biased": + global mean and user/artist biases;
#: "implicit": weighted MF of implicit feedback over all cells (ranking), trained by ALS.
KINDS = ("plain", "regularized", "biased", "implicit")
#: "als" alternates exact least-squares solves of U and V; one sweep counts as one iteration.
OPTIMIZERS = ("sgd", "adagrad", "adam", "als")
LISTEN_COLUMNS = ("userID", "artistID", "listenCount")
FILE_FORMAT = "mfwidgets.CFModel"
FILE_VERSION = 1


@dataclass(frozen=True)
class ModelConfig:
    """A model's hyper-parameters, validated once (messages name the argument and the range)."""

    kind: str = "plain"
    embedding_dim: int = 3
    init_stddev: float = 1.0
    regularization_coeff: float = 0.0
    gravity_coeff: float = 0.0
    #: biased only: ridge of each user / artist bias, in listens (as in the bias baseline)
    user_bias_reg: float = 1.0
    artist_bias_reg: float = 12.0
    alpha: float = 10.0  #: implicit only: confidence 1 + alpha * listenCount
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"kind must be one of {', '.join(map(repr, KINDS))}; got {self.kind!r}"
            )
        check_number("embedding_dim", self.embedding_dim, minimum=1, strict=False, integer=True)
        check_number("init_stddev", self.init_stddev, minimum=0, strict=True)
        numbers = ("regularization_coeff", "gravity_coeff", "user_bias_reg", "artist_bias_reg")
        for name in (*numbers, "alpha"):
            check_number(name, getattr(self, name), minimum=0, strict=False)
        if self.kind == "implicit" and self.gravity_coeff:
            raise ValueError(
                "kind='implicit' already weighs every cell; gravity_coeff must be 0 there"
            )
        if self.kind == "plain" and (self.regularization_coeff or self.gravity_coeff):
            raise ValueError(
                "kind='plain' is the chapter's unregularized model: regularization_coeff and "
                "gravity_coeff must be 0 (use kind='regularized')"
            )
        check_seed(self.seed)


@dataclass(frozen=True)
class SplitInfo:
    """Identity of the train/test split a model was built on (stored in saved models)."""

    holdout_fraction: float | None = None
    seed: int | None = None
    test_index: tuple[int, ...] = field(default=(), repr=False)  #: index labels of the test rows
    test_hash: str = ""  #: sha256 of the test (userID, artistID) pairs

    @staticmethod
    def pairs_hash(df: pd.DataFrame | None) -> str:
        if df is None or df.empty:
            return ""
        pairs = np.ascontiguousarray(df[["userID", "artistID"]].to_numpy(dtype=np.int64))
        return hashlib.sha256(pairs.tobytes()).hexdigest()


def _validate_listens(df: Any, name: str, n_users: int | None, n_artists: int | None) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in LISTEN_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {', '.join(missing)}")
    for col, bound in (("userID", n_users), ("artistID", n_artists)):
        ids = df[col].to_numpy()
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"{name}[{col!r}] must hold integer ids, got dtype {ids.dtype}")
        if len(ids) and (ids.min() < 0 or (bound is not None and ids.max() >= bound)):
            raise ValueError(
                f"{name}[{col!r}] ids must lie in [0, {bound}); found {ids.min()}..{ids.max()}"
            )
    if not np.isfinite(df["listenCount"].to_numpy(dtype=np.float64)).all():
        raise ValueError(f"{name}['listenCount'] must be finite numbers")


def _check_ids(ids: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer ids, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must lie in [0, {n}); got {arr.min()}..{arr.max()}")
    return arr


def check_train_args(
    num_iterations: Any,
    learning_rate: Any,
    optimizer: Any = "sgd",
    record_every: Any = None,
    is_keras_optimizer: Any = None,
) -> int:
    """Validate ``train`` arguments (no TensorFlow needed); return the effective record_every."""
    if record_every is None:
        record_every = 1 if optimizer == "als" else 10
    check_number("num_iterations", num_iterations, minimum=0, strict=False, integer=True)
    check_number("learning_rate", learning_rate, minimum=0, strict=True)
    check_number("record_every", record_every, minimum=1, strict=False, integer=True)
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))} or a Keras "
                f"optimizer instance; got {optimizer!r}"
            )
    elif is_keras_optimizer is None or not is_keras_optimizer(optimizer):
        raise TypeError(f"optimizer must be a name or a Keras optimizer, got {optimizer!r}")
    return int(record_every)


class CFModel:
    """User and artist embeddings fitted to observed listens, with the chapter's loss and metrics.

    ``train``/``test`` are listens frames (``userID``, ``artistID``, ``listenCount``) with 0-based
    ids; ``n_users``/``n_artists`` default to the largest id seen plus one. Embeddings start as
    N(0, init_stddev²) draws from ``seed``. See the module docstring for the step count.
    """

    def __init__(
        self,
        train: pd.DataFrame,
        test: pd.DataFrame | None = None,
        *,
        n_users: int | None = None,
        n_artists: int | None = None,
        kind: str = "plain",
        embedding_dim: int = 3,
        init_stddev: float = 1.0,
        regularization_coeff: float = 0.0,
        gravity_coeff: float = 0.0,
        user_bias_reg: float = 1.0,
        artist_bias_reg: float = 12.0,
        alpha: float = 10.0,
        seed: int | None = None,
        split: SplitInfo | None = None,
    ) -> None:
        self.config = ModelConfig(
            kind=kind,
            embedding_dim=embedding_dim,
            init_stddev=init_stddev,
            regularization_coeff=regularization_coeff,
            gravity_coeff=gravity_coeff,
            user_bias_reg=user_bias_reg,
            artist_bias_reg=artist_bias_reg,
            alpha=alpha,
            seed=seed,
        )
        for name, value in (("n_users", n_users), ("n_artists", n_artists)):
            if value is not None:
                check_number(name, value, minimum=1, strict=False, integer=True)
        _validate_listens(train, "train", n_users, n_artists)
        if len(train) == 0:
            raise ValueError("train must hold at least one listen")
        if test is not None:
            _validate_listens(test, "test", n_users, n_artists)
        if kind == "implicit" and (train["listenCount"].to_numpy() < 0).any():
            raise ValueError("kind='implicit' needs non-negative listenCount (they set confidence)")
        frames = [train] if test is None else [train, test]
        self.n_users = int(n_users or max(int(f["userID"].max()) for f in frames if len(f)) + 1)
        self.n_artists = int(
            n_artists or max(int(f["artistID"].max()) for f in frames if len(f)) + 1
        )
        self.train_listens = train
        self.test_listens = test
        self.split = split or SplitInfo(test_hash=SplitInfo.pairs_hash(test))
        self.global_mean = float(train["listenCount"].mean()) if kind == "biased" else 0.0
        rng = np.random.default_rng(seed)
        d, s = embedding_dim, init_stddev
        arrays = {
            "U": rng.normal(0.0, s, (self.n_users, d)),
            "V": rng.normal(0.0, s, (self.n_artists, d)),
        }
        if kind == "biased":
            arrays |= {"bu": np.zeros(self.n_users), "bi": np.zeros(self.n_artists)}
        self._init_state(arrays, History(), 0)

    @classmethod
    def from_listens(
        cls,
        listens: pd.DataFrame,
        *,
        holdout_fraction: float = 0.1,
        seed: int | None = None,
        **config: Any,
    ) -> CFModel:
        """Split ``listens`` as the chapter did (seeded) and build a model on the split.

        ``config`` takes the constructor's keyword arguments (kind, embedding_dim, ...); sizes
        come from the listens (largest id + 1). Everything is validated before any work.
        """
        _validate_listens(listens, "listens", None, None)
        ModelConfig(seed=seed, **config)  # validate everything before splitting or building
        train, test = split_dataframe(listens, holdout_fraction, seed)
        split = SplitInfo(
            holdout_fraction, seed, tuple(int(x) for x in test.index), SplitInfo.pairs_hash(test)
        )
        return cls(
            train,
            test,
            n_users=int(listens["userID"].max()) + 1,
            n_artists=int(listens["artistID"].max()) + 1,
            seed=seed,
            split=split,
            **config,
        )

    # -- construction helpers --------------------------------------------------------------------
    def _init_state(self, arrays: dict[str, np.ndarray], history: History, steps: int) -> None:
        from . import solvers  # imports TensorFlow

        self._solvers = solvers
        self._vars = {k: solvers.new_variable(v, k) for k, v in arrays.items()}
        self._history = history
        self._steps_done = steps
        self._kernels = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._budget: dict[str, StepBudget] = {}  # per optimizer name
        self._seconds = float(history.last["seconds"]) if len(history) else 0.0
        self.version = 0  # bumped whenever the embeddings change (caches key on it)

    def _get_kernels(self):
        if self._kernels is None:
            if self.train_listens is None:
                raise ValueError(
                    "this model was loaded without its listens; pass listens= to CFModel.load() "
                    "to continue training"
                )
            s = self._solvers
            tr, te = self.train_listens, self.test_listens
            cfg = self.config
            objective = s.Objective(
                n_users=self.n_users,
                n_items=self.n_artists,
                regularization=cfg.regularization_coeff,
                gravity=cfg.gravity_coeff,
                user_bias_reg=cfg.user_bias_reg,
                artist_bias_reg=cfg.artist_bias_reg,
                biased=cfg.kind == "biased",
                global_mean=self.global_mean,
                implicit=cfg.kind == "implicit",
                alpha=cfg.alpha,
            )
            self._kernels = s.Kernels(
                list(self._vars.values()),
                objective,
                s.Pairs(*(tr[c].to_numpy() for c in LISTEN_COLUMNS)),
                None
                if te is None or te.empty
                else s.Pairs(*(te[c].to_numpy() for c in LISTEN_COLUMNS)),
            )
        return self._kernels

    # -- state -----------------------------------------------------------------------------------
    @property
    def embeddings(self) -> dict[str, np.ndarray]:
        """Current embeddings: ``userID`` (n_users, d) and ``artistID`` (n_artists, d), numpy."""
        return {"userID": self._vars["U"].numpy(), "artistID": self._vars["V"].numpy()}

    @property
    def biases(self) -> dict[str, np.ndarray] | None:
        """``{"global": μ, "userID": (n_users,), "artistID": (n_artists,)}`` for kind='biased'."""
        if "bu" not in self._vars:
            return None
        return {
            "global": self.global_mean,
            "userID": self._vars["bu"].numpy(),
            "artistID": self._vars["bi"].numpy(),
        }

    @property
    def history(self) -> pd.DataFrame:
        """One row per recorded iteration: ``iteration``, one column per metric, ``seconds``."""
        return self._history.to_frame()

    @property
    def iterations_done(self) -> int:
        """Gradient steps taken so far, over all calls to ``train``."""
        return self._steps_done

    @property
    def is_training(self) -> bool:
        return self._lock.locked()

    @property
    def metric_groups(self) -> list[list[str]]:
        """Metric names grouped as the chapter plotted them (one panel per group)."""
        test = self.test_listens is not None and not self.test_listens.empty
        if self.config.kind == "plain":
            return [["train_error", *(["test_error"] if test else [])]]
        errors = ["train_error_observed", *(["test_error_observed"] if test else [])]
        if self.config.kind == "implicit":
            return [errors, ["observed_loss", "unobserved_loss", "regularization_loss"]]
        return [errors, ["observed_loss", "regularization_loss", "gravity_loss"]]

    def _named(self, parts: dict[str, float]) -> dict[str, float]:
        """Solver loss parts under the chapter's metric names (see metric_groups)."""
        if self.config.kind == "plain":
            named = {"train_error": parts["observed"]}
            if "test" in parts:
                named["test_error"] = parts["test"]
            return named
        named = {"train_error_observed": parts["observed"]}
        if "test" in parts:
            named["test_error_observed"] = parts["test"]
        if self.config.kind == "implicit":
            return named | {
                "observed_loss": parts["weighted_observed"],
                "unobserved_loss": parts["unobserved"],
                "regularization_loss": parts["regularization"],
            }
        return named | {
            "observed_loss": parts["observed"],
            "regularization_loss": parts["regularization"],
            "gravity_loss": parts["gravity"],
        }

    def _grouped(self, metrics: dict[str, float]) -> list[dict[str, float]]:
        return [{k: metrics[k] for k in group} for group in self.metric_groups]

    def request_stop(self) -> None:
        """Ask a running ``train`` (any thread) to stop at the next step boundary."""
        self._stop.set()

    # -- training --------------------------------------------------------------------------------
    def train(
        self,
        num_iterations: int = 10,
        learning_rate: float = 1.0,
        optimizer: Any = "sgd",
        callbacks: Callback | list[Callback] | None = None,
        record_every: int | None = None,
    ) -> list[dict[str, float]]:
        """Train ``num_iterations + 1`` steps (the chapter's loop); return the last metrics.

        ``optimizer`` is ``"sgd"`` (full-batch gradient descent, the chapter's), ``"adagrad"``,
        ``"adam"``, a Keras optimizer instance (then ``learning_rate`` is the instance's own), or
        ``"als"`` (alternating least squares; a step is a sweep; ``learning_rate`` is unused).
        ``record_every`` defaults to 10 steps (1 for ALS). Returns the last recorded metrics in
        the chapter's shape, a list of dicts. Raises :class:`TrainingDiverged` after restoring
        the last finite recorded embeddings.
        """
        record_every = check_train_args(
            num_iterations, learning_rate, optimizer, record_every, self._solvers.is_keras_optimizer
        )
        if self.config.kind == "implicit" and optimizer != "als":
            raise ValueError("kind='implicit' trains with optimizer='als'")
        cbs = CallbackList(callbacks)
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("this model is already training (in another thread)")
        try:
            return self._train_locked(num_iterations, learning_rate, optimizer, cbs, record_every)
        finally:
            self._lock.release()

    def _train_locked(self, num_iterations, learning_rate, optimizer, cbs, record_every):
        kernels = self._get_kernels()
        tf = self._solvers.tf
        self._stop.clear()
        if optimizer == "als":
            runner, opt_name, lr = kernels.als_runner(), "als", None
        else:
            if isinstance(optimizer, str) and optimizer != "sgd":
                optimizer = self._solvers.keras_optimizer(optimizer, learning_rate)
            sgd = isinstance(optimizer, str)
            runner = kernels.runner(None if sgd else optimizer)
            opt_name = "sgd" if sgd else type(optimizer).__name__.lower()
            lr = learning_rate if sgd else float(optimizer.learning_rate)
        lr_tensor = tf.constant(learning_rate, tf.float32)
        names = kernels.part_names
        budget = self._budget.setdefault(opt_name, StepBudget())
        total = num_iterations + 1
        start = self._steps_done
        records = sorted({*range(0, num_iterations + 1, record_every), num_iterations})
        bounds = [*records[1:], total]  # steps run after each record, up to the next one
        schedule = [stop_at - i for i, stop_at in zip(records, bounds, strict=True)]
        cbs.on_train_begin(self, RunInfo(start, total, opt_name, lr))
        reason, last, error = FINISHED, None, ""
        t0 = time.perf_counter()

        def elapsed() -> float:
            return self._seconds + time.perf_counter() - t0

        def count(k: int) -> None:
            self._steps_done += k
            self.version += 1

        def restore_last_record() -> None:
            """Back to the embeddings of the last finite record (the snapshot), count included."""
            kernels.restore_snapshot()
            self._steps_done = int(self._history.last["iteration"]) if len(self._history) else 0
            self.version += 1

        def run_records(ks: list[int]) -> dict[str, float]:
            """Records, each followed by its steps, in one compiled call.

            The model's count and history are brought up to the embeddings before any callback
            runs, so an exception in a callback leaves them consistent.
            """
            wall, started, t = time.time(), elapsed(), time.perf_counter()
            recorded, bad = [], None
            with deferred_interrupt():
                rows, times = runner.records(tf.constant(ks, tf.int32), lr_tensor)
                rows, times = rows.numpy().tolist(), times.numpy().tolist()
                for row, at, k in zip(rows, times, ks[: len(rows)], strict=True):
                    metrics = self._named(dict(zip(names, row, strict=True)))
                    if bad := first_non_finite(metrics):
                        break
                    self._history.append(self._steps_done, metrics, started + max(at - wall, 0))
                    recorded.append((self._steps_done, metrics, k))
                    count(k)
            budget.observe(sum(ks), time.perf_counter() - t)
            for iteration, metrics, k in recorded:
                if k:
                    cbs.on_progress(self, iteration + k - start, total, elapsed())
                cbs.on_record(self, iteration, metrics, elapsed())
            if bad:
                diverged_at = self._steps_done
                restore_last_record()
                raise TrainingDiverged(diverged_at, bad, lr, opt_name)
            return recorded[-1][1]

        try:
            j = 0
            while j < len(schedule):
                if self._stop.is_set():
                    reason = STOPPED
                    break
                # as many whole records as fit the budget; a long last one finishes in steps
                room, ks = budget.steps(), []
                while j < len(schedule) and (not ks or schedule[j] <= room):
                    ks.append(min(schedule[j], room))
                    room -= ks[-1]
                    j += 1
                last = run_records(ks)
                todo = schedule[j - 1] - ks[-1]
                while todo > 0 and not self._stop.is_set():
                    k = min(todo, budget.steps())
                    t = time.perf_counter()
                    with deferred_interrupt():
                        runner.steps(tf.constant(k), lr_tensor)
                        count(k)
                    budget.observe(k, time.perf_counter() - t)
                    cbs.on_progress(self, self._steps_done - start, total, elapsed())
                    todo -= k
                if todo > 0:
                    reason = STOPPED
                    break
            if not kernels.all_finite():
                diverged_at = self._steps_done
                restore_last_record()
                raise TrainingDiverged(diverged_at, "an embedding", lr, opt_name)
            previous = self._history.last
            if reason == STOPPED and (
                previous is None or previous["iteration"] != self._steps_done
            ):
                last = run_records([0])  # the curve ends where the model stands
        except TrainingDiverged as exc:
            reason, error = DIVERGED, str(exc)
            raise
        except KeyboardInterrupt:
            reason = INTERRUPTED
            raise
        finally:
            self._seconds = elapsed()
            cbs.on_train_end(
                self,
                reason,
                RunInfo(
                    start,
                    total,
                    opt_name,
                    lr,
                    max(0, self._steps_done - start),
                    time.perf_counter() - t0,
                    error,
                ),
            )
        return self._grouped(last)

    # -- prediction ------------------------------------------------------------------------------
    def predict(self, user_ids: Any, artist_ids: Any) -> np.ndarray:
        """Predicted listen scores for paired ids (biases included when the model has them)."""
        u = _check_ids(user_ids, self.n_users, "user_ids")
        a = _check_ids(artist_ids, self.n_artists, "artist_ids")
        if u.shape != a.shape:
            raise ValueError(
                f"user_ids and artist_ids must have one shape; got {u.shape}, {a.shape}"
            )
        emb = self.embeddings
        pred = np.einsum("nd,nd->n", emb["userID"][u.ravel()], emb["artistID"][a.ravel()])
        if (b := self.biases) is not None:
            pred += b["global"] + b["userID"][u.ravel()] + b["artistID"][a.ravel()]
        return pred.reshape(u.shape)

    def score_users(self, user_ids: Any) -> np.ndarray:
        """(len(user_ids), n_artists) ranking scores: the model's predictions for every artist."""
        u = np.atleast_1d(_check_ids(user_ids, self.n_users, "user_ids"))
        emb = self.embeddings
        scores = emb["userID"][u].astype(np.float64) @ emb["artistID"].T.astype(np.float64)
        if (b := self.biases) is not None:
            scores += b["global"] + b["userID"][u][:, None] + b["artistID"][None, :]
        return scores

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write embeddings, configuration, history and split identity to ``path`` atomically."""
        path = Path(path)
        hist = self.history
        meta = {
            "format": FILE_FORMAT,
            "format_version": FILE_VERSION,
            "mfwidgets_version": __version__,
            "config": asdict(self.config),
            "n_users": self.n_users,
            "n_artists": self.n_artists,
            "global_mean": self.global_mean,
            "steps_done": self._steps_done,
            "split": {
                "holdout_fraction": self.split.holdout_fraction,
                "seed": self.split.seed,
                "test_hash": self.split.test_hash,
            },
            "history_columns": list(hist.columns),
        }
        arrays = {k: v.numpy() for k, v in self._vars.items()}
        arrays["history"] = hist.to_numpy(dtype=np.float64)
        arrays["test_index"] = np.asarray(self.split.test_index, dtype=np.int64)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, listens: pd.DataFrame | None = None) -> CFModel:
        """Read a model written by :meth:`save`.

        With ``listens`` (the frame the model was split from), the train/test split is rebuilt and
        checked against the stored identity, so training can continue; without it, the model
        scores and predicts but cannot train.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{path}: not a readable mfwidgets model file ({exc})") from exc
        try:
            meta = json.loads(arrays.pop("meta").tobytes().decode())
            if meta.get("format") != FILE_FORMAT:
                raise KeyError("format")
        except (KeyError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not an mfwidgets model file") from exc
        if meta["format_version"] > FILE_VERSION:
            raise ValueError(
                f"{path}: written by a newer mfwidgets (format {meta['format_version']}); upgrade"
            )
        model = cls.__new__(cls)
        model.config = ModelConfig(**meta["config"])
        model.n_users, model.n_artists = int(meta["n_users"]), int(meta["n_artists"])
        model.global_mean = float(meta["global_mean"])
        test_index = tuple(int(x) for x in arrays.pop("test_index"))
        split = meta["split"]
        model.split = SplitInfo(
            split["holdout_fraction"], split["seed"], test_index, split["test_hash"]
        )
        model.train_listens = model.test_listens = None
        if listens is not None:
            _validate_listens(listens, "listens", model.n_users, model.n_artists)
            if not set(test_index) <= set(listens.index):
                raise ValueError(f"{path}: listens do not contain this model's test rows")
            test = listens.loc[list(test_index)]
            if SplitInfo.pairs_hash(test) != model.split.test_hash:
                raise ValueError(f"{path}: listens differ from the ones this model was split from")
            model.train_listens = listens[~listens.index.isin(test.index)]
            model.test_listens = test if len(test) else None
        hist_values = arrays.pop("history")
        history = History.from_frame(pd.DataFrame(hist_values, columns=meta["history_columns"]))
        expected = {"U", "V", "bu", "bi"} if model.config.kind == "biased" else {"U", "V"}
        if set(arrays) != expected:
            raise ValueError(f"{path}: damaged model file (arrays {sorted(arrays)})")
        model._init_state(arrays, history, int(meta["steps_done"]))
        return model

    def __repr__(self) -> str:
        c = self.config
        return (
            f"CFModel(kind={c.kind!r}, embedding_dim={c.embedding_dim}, "
            f"{self.n_users} users × {self.n_artists} artists, "
            f"iterations_done={self._steps_done})"
        )


# ------------------------------------------------------------------------------------------------
# the chapter's helpers
# ------------------------------------------------------------------------------------------------
def build_listens_sparse_tensor(
    listens_df: pd.DataFrame, n_users: int | None = None, n_artists: int | None = None
):
    """The listens as a ``tf.SparseTensor`` (users × artists); shape from the data unless given."""
    _validate_listens(listens_df, "listens_df", n_users, n_artists)
    from . import solvers

    shape = (
        n_users or int(listens_df["userID"].max()) + 1,
        n_artists or int(listens_df["artistID"].max()) + 1,
    )
    return solvers.sparse_tensor(
        listens_df["userID"].to_numpy(),
        listens_df["artistID"].to_numpy(),
        listens_df["listenCount"].to_numpy(),
        shape,
    )


def build_model(
    listens: pd.DataFrame,
    embedding_dim: int = 3,
    init_stddev: float = 1.0,
    *,
    holdout_fraction: float = 0.1,
    seed: int | None = None,
) -> CFModel:
    """The chapter's plain model: split ``listens`` (seeded), observed-MSE loss only."""
    return CFModel.from_listens(
        listens,
        holdout_fraction=holdout_fraction,
        seed=seed,
        kind="plain",
        embedding_dim=embedding_dim,
        init_stddev=init_stddev,
    )


def build_regularized_model(
    listens: pd.DataFrame,
    embedding_dim: int = 3,
    regularization_coeff: float = 0.1,
    gravity_coeff: float = 1.0,
    init_stddev: float = 0.1,
    *,
    holdout_fraction: float = 0.1,
    seed: int | None = None,
) -> CFModel:
    """The chapter's regularized model: observed MSE + L2 regularization + gravity."""
    return CFModel.from_listens(
        listens,
        holdout_fraction=holdout_fraction,
        seed=seed,
        kind="regularized",
        embedding_dim=embedding_dim,
        init_stddev=init_stddev,
        regularization_coeff=regularization_coeff,
        gravity_coeff=gravity_coeff,
    )
