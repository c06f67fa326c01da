"""The relative-error threshold notebook 05 states passes every correct gradient and fails every
listed mistake, over 1,000 random problems each; the notebook states the checks' numbers.

- The layers' gradient checks (``affine_backward`` and ``relu_backward`` against centred differences
  of ``sum(forward(...)[0] * dout)``): the solution's functions, on problems drawn as the checks
  draw them; the mistakes are the wrong answers of ``pixelschool_admin/answers/mlp_modular`` whose
  gradients have the right shapes (the square layers' for the transposed ones: elsewhere they fail
  on shapes first).
- The dropout network's gradient check (``relu_network_loss_and_grads`` with keep_prob 0.6,
  same masks): the solution's function, on networks drawn as the check draws them; the mistakes
  are ``pixelschool_admin/answers/mlp_deep``'s that change the backward pass only (the loss, so the
  numerical gradient, is the solution's: it is computed once per network and shared).

The threshold, floor and step are read from pixelschool/checks/gradient_checks.py, never copied.
"""

import re

import numpy as np
import pytest

from pixelschool import gradcheck
from pixelschool.checks.gradient_checks import (
    GRADIENT_FLOOR,
    GRADIENT_STEP,
    GRADIENT_TOLERANCE,
    KINK_MARGIN,
    centred_differences,
    flat,
    relative_errors,
    relu_problem,
    upstream_gradient_errors,
)
from pixelschool.checks.mlp_deep import DROPOUT_KEEP_PROB as KEEP_PROB
from pixelschool.checks.mlp_deep import dropout_gradient_errors
from pixelschool.checks.mlp_modular import (
    SPREAD,
    affine_gradient_problem,
    he_problem,
    relu_gradient_problem,
)
from pixelschool_admin.answers import mlp_deep, mlp_modular
from pixelschool_admin.authoring.notebooks import read_notebook
from pixelschool_admin.paths import SOLUTIONS_DIR

TRIALS = 1000
solution = mlp_modular.solution
AFFINE_MISTAKES = [  # (wrong answer, only on square layers)
    (mlp_modular.affine_backward_db_mean, False),
    (mlp_modular.affine_backward_divided_by_n, False),
    (mlp_modular.affine_backward_dw_transposed, True),
    (mlp_modular.affine_backward_dx_not_transposed, True),
]
RELU_MISTAKES = [
    mlp_modular.relu_backward_dout_mask,
    mlp_modular.relu_backward_times_x,
    mlp_modular.relu_backward_times_output,
    mlp_modular.relu_backward_no_dout,
    mlp_modular.relu_backward_inverted_mask,
]
DROPOUT_MISTAKES = [
    "mask not in backward",
    "boolean mask in backward",
    "relu derivative",
    "sigmoid derivative",
    "batch factor",
    "divided twice",
    "bias mean",
]


def worst(errors):
    assert errors is not None, "the gradients do not have the inputs' shapes"
    return max(errors)


# --- the layers ---------------------------------------------------------------------------


def test_correct_layer_gradients_pass_the_threshold():
    rng = np.random.default_rng(0)
    affine = [
        worst(upstream_gradient_errors(solution.affine_forward, solution.affine_backward, *p))
        for p in (affine_gradient_problem(rng, square=k % 2 == 1) for k in range(TRIALS))
    ]
    relu = [
        worst(upstream_gradient_errors(solution.relu_forward, solution.relu_backward, *p))
        for p in (relu_gradient_problem(rng) for _ in range(TRIALS))
    ]
    print(f"correct, worst of {TRIALS}: affine {max(affine):.1e}, relu {max(relu):.1e}")
    assert max(affine) < GRADIENT_TOLERANCE
    assert max(relu) < GRADIENT_TOLERANCE


@pytest.mark.parametrize(
    "mistake, square", AFFINE_MISTAKES, ids=lambda m: getattr(m, "__name__", "")
)
def test_affine_mistakes_exceed_the_threshold(mistake, square):
    rng = np.random.default_rng(1)
    errors = [
        worst(upstream_gradient_errors(solution.affine_forward, mistake, *p))
        for p in (affine_gradient_problem(rng, square=square) for _ in range(TRIALS))
    ]
    print(f"{mistake.__name__}, least of {TRIALS}: {min(errors):.1e}")
    assert min(errors) > GRADIENT_TOLERANCE


@pytest.mark.parametrize("mistake", RELU_MISTAKES, ids=lambda m: m.__name__)
def test_relu_mistakes_exceed_the_threshold(mistake):
    rng = np.random.default_rng(2)
    errors = [
        worst(upstream_gradient_errors(solution.relu_forward, mistake, *p))
        for p in (relu_gradient_problem(rng) for _ in range(TRIALS))
    ]
    print(f"{mistake.__name__}, least of {TRIALS}: {min(errors):.1e}")
    assert min(errors) > GRADIENT_TOLERANCE


def test_relu_problems_keep_away_from_the_kink():
    rng = np.random.default_rng(3)
    for _ in range(TRIALS):
        (x,), _ = relu_gradient_problem(rng)
        assert np.abs(x).min() >= KINK_MARGIN > 10 * GRADIENT_STEP


# --- the dropout network ------------------------------------------------------------------


class Replay:
    """A generator whose ``random`` returns the given draws, one per call."""

    def __init__(self, draws):
        self.draws = iter(draws)

    def random(self, shape):
        return next(self.draws)


class Masks:
    """Stands for ``np.random.default_rng(seed)`` in the network: it replays that generator's
    uniform draws, drawn once, so every evaluation of the loss gets the same masks, as
    check_dropout_gradients' fresh generators do (and the 100 evaluations per network take
    less time)."""

    def __init__(self, seed, shapes):
        generator = np.random.default_rng(seed)
        self.draws = [generator.random(shape) for shape in shapes]

    def replay(self):
        return Replay(self.draws)


def runner(loss_and_grads, data, labels, masks):
    """``run(layers)``: (loss, [dw1, db1, ...]) with the masks ``masks`` replays."""

    def run(layers):
        loss, grads = loss_and_grads(layers, data, labels, KEEP_PROB, masks.replay())
        return loss, flat(grads)

    return run


def test_dropout_network_threshold():
    """Correct gradients pass and each mistake fails, on the same 1,000 networks (their
    numerical gradient, of the solution's loss, computed once and shared)."""
    rng = np.random.default_rng(4)
    correct, mistakes = [], {mistake: [] for mistake in DROPOUT_MISTAKES}
    for trial in range(TRIALS):
        layers, data, labels = relu_problem(rng, 2)
        seed = int(rng.integers(1000))
        masks = Masks(seed, [(len(data), w.shape[1]) for w, _ in layers[:-1]])
        run = runner(solution.relu_network_loss_and_grads, data, labels, masks)
        if trial < 20:  # the replayed masks are a fresh generator's; the check's own function
            fresh = solution.relu_network_loss_and_grads(
                layers, data, labels, KEEP_PROB, np.random.default_rng(seed)
            )
            assert run(layers)[0] == fresh[0]
            assert all(np.array_equal(a, b) for a, b in zip(run(layers)[1], flat(fresh[1])))
            assert max(dropout_gradient_errors(run, layers)) < GRADIENT_TOLERANCE
        work = [(w.copy(), b.copy()) for w, b in layers]
        numeric = centred_differences(lambda run=run, work=work: run(work)[0], flat(work))
        loss, grads = run(layers)
        correct.append(max(relative_errors(grads, numeric)))
        for mistake, errors in mistakes.items():

            def wrong(layers, data, labels, keep_prob, rng, mistake=mistake):
                return mlp_deep.network_loss_and_grads(
                    layers, data, labels, keep_prob, rng, mistake
                )

            wrong_loss, wrong_grads = runner(wrong, data, labels, masks)(layers)
            assert np.isclose(wrong_loss, loss, rtol=1e-12), f"{mistake} changes the loss"
            errors.append(max(relative_errors(wrong_grads, numeric)))
    least = {mistake: min(errors) for mistake, errors in mistakes.items()}
    print(f"correct, worst of {TRIALS}: {max(correct):.1e}; mistakes, least: {least}")
    assert max(correct) < GRADIENT_TOLERANCE
    assert all(error > GRADIENT_TOLERANCE for error in least.values()), least


# --- the notebook states the checks' numbers ----------------------------------------------


def latex(value):
    """``10^{-5}`` for 1e-5."""
    exponent = int(round(np.log10(value)))
    assert value == 10.0**exponent
    return f"10^{{{exponent}}}"


def test_the_notebook_states_the_checks_numbers():
    cells = {
        cell.get("id"): cell.source for cell in read_notebook(SOLUTIONS_DIR / "05_mlp.ipynb").cells
    }
    stated = {
        "layers-text": [GRADIENT_TOLERANCE, GRADIENT_FLOOR, GRADIENT_STEP],
        "relu-layer-text": [GRADIENT_TOLERANCE, GRADIENT_FLOOR, GRADIENT_STEP, KINK_MARGIN],
        "layer-gradcheck-text": [GRADIENT_TOLERANCE, GRADIENT_FLOOR, GRADIENT_STEP],
        "relu-network-backward-text": [
            GRADIENT_TOLERANCE,
            GRADIENT_FLOOR,
            GRADIENT_STEP,
            KINK_MARGIN,
        ],
    }
    for cell_id, values in stated.items():
        for value in values:
            assert latex(value) in cells[cell_id], (cell_id, value)
    stated_threshold = re.search(r"^THRESHOLD = (\S+)", cells["layer-gradcheck"], re.M)
    assert float(stated_threshold.group(1)) == GRADIENT_TOLERANCE
    # the cell prints its errors with pixelschool.gradcheck: the checks' step and floor
    assert (gradcheck.STEP, gradcheck.FLOOR) == (GRADIENT_STEP, GRADIENT_FLOOR)


# --- He initialisation: the check's spread is sound for its sizes -------------------------


def test_he_check_passes_he_weights_and_names_xavier():
    rng = np.random.default_rng(5)
    for _ in range(100):
        for fan_in, fan_out in [(784, 256), (256, 10), (40, 120), (10, 3)]:
            he = rng.normal(0, np.sqrt(2 / fan_in), size=(fan_in, fan_out))
            assert he_problem(he, fan_in, fan_out, "w") is None
        limit = np.sqrt(6 / (784 + 256))
        xavier = rng.uniform(-limit, limit, size=(784, 256))
        assert "Xavier" in he_problem(xavier, 784, 256, "w")
        lecun = rng.normal(0, np.sqrt(1 / 784), size=(784, 256))
        assert "sqrt(1 / fan_in)" in he_problem(lecun, 784, 256, "w")
    assert SPREAD >= 6
