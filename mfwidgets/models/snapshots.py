"""Snapshots of the factors during training, for a replay of how the embeddings moved.

``CFModel.train(..., snapshot_every=N)`` keeps the user and item factors at every N-th step of
the call (and where it ends), as float32 copies, in ``model.snapshots``. The training engine
starts a compiled call at each snapshot step, so a snapshot holds exactly that step's factors.
Memory is bounded: a call refuses to start when its snapshots would pass the cap, saying how
large ``snapshot_every`` must be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the most memory one model's snapshots may take (bytes)
DEFAULT_CAP = 512 * 2**20


@dataclass(frozen=True)
class Snapshot:
    """The factors after ``iteration`` steps (read-only float32 copies)."""

    iteration: int
    user_factors: np.ndarray
    item_factors: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.user_factors.nbytes + self.item_factors.nbytes


def check_budget(
    taken: list[Snapshot], every: int, steps: int, shape: tuple[int, int, int], cap: int
) -> None:
    """Refuse, before any work, a call whose snapshots would take more than ``cap`` bytes."""
    n_users, n_items, d = shape
    each = (n_users + n_items) * d * 4
    count = (steps - 1) // every + 2  # steps 0, every, ... of the call, and where it ends
    used = sum(s.nbytes for s in taken)
    if used + count * each > cap:
        fits = (cap - used) // each
        least = (steps - 1) // (fits - 1) + 1 if fits >= 2 else None
        advice = f"snapshot_every={least} or more" if least else "fewer snapshots (none fit)"
        raise ValueError(
            f"snapshot_every={every} would keep {count} snapshots of {n_users + n_items:,} × {d} "
            f"factors ({(used + count * each) / 2**20:.1f} MB with those already kept), more "
            f"than the {cap / 2**20:.1f} MB cap: use {advice}, or model.snapshots.clear()"
        )
