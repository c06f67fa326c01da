"""Notebook 03's checks beyond the reference and wrong answers (``test_checks.py``)."""

import inspect

import IPython.display
import numpy as np
import pytest

import problem_unittests
from pixelschool.checks import recordings
from pixelschool.checks import softmax as checks
from pixelschool_admin.answers import softmax as answers
from pixelschool_admin.answers import softmax_training as training_answers
from tests.leaks import passes

solution = answers.solution


def test_train_check_restores_the_students_loss_function():
    namespace = training_answers.train_gradient_ascent.__globals__
    before = namespace["softmax_loss_and_grad"]
    problem_unittests.test_train_softmax(solution.train_softmax)
    with pytest.raises(AssertionError):
        problem_unittests.test_train_softmax(training_answers.train_gradient_ascent)
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


def hidden_run(check, fn, seed, monkeypatch):
    """The kernel's half of a hidden test: the check's property checks and its calls."""
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: None)
    check(fn, seed=seed)


def test_own_gradient_check_names_the_mistake_in_the_hidden_tests_kernel(monkeypatch):
    with pytest.raises(AssertionError, match="wrong sign"):
        hidden_run(
            problem_unittests.test_softmax_loss_and_grad,
            answers.loss_and_grad_wrong_sign,
            seed=303,
            monkeypatch=monkeypatch,
        )


def test_own_gradient_check_catches_a_gradient_right_only_on_the_recorded_inputs():
    recorded = {
        recordings.digest(case.args): case.expected
        for case in recordings.visible_cases("softmax_loss_and_grad")
    }

    def recorded_answers_only(W, b, X, y, reg):  # no loop: the check forbids them
        if recordings.digest((W, b, X, y, reg)) in recorded:
            return recorded[recordings.digest((W, b, X, y, reg))]
        loss, dW, db = solution.softmax_loss_and_grad(W, b, X, y, reg)
        return loss, 2 * dW, db

    with pytest.raises(AssertionError, match="dW is not the gradient of your own loss"):
        problem_unittests.test_softmax_loss_and_grad(recorded_answers_only)


def test_loss_inputs_hold_one_sample_thousands_above_the_others():
    for seed in (0, 303):
        spreads = [
            np.ptp((X @ W + b).max(axis=1))
            for W, b, X, _, _ in checks.loss_inputs(np.random.default_rng(seed))
        ]
        assert max(spreads) > 2000


def test_no_function_of_the_check_module_passes_a_check():
    functions = [
        fn
        for fn in vars(checks).values()
        if inspect.isfunction(fn)
        and fn.__module__ == checks.__name__
        and not fn.__name__.startswith("test_")
    ]
    for exercise in ["softmax", "cross_entropy_loss", "softmax_loss_and_grad", "predict_softmax"]:
        check = getattr(problem_unittests, f"test_{exercise}")
        assert not [fn.__name__ for fn in functions if passes(check, fn)], exercise
