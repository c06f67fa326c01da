"""The relative-error thresholds the notebooks state pass every correct gradient and fail
every listed mistake, over 1,000 random networks or problems each.

- Notebook 04's gradient check: its ``THRESHOLD`` cell, with the solution's own
  ``numerical_gradient`` and ``relative_error`` (worst entry, floor 1e-8), on networks drawn as the
  notebook draws them; the mistakes are the wrong answers of
  ``pixelschool_admin/answers/backprop_network`` whose gradients have the right shapes (the others
  fail on shapes first).
- Notebook 03's sanity check, ``pixelschool.gradcheck`` (its ``THRESHOLD``, ``FLOOR`` and
  ``STEP``), on random softmax problems; the mistakes are ``pixelschool_admin/answers/softmax``'s.

Each threshold is read from where the notebook or the runtime defines it, never copied.
The numerical gradients are computed once per network and shared by all answers.
"""

import re

import numpy as np
import pytest

from pixelschool import gradcheck
from pixelschool_admin.answers import (  # noqa: F401  (register their answers)
    backprop_network,
    backprop_numerical,
    softmax,
)
from pixelschool_admin.answers.registry import REFERENCES, WRONG_ANSWERS
from pixelschool_admin.authoring.notebooks import read_notebook
from pixelschool_admin.paths import SOLUTIONS_DIR

TRIALS = 1000
BACKPROP = SOLUTIONS_DIR / "04_backprop.ipynb"


def notebook_cell(path, cell_id):
    """The source of the cell with this id."""
    return next(cell.source for cell in read_notebook(path).cells if cell.get("id") == cell_id)


def stated_threshold():
    """Notebook 04's ``THRESHOLD = ...``, as its gradient-check cell states it."""
    match = re.search(r"^THRESHOLD = (\S+)$", notebook_cell(BACKPROP, "gradient-check-mse"), re.M)
    return float(match.group(1))


def notebook_losses():
    """``loss_mse`` and ``loss_cross_entropy`` from notebook 04's given ``losses`` cell."""
    namespace = {"np": np}
    exec(notebook_cell(BACKPROP, "losses"), namespace)
    return {"mse": namespace["loss_mse"], "cross_entropy": namespace["loss_cross_entropy"]}


def random_network(seed, loss):
    """Parameters, data and targets drawn as notebook 04's gradient-check cell draws them."""
    rng = np.random.default_rng(seed)
    n, d_in, d_h, d_out = 5, 4, 6, 3
    data = rng.normal(size=(n, d_in))
    params = [
        rng.normal(size=(d_in, d_h)),
        rng.normal(size=(1, d_h)),
        rng.normal(size=(d_h, d_out)),
        rng.normal(size=(1, d_out)),
    ]
    if loss == "mse":
        targets = rng.uniform(size=(n, d_out))
    else:
        targets = np.eye(d_out)[rng.integers(0, d_out, size=n)]
    return params, data, targets


def worst_errors(answer, params, data, targets, numeric, relative_error):
    """The worst relative error over the four parameters; None when a shape is wrong."""
    _, *grads = answer(*[p.copy() for p in params], data.copy(), targets.copy())
    if any(np.shape(g) != p.shape for g, p in zip(grads, params)):
        return None
    return max(relative_error(np.asarray(g, float), n) for g, n in zip(grads, numeric))


def numerical_gradients(numerical_gradient, loss, params, data, targets):
    """The centred-difference gradient of the loss with respect to each parameter."""
    return [numerical_gradient(lambda: loss(*params, data, targets), p) for p in params]


@pytest.fixture(scope="module")
def backprop_trials():
    """{loss: [(params, data, targets, numerical gradients)] * TRIALS}."""
    numerical_gradient = REFERENCES["numerical_gradient"].__wrapped__
    trials = {}
    for loss_name, loss in notebook_losses().items():
        trials[loss_name] = []
        for seed in range(TRIALS):
            params, data, targets = random_network(seed, loss_name)
            numeric = numerical_gradients(numerical_gradient, loss, params, data, targets)
            trials[loss_name].append((params, data, targets, numeric))
    return trials


def wrong_values(answer, reference, *inputs):
    """Whether the answer's gradients have the right shapes and wrong values on these inputs."""
    _, *grads = answer(*[np.copy(x) for x in inputs])
    _, *right = reference(*[np.copy(x) for x in inputs])
    return all(np.shape(g) == np.shape(r) for g, r in zip(grads, right)) and not all(
        np.allclose(g, r) for g, r in zip(grads, right)
    )


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_notebook_04_threshold_passes_correct_and_fails_mistakes(loss, backprop_trials):
    threshold = stated_threshold()
    exercise = f"two_layer_backward_{loss}"
    relative_error = REFERENCES["relative_error"]
    correct = [
        worst_errors(REFERENCES[exercise], *trial, relative_error)
        for trial in backprop_trials[loss]
    ]
    assert max(correct) < threshold, (
        f"a correct {exercise} fails the stated threshold {threshold:g}: worst "
        f"{max(correct):.2e} (network {int(np.argmax(correct))})"
    )
    judged = 0
    for answer in WRONG_ANSWERS[exercise]:
        params, data, targets, _ = backprop_trials[loss][0]
        if not wrong_values(answer.fn, REFERENCES[exercise], *params, data, targets):
            continue  # a loop, or wrong shapes: the check rejects it, a gradient check cannot
        errors = [worst_errors(answer.fn, *t, relative_error) for t in backprop_trials[loss]]
        judged += 1
        assert min(errors) > threshold, (
            f"{answer.id} passes the threshold {threshold:g} on network "
            f"{int(np.argmin(errors))} (error {min(errors):.2e})"
        )
    assert judged >= 5, f"only {judged} mistakes of {exercise} reach the gradient check"


def softmax_problem(seed):
    """A small random softmax problem as notebook 03's sanity check draws it (smaller)."""
    rng = np.random.default_rng(seed)
    n, d, classes = 8, 5, 4
    return (
        0.1 * rng.standard_normal((d, classes)),
        0.1 * rng.standard_normal(classes),
        rng.standard_normal((n, d)),
        rng.integers(0, classes, size=n),
        0.1,
    )


def gradcheck_error(loss_and_grad, W, b, X, y, reg, numeric):
    """gradcheck's worst error over W and b, its formula (FLOOR) on precomputed slopes."""
    _, dW, db = loss_and_grad(W.copy(), b.copy(), X, y, reg)
    if np.shape(dW) != W.shape or np.shape(db) != b.shape:
        return None
    errors = [
        np.max(np.abs(g - n) / np.maximum(gradcheck.FLOOR, np.abs(g) + np.abs(n)))
        for g, n in zip((np.asarray(dW, float), np.asarray(db, float)), numeric)
    ]
    return max(errors)


def gradcheck_slopes(loss_and_grad, W, b, X, y, reg):
    """Centred differences with gradcheck's STEP, as ``gradient_check`` takes them."""
    slopes = []
    for param in (W, b):
        slope = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + gradcheck.STEP
            above = loss_and_grad(W, b, X, y, reg)[0]
            param[index] = saved - gradcheck.STEP
            below = loss_and_grad(W, b, X, y, reg)[0]
            param[index] = saved
            slope[index] = (above - below) / (2 * gradcheck.STEP)
        slopes.append(slope)
    return slopes


def test_gradcheck_formula_is_the_one_tested():
    """The formula above is gradient_check's: same errors on one problem."""
    reference = REFERENCES["softmax_loss_and_grad"]
    W, b, X, y, reg = softmax_problem(0)
    _, dW, db = reference(W, b, X, y, reg)
    printed = gradcheck.gradient_check(
        lambda: reference(W, b, X, y, reg)[0], {"W": W, "b": b}, {"W": dW, "b": db}
    )
    mine = gradcheck_error(reference, W, b, X, y, reg, gradcheck_slopes(reference, W, b, X, y, reg))
    assert max(printed.values()) == pytest.approx(mine, rel=0.06)


def test_notebook_03_gradcheck_threshold_passes_correct_and_fails_mistakes():
    """Mistakes in the gradient only: notebook 03 checks a student's gradient against the
    slopes of the student's own loss, so an answer whose loss is also wrong is left out
    (its slopes are not the reference's)."""
    reference = REFERENCES["softmax_loss_and_grad"]
    problems = [softmax_problem(seed) for seed in range(TRIALS)]
    slopes = [gradcheck_slopes(reference, *problem) for problem in problems]
    correct = [gradcheck_error(reference, *p, s) for p, s in zip(problems, slopes)]
    assert max(correct) < gradcheck.THRESHOLD, f"correct gradient: worst {max(correct):.2e}"
    judged = 0
    for answer in WRONG_ANSWERS["softmax_loss_and_grad"]:
        if not same_loss(answer.fn, reference, problems[0]) or not wrong_values(
            answer.fn, reference, *problems[0]
        ):
            continue  # its loss is wrong too, or only its shapes, loops or stability are
        errors = [gradcheck_error(answer.fn, *p, s) for p, s in zip(problems, slopes)]
        judged += 1
        assert min(errors) > gradcheck.THRESHOLD, (
            f"{answer.id} passes gradient_check on problem {int(np.argmin(errors))}"
            f" (error {min(errors):.2e})"
        )
    assert judged >= 3, f"only {judged} gradient mistakes judged"


def same_loss(answer, reference, problem):
    """Whether the answer's loss is the reference's on this problem (its gradient may differ)."""
    W, b, X, y, reg = problem
    try:
        loss = float(answer(W.copy(), b.copy(), X, y, reg)[0])
    except Exception:  # noqa: BLE001  (a wrong answer may fail on these inputs)
        return False
    return np.isclose(loss, reference(W, b, X, y, reg)[0], rtol=1e-12)
