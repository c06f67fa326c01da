"""Notebook 03's checks beyond the reference and wrong answers (tests/test_checks.py)."""

import numpy as np
import pytest

import problem_unittests
from coursekit.checks import softmax as checks
from tests.answers import softmax as answers

solution = answers.solution


def test_train_check_restores_the_students_loss_function():
    namespace = answers.train_gradient_ascent.__globals__
    before = namespace["softmax_loss_and_grad"]
    problem_unittests.test_train_softmax(solution.train_softmax)
    with pytest.raises(AssertionError):
        problem_unittests.test_train_softmax(answers.train_gradient_ascent)
    assert namespace["softmax_loss_and_grad"] is before


def notebook_function(source, **names):
    """Define a function as a notebook cell does, in a namespace of its own."""
    namespace = {"np": np, **names}
    exec(source, namespace)
    return namespace


def test_train_check_removes_the_stand_in_where_there_was_none():
    namespace = notebook_function(
        "def train_softmax(X, y, learning_rate, reg, epochs, batch_size, seed):\n"
        "    raise NotImplementedError()\n"
    )
    with pytest.raises(NotImplementedError):
        problem_unittests.test_train_softmax(namespace["train_softmax"])
    assert "softmax_loss_and_grad" not in namespace


KEYWORD_TRAINING = """
def train_softmax(X, y, learning_rate, reg, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    W = 0.001 * rng.standard_normal((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start : start + batch_size]
            loss, dW, db = softmax_loss_and_grad(W=W, b=b, X=X[batch], y=y[batch], reg=reg)
            W, b = W - learning_rate * dW, b - learning_rate * db
            history.append(loss)
    return W, b, history
"""


def test_train_check_accepts_keyword_calls_of_the_loss():
    namespace = notebook_function(
        KEYWORD_TRAINING, softmax_loss_and_grad=solution.softmax_loss_and_grad
    )
    problem_unittests.test_train_softmax(namespace["train_softmax"])
    assert namespace["softmax_loss_and_grad"] is solution.softmax_loss_and_grad


def test_gradient_slightly_off_fails_with_the_threshold_stated():
    def loss_and_grad_slightly_off(W, b, X, y, reg):
        loss, dW, db = solution.softmax_loss_and_grad(W, b, X, y, reg)
        return loss, dW * (1 + 1e-4), db

    with pytest.raises(AssertionError, match=r"Relative error .*below 1e-06 in float64"):
        problem_unittests.test_softmax_loss_and_grad(loss_and_grad_slightly_off)


def test_gradient_inputs_keep_every_entry_away_from_zero():
    rng = np.random.default_rng(0)
    for _ in range(20):
        W, b, X, y = checks.random_problem(rng, 5, 7, 3, 0.1)
        _, dW, db = checks.reference_loss_and_grad(W, b, X, y, 0.1)
        assert min(np.abs(dW).min(), np.abs(db).min()) > 1e-4
