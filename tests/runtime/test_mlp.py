"""Notebook 05's network beyond its feedback checks: the Iris sanity run, and the claim that
Keras' optimiser, schedule and regulariser are exactly the notebook's formulas."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from pixelschool_admin.answers.mlp_two_layer import solution


def test_iris_sanity_run_classifies_every_test_flower():
    """The notebook's Iris run (same split, network and settings) reaches 100%."""
    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.2, random_state=0, stratify=iris.target
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    for seed in range(3):  # not a lucky initialisation
        layers = solution.init_layers([4, 16, 3], np.random.default_rng(seed))
        layers, costs = solution.train_network(
            layers, x_train, y_train, num_epoch=100, batch_size=16, learning_rate=0.05, seed=seed
        )
        predictions = solution.relu_network_forward(layers, x_test).argmax(axis=1)
        assert np.mean(predictions == y_test) == 1.0
        assert np.mean(costs[-8:]) < 0.2 * np.mean(costs[:8])


def test_keras_sgd_momentum_and_inverse_time_decay_are_the_notebooks_formulas():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    start, grads = rng.normal(size=(3, 2)), rng.normal(size=(4, 3, 2))
    eta0, decay, beta = 0.1, 0.3, 0.9
    schedule = keras.optimizers.schedules.InverseTimeDecay(eta0, decay_steps=1, decay_rate=decay)
    optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=beta)
    variable = keras.Variable(start.astype(np.float32))
    param, velocity = start, np.zeros_like(start)
    for t, grad in enumerate(grads):
        optimizer.apply_gradients(
            [(keras.ops.convert_to_tensor(grad.astype(np.float32)), variable)]
        )
        eta = solution.decayed_learning_rate(eta0, t, decay)
        param, velocity = solution.momentum_step(param, grad, velocity, eta, beta)
        assert np.allclose(variable.numpy(), param, atol=1e-5)


def test_keras_l2_and_l1_penalties_are_the_notebooks():
    keras = pytest.importorskip("keras")
    w = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    layers = [(w, np.ones((1, 3), dtype=np.float32))]
    l2 = keras.ops.convert_to_numpy(keras.regularizers.L2(0.01)(w))
    l1 = keras.ops.convert_to_numpy(keras.regularizers.L1(0.01)(w))
    assert np.isclose(solution.l2_regularisation(layers, 0.01)[0], l2, rtol=1e-5)
    assert np.isclose(solution.l1_regularisation(layers, 0.01)[0], l1, rtol=1e-5)
