"""Feedback checks for notebook 05, part 4: layers as modules (CS231n's forward and backward
functions with caches) and He initialisation.

``affine_forward``, ``affine_backward``, ``relu_forward`` and ``relu_backward`` are judged against
the solution's recorded results, their usual mistakes named from the recorded results of the wrong
answers in ``pixelschool_admin/answers/mlp_modular.py``. With the visible seed, each backward check
then runs a gradient check of the student's own pair of functions: the numerical gradient of
``sum(forward(...)[0] * dout)`` against ``backward(dout, cache)`` (step, floor and tolerance from
gradient_checks). ``init_layers`` draws at random: its check is all code (shapes, zero biases, the
generator used, each layer's standard deviation against He's).
"""

import numpy as np

from pixelschool.checks.compare import close, verdict, wrong_parts
from pixelschool.checks.framework import expect, expect_array, expect_tuple, feedback_check
from pixelschool.checks.gradient_checks import (
    away_from_kink,
    call_passing,
    check_own_gradients,
)
from pixelschool.checks.mistakes import named
from pixelschool.checks.mlp_common import weights_shape_problem

__all__ = [
    "test_affine_forward",
    "test_affine_backward",
    "test_relu_forward",
    "test_relu_backward",
    "test_init_layers",
]

AFFINE_HINT = "Shapes: x (N, D), w (D, M), b (1, M); out = x @ w + b has shape (N, M)."


def layer_inputs(rng, n, d, m):
    """Random x (n, d), w (d, m), b (1, m)."""
    return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=(1, m))


def layer_sizes(rng):
    """(N, D, M): three different sizes, then a square layer (D = M, N different), where a
    transposed w or a transposed gradient still has the right shape."""
    n, d, m = (int(k) for k in rng.choice(np.arange(2, 8), size=3, replace=False))
    return [(n, d, m), (n, d, d)]


# --- affine_forward ----------------------------------------------------------------------

EXAMPLE = (
    np.array([[1.0, 2.0], [0.0, -1.0]]),
    np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]),
    np.array([[0.5, 0.0, -0.5]]),
)

AFFINE_FORWARD_MESSAGES = {
    "no_bias": "affine_forward: add the bias, out = x @ w + b (b, shape (1, M), is added to "
    "every row).",
    "cache_order": "affine_forward: the cache must be (x, w, b), in that order: affine_backward "
    "reads it as x, w, b = cache.",
    "cache_output": "affine_forward: the cache keeps the layer's inputs (x, w, b), not its output: "
    "affine_backward needs x for dw and w for dx.",
}


def affine_forward_inputs(rng):
    """(x, w, b): a worked example, then layers of three different sizes, a square one and one
    of a single sample."""
    cases = [EXAMPLE]
    cases += [layer_inputs(rng, *sizes) for sizes in layer_sizes(rng)]
    return cases + [layer_inputs(rng, 1, int(rng.integers(2, 6)), int(rng.integers(2, 6)))]


def check_affine_structure(result, case):
    x, w, _ = case.args
    expect_tuple(result, "affine_forward", 2)
    out, cache = result
    expect_array(out, "affine_forward's out (first value)")
    expect(
        out.shape == (len(x), w.shape[1]),
        f"affine_forward's out has shape {out.shape} for x {x.shape} and w {w.shape}, expected "
        f"{(len(x), w.shape[1])}. {AFFINE_HINT}",
    )
    expect(
        isinstance(cache, (tuple, list)) and len(cache) == 3,
        "affine_forward's cache (second value) should be the tuple (x, w, b), the three inputs: "
        "affine_backward reads it as x, w, b = cache.",
        mistake="wrong_cache",
    )


def affine_forward_otherwise(result, case):
    x, w, b = case.args
    if not close(result[0], case.expected[0]):
        return f"affine_forward: out is not x @ w + b (x {x.shape}, w {w.shape}, b {b.shape})."
    return "affine_forward: the cache should hold x, w and b themselves, in that order."


def judge_affine_forward(results, cases):
    for result, case in zip(results, cases):
        check_affine_structure(result, case)
    verdict(
        results,
        cases,
        "affine_forward",
        AFFINE_FORWARD_MESSAGES,
        otherwise=affine_forward_otherwise,
    )


@feedback_check("affine_forward", inputs=affine_forward_inputs, judge=judge_affine_forward)
def test_affine_forward(affine_forward, cases):
    for case in cases:
        cases.call(affine_forward, case, hint=AFFINE_HINT)


# --- affine_backward ---------------------------------------------------------------------

BACKWARD_HINT = (
    "Shapes: dout (N, M) and cache = (x (N, D), w (D, M), b (1, M)), as affine_forward returns "
    "it; dx (N, D) = dout @ w.T, dw (D, M), db (1, M)."
)
AFFINE_BACKWARD_MESSAGES = {
    "db_mean": lambda result, case: (
        f"affine_backward: db is N = {len(case.args[0])} times too small: you averaged dout over "
        "the rows. b is added to every row, so its gradient sums them: np.sum(dout, axis=0, "
        "keepdims=True) (dout already holds the 1 / N of a mean loss)."
    ),
    "divided_by_n": lambda result, case: (
        f"affine_backward: dw and db are N = {len(case.args[0])} times too small: dout already "
        "holds the 1 / N of a mean loss; do not divide by N again."
    ),
}


def affine_backward_inputs(rng):
    """(dout, (x, w, b)): a worked example of 2 samples, then layers of three different sizes,
    a square one (a transposed dw has the right shape there) and another."""
    example = (np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]), EXAMPLE)
    cases = [example]
    sizes = layer_sizes(rng)
    sizes.append(tuple(int(k) for k in rng.integers(2, 7, size=3)))
    for n, d, m in sizes:
        cases.append((rng.normal(size=(n, m)), layer_inputs(rng, n, d, m)))
    return cases


def check_gradient_shapes(result, case):
    dout, (x, w, b) = case.args
    (n, d), m = x.shape, w.shape[1]
    expect_tuple(result, "affine_backward", 3)
    expect(
        np.ndim(result[2]) > 0,
        "affine_backward: db is one number: you summed dout over all its axes. Sum over the "
        "rows only: np.sum(dout, axis=0, keepdims=True).",
        mistake="db_summed_all",
    )
    for value, what in zip(result, ["dx", "dw", "db"]):
        expect_array(value, f"affine_backward's {what}")
    dx, dw, db = result
    expect(
        not (dw.shape == (m, d) and m != d),
        f"affine_backward: dw has shape {dw.shape}, w has shape {w.shape}: dw is transposed. "
        "dw = x.T @ dout, (D, N) @ (N, M).",
        mistake="dw_transposed",
    )
    expect(dw.shape == w.shape, f"affine_backward: dw has shape {dw.shape}, expected {w.shape}.")
    expect(
        dx.shape == x.shape,
        f"affine_backward: dx has shape {dx.shape}, expected {x.shape}, the shape of x: "
        "dx = dout @ w.T.",
    )
    if db.shape in [(n, m), (n, 1), (n,)] and n > 1:
        raise named(
            f"affine_backward: db has shape {db.shape}: sum dout over the rows (axis 0), not "
            "over the columns or not at all. b is added to every row: np.sum(dout, axis=0, "
            "keepdims=True).",
            "db_wrong_axis",
        )
    expect(
        db.shape == b.shape,
        f"affine_backward: db has shape {db.shape}, expected {b.shape}, the shape of b: "
        "np.sum(dout, axis=0, keepdims=True) keeps the row axis.",
        mistake="db_shape",
    )


def affine_backward_otherwise(result, case):
    wrong = wrong_parts(["dx", "dw", "db"], result, case.expected)
    x, w = case.args[1][:2]
    return (
        f"affine_backward: {', '.join(wrong)} wrong for x {x.shape} and w {w.shape}. "
        "dx = dout @ w.T, dw = x.T @ dout, db = the sum of dout over the rows."
    )


def judge_affine_backward(results, cases):
    for result, case in zip(results, cases):
        check_gradient_shapes(result, case)
    verdict(
        results,
        cases,
        "affine_backward",
        AFFINE_BACKWARD_MESSAGES,
        otherwise=affine_backward_otherwise,
    )


def affine_gradient_problem(rng, square=False):
    """The affine layer's gradient check: ((x, w, b), dout), N, D, M from 2 to 6 (D = M when
    ``square``)."""
    n, d, m = (int(k) for k in rng.integers(2, 7, size=3))
    x, w, b = layer_inputs(rng, n, d, d if square else m)
    return (x, w, b), rng.normal(size=(n, w.shape[1]))


@feedback_check("affine_backward", inputs=affine_backward_inputs, judge=judge_affine_backward)
def test_affine_backward(affine_backward, cases):
    for case in cases:
        cases.call(affine_backward, case, hint=BACKWARD_HINT)
    check_own_gradients(
        affine_backward, "affine_forward", ["x", "w", "b"], affine_gradient_problem, cases
    )


# --- relu_forward ------------------------------------------------------------------------

RELU_FORWARD_MESSAGES = {
    "cache_output": "relu_forward: the cache is the layer's input x itself, not its output: "
    "relu_backward reads the mask x > 0 from it.",
    "derivative": "relu_forward: out is ReLU itself, max(0, x), not its derivative (x > 0).",
}


def relu_forward_inputs(rng):
    """x: a fixed row (a zero among them), then random arrays of 2 and 3 dimensions."""
    cases = [(np.array([[-2.0, 0.0, 0.5, 3.0]]),)]
    cases.append((rng.normal(size=(int(rng.integers(2, 6)), int(rng.integers(3, 7)))),))
    return cases + [(rng.normal(size=(2, int(rng.integers(2, 4)), int(rng.integers(2, 5)))),)]


def judge_relu_forward(results, cases):
    for result, case in zip(results, cases):
        x = case.args[0]
        expect_tuple(result, "relu_forward", 2)
        out = result[0]
        expect_array(out, "relu_forward's out (first value)")
        expect(
            out.shape == x.shape,
            f"relu_forward's out has shape {out.shape} for x of shape {x.shape}: np.max reduces "
            "an array along an axis; np.maximum(x, 0) compares entry by entry (or use your relu).",
            mistake="reduced_axis",
        )
        expect(
            isinstance(result[1], np.ndarray),
            "relu_forward's cache (second value) is x itself, the array, not "
            f"{type(result[1]).__name__}.",
        )
    verdict(
        results,
        cases,
        "relu_forward",
        RELU_FORWARD_MESSAGES,
        otherwise=lambda result, case: (
            "relu_forward: out should be max(0, x)"
            if not close(result[0], case.expected[0])
            else "relu_forward: the cache should be x, the input, unchanged."
        ),
    )


@feedback_check("relu_forward", inputs=relu_forward_inputs, judge=judge_relu_forward)
def test_relu_forward(relu_forward, cases):
    cases.call_all(relu_forward)


# --- relu_backward -----------------------------------------------------------------------

RELU_BACKWARD_MESSAGES = {
    "dout_mask": "relu_backward: the mask comes from the layer's input x (the cache), not from "
    "dout: dx = dout where x > 0, 0 elsewhere.",
    "times_x": "relu_backward: multiply dout by ReLU's derivative, the mask (x > 0), not by x.",
    "times_output": "relu_backward: multiply dout by ReLU's derivative, the mask (x > 0), not by "
    "ReLU's output max(0, x).",
    "no_dout": "relu_backward: the mask (x > 0) alone is ReLU's local derivative: multiply the "
    "upstream gradient dout by it (chain rule).",
    "inverted_mask": "relu_backward: the gradient passes where x > 0 (the unit was on), and is 0 "
    "where x <= 0.",
    "at_zero": "relu_backward: where x is exactly 0 the gradient must be 0 too: ReLU's "
    "derivative is 1 where x > 0 and 0 elsewhere, x = 0 included (the mask is x > 0, not "
    "x >= 0). Exact zeros are common: a ReLU layer's input is 0 wherever the layer below "
    "output 0.",
}


def relu_backward_inputs(rng):
    """(dout, x): a worked example, then random arrays of 2 and 3 dimensions; every x holds
    exact zeros (where the gradient is 0, as the text says) with a nonzero dout there."""
    x = np.array([[-2.0, 0.5, 3.0, 0.0], [1.0, -1.0, -0.25, 0.0]])
    cases = [(np.array([[1.0, -2.0, 3.0, 1.5], [-4.0, 5.0, 6.0, -2.0]]), x)]
    for shape in [
        (int(rng.integers(2, 6)), int(rng.integers(3, 7))),
        (2, 3, int(rng.integers(2, 5))),
    ]:
        x = away_from_kink(rng.normal(size=shape))
        zeros = rng.choice(x.size, size=max(2, x.size // 4), replace=False)
        x.flat[zeros] = 0.0
        dout = rng.normal(size=shape)
        dout.flat[zeros] = np.where(dout.flat[zeros] < 0, -1, 1) * (np.abs(dout.flat[zeros]) + 0.5)
        cases.append((dout, x))
    return cases


def judge_relu_backward(results, cases):
    for result, case in zip(results, cases):
        x = case.args[1]
        expect_array(result, "relu_backward's dx")
        expect(
            result.shape == x.shape,
            f"relu_backward's dx has shape {result.shape}, expected {x.shape}, the shape of x.",
        )
    verdict(
        results,
        cases,
        "relu_backward",
        RELU_BACKWARD_MESSAGES,
        otherwise="relu_backward: dx should be dout where x > 0 and 0 elsewhere.",
    )


def relu_gradient_problem(rng):
    """The ReLU layer's gradient check: ((x,), dout), x (N, D) at least KINK_MARGIN from 0.

    Its first entries are chosen so that every named mistake shows: x has a positive and a
    negative entry, and dout is negative where x is positive."""
    shape = tuple(int(k) for k in rng.integers(2, 7, size=2))
    x, dout = away_from_kink(rng.normal(size=shape)), rng.normal(size=shape)
    x.flat[0], x.flat[1] = abs(x.flat[0]), -abs(x.flat[1])
    dout.flat[0] = -abs(dout.flat[0]) - 0.1
    return (x,), dout


@feedback_check("relu_backward", inputs=relu_backward_inputs, judge=judge_relu_backward)
def test_relu_backward(relu_backward, cases):
    cases.call_all(relu_backward)
    check_own_gradients(relu_backward, "relu_forward", ["x"], relu_gradient_problem, cases)


# --- init_layers (random: checked by its properties) ---------------------------------------

SPREAD = 6  # standard errors allowed between a layer's statistics and He's (no false alarm)


def scale_mistake(std, fan_in, fan_out, what):
    """What scale the weights' standard deviation ``std`` matches instead of He's, or None."""
    he = np.sqrt(2 / fan_in)
    xavier = np.sqrt(2 / (fan_in + fan_out))
    halving = (
        "ReLU sets about half of its inputs to 0, which halves the variance of the signal at "
        "every layer; He's factor 2 makes up for it: rng.normal(0, np.sqrt(2 / fan_in), "
        "size=(fan_in, fan_out))."
    )
    known = [
        (
            xavier,
            f"{what} has the spread of Xavier's (Glorot's) initialisation, sqrt(2 / "
            "(fan_in + fan_out)). Xavier keeps the variance for activations that are about linear "
            f"around 0 (tanh, the sigmoid), not for ReLU: {halving}",
        ),
        (
            np.sqrt(1 / fan_in),
            f"{what} has standard deviation sqrt(1 / fan_in), right for a "
            f"layer without activation. {halving}",
        ),
        (
            2 / fan_in,
            f"{what} has standard deviation 2 / fan_in: the second argument of "
            "rng.normal is the standard deviation, not the variance. Use np.sqrt(2 / fan_in).",
        ),
        (
            np.sqrt(2 / fan_out),
            f"{what} has standard deviation sqrt(2 / fan_out): fan_in is the "
            "number of inputs of the layer, sizes[l] (the rows of w).",
        ),
        (
            1.0,
            f"{what} has standard deviation 1: scale the draws, rng.normal(0, "
            "np.sqrt(2 / fan_in), size=(fan_in, fan_out)).",
        ),
    ]
    tolerance = SPREAD / np.sqrt(2 * fan_in * fan_out)
    for scale, message in known:
        if abs(std / scale - 1) < tolerance and abs(scale / he - 1) > tolerance:
            return message
    return None


def he_problem(w, fan_in, fan_out, what):
    """What is wrong with initial weights ``w`` (fan_in, fan_out), or None.

    The standard deviation and the mean of ``w`` are compared with He's within SPREAD standard
    errors of their estimates from fan_in * fan_out draws: about 1% for a 784 x 256 layer."""
    if problem := weights_shape_problem(w, fan_in, fan_out, what):
        return problem
    if w.min() >= 0:
        return (
            f"{what} is not centred on 0 (all values are positive): rng.random draws from "
            "[0, 1). Use rng.normal(0, np.sqrt(2 / fan_in), size=(fan_in, fan_out))."
        )
    he, count, std = np.sqrt(2 / fan_in), w.size, float(w.std())
    if abs(w.mean()) > SPREAD * std / np.sqrt(count):
        return f"{what} is not centred on 0: draw from a normal distribution of mean 0."
    if abs(std / he - 1) > SPREAD / np.sqrt(2 * count):
        return scale_mistake(std, fan_in, fan_out, what) or (
            f"the standard deviation of {what} is {std:.3g}; He's is sqrt(2 / fan_in) = "
            f"{he:.3g} for fan_in = {fan_in}: rng.normal(0, np.sqrt(2 / fan_in), ...)."
        )
    return None


def check_layer(layer, fan_in, fan_out, number):
    """One (w, b) pair of init_layers: He w (fan_in, fan_out), zero b (1, fan_out)."""
    expect(
        isinstance(layer, (list, tuple)) and len(layer) == 2,
        "init_layers: each layer should be a pair (w, b).",
    )
    w, b = layer
    expect_array(w, f"w of layer {number}", kind="f")
    problem = he_problem(w, fan_in, fan_out, f"w of layer {number}")
    expect(problem is None, f"init_layers: {problem}", mistake="xavier_not_he")
    expect_array(b, f"b of layer {number}")
    expect(
        b.shape == (1, fan_out),
        f"init_layers: b of layer {number} has shape {b.shape}, expected (1, {fan_out}): one "
        "row that is added to every sample.",
        mistake="bias_shape",
    )
    expect(
        not np.any(b),
        "init_layers: the biases should start at zero (as in Keras).",
        mistake="bias_not_zero",
    )


@feedback_check("init_layers")
def test_init_layers(init_layers, rng):
    for sizes in [
        [784, 256, 10],  # large layers: He's spread is told from others to within 1%
        [int(rng.integers(30, 50)), int(rng.integers(100, 140)), int(rng.integers(90, 110)), 10],
        [int(rng.integers(8, 14)), int(rng.integers(10, 16)), int(rng.integers(6, 10)), 3],
        [int(rng.integers(20, 30)), int(rng.integers(4, 8))],
    ]:
        seed = int(rng.integers(1000))

        def weights(seed, sizes=sizes):
            layers = call_passing(init_layers, sizes, np.random.default_rng(seed), passed={1})
            expect(
                isinstance(layers, (list, tuple)) and len(layers) == len(sizes) - 1,
                f"init_layers({sizes}, rng) should return a list of {len(sizes) - 1} (w, b) "
                "pairs, one per layer.",
                mistake="not_a_pair_per_layer",
            )
            for number, (layer, fan_in, fan_out) in enumerate(zip(layers, sizes, sizes[1:]), 1):
                check_layer(layer, fan_in, fan_out, number)
            return layers[0][0]

        first = weights(seed)
        if sizes[0] == 784:
            continue  # the generator's use is checked on the smaller layers (a smaller transcript)
        expect(
            np.array_equal(first, weights(seed)),
            "init_layers gives different weights with two generators of the same seed: draw "
            "them with the rng argument (rng.normal), not np.random.",
            mistake="rng_ignored",
        )
        expect(
            not np.array_equal(first, weights(seed + 1)),
            "init_layers gives the same weights whatever the generator: use the rng argument.",
        )
