"""A family of losses is one class and a kind is one description: a toy kind, defined here in a
few lines, trains by gradient descent, shows in the TrainerWidget with its controls, and is
saved and loaded, with no edit anywhere else."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_trainer import synthetic_data

from mfwidgets.data import random_split
from mfwidgets.models import CFModel, ModelConfig
from mfwidgets.models.family import Family
from mfwidgets.models.kinds import FACTORS, Kind, register_kind, unregister_kind
from mfwidgets.widgets.trainer import TrainerWidget


class Huber(Family):
    """Huber's loss of the residuals (δ = 1), with the chapter's L2; the MSE is shown beside."""

    part_names = ("observed", "huber")
    loss_names = ("huber",)

    def parts(self, E, r):
        a = tf.abs(r)
        huber = tf.where(a < 1.0, 0.5 * tf.square(r), a - 0.5)
        return {"observed": tf.reduce_mean(tf.square(r)), "huber": tf.reduce_mean(huber)}

    def ridges(self):
        lam = self.config.regularization_coeff
        return [lam / self.n_users, lam / self.n_items]


TOY = Kind("huber", "toy: Huber loss", "huber_model", Huber, (*FACTORS, "regularization_coeff"))


@pytest.fixture
def toy():
    register_kind(TOY)
    yield TOY
    unregister_kind(TOY.name)


def huber_by_hand(model: CFModel, frame) -> float:
    u, i = frame["userID"].to_numpy(), frame["artistID"].to_numpy()
    r = np.abs(model.predict(u, i) - frame["listenCount"].to_numpy())
    return float(np.mean(np.where(r < 1, 0.5 * r**2, r - 0.5)))


def test_a_toy_kind_trains_by_gradient_descent_and_its_loss_is_the_one_defined(toy):
    data = synthetic_data()
    split = random_split(data, 0.1, 0)
    model = CFModel(split, kind="huber", embedding_dim=3, regularization_coeff=0.1, seed=0,
                    init_stddev=0.5, dataset=data)  # fmt: skip
    model.train(num_iterations=200, learning_rate=2.0)
    h = model.history
    assert {"train_error", "test_error", "huber_loss", "regularization_loss"} <= set(h.columns)
    assert h["huber_loss"].iloc[-1] < 0.5 * h["huber_loss"].iloc[0]
    # the recorded loss is the one defined above, at the factors of the last record's step
    parts = model.kernels().loss_parts([v.read_value() for v in model.variables.values()])
    assert float(parts["huber"]) == pytest.approx(huber_by_hand(model, split.train), rel=1e-5)
    U, V = model.user_factors, model.item_factors
    ridge = 0.1 * ((U**2).sum() / data.n_users + (V**2).sum() / data.n_items)
    assert float(parts["regularization"]) == pytest.approx(ridge, rel=1e-5)
    with pytest.raises(ValueError, match="trains with optimizer='sgd' or"):
        model.train(num_iterations=1, optimizer="als")  # no ALS sweep defined
    with pytest.raises(ValueError, match="gravity_coeff"):
        ModelConfig(kind="huber", gravity_coeff=1.0)  # a term it does not have


def test_the_toy_kind_shows_in_the_trainer_with_its_controls_and_saves(toy, tmp_path):
    data = synthetic_data()
    t = TrainerWidget(data, kind="huber", embedding_dim=2, num_iterations=30, learning_rate=2.0)
    assert ("toy: Huber loss", "huber") in t.w["kind"].options
    assert not t.w["regularization_coeff"].disabled and not t.w["embedding_dim"].disabled
    assert t.w["gravity_coeff"].disabled and t.w["alpha"].disabled and t.w["ease_l2"].disabled
    t.w["optimizer"].value = "als"  # a way it does not train: said, nothing runs
    assert t.train(block=True) is None and "trains with optimizer='sgd'" in t.status.text
    t.w["optimizer"].value = "sgd"
    model = t.train(block=True)
    assert t.last_error == "" and t.runs.names == ["huber_model"], t.status.value
    assert model.config.kind == "huber" and "huber_loss" in t.history
    path = t.save(str(tmp_path / "toy.mfmodel"))
    back = CFModel.load(path, listens=data)
    assert back.config == model.config and back.iterations_done == model.iterations_done
    np.testing.assert_array_equal(back.item_factors, model.item_factors)
    back.train(num_iterations=5, learning_rate=2.0)  # and it trains on
    assert back.iterations_done == model.iterations_done + 6
    unregister_kind("huber")
    with pytest.raises(ValueError, match="kind must be one of"):
        CFModel.load(path, listens=data)  # its kind is gone: said plainly
    register_kind(TOY)


def test_a_kind_is_registered_once_and_the_built_in_ones_stay():
    with pytest.raises(ValueError, match="exists already"):
        register_kind(Kind("plain", "again", "again", Family))
    with pytest.raises(ValueError, match="built-in"):
        unregister_kind("biased")
    with pytest.raises(ValueError, match="needs a family"):
        register_kind(Kind("nothing", "nothing", "nothing"))
    with pytest.raises(TypeError, match="Kind"):
        register_kind("huber")
