"""Feedback checks for notebook 04, backpropagation.

Every exercise is judged against recorded expectations (``pixelschool/checks/recordings``): the
solution's results and those of the usual mistakes (``pixelschool_admin/answers/backprop.py``) on
the same inputs. ``numerical_gradient`` takes a function f, which cannot be recorded: its inputs
name a function of the catalogue ``FUNCTIONS`` and its coefficients (a *recipe*, ``(name,
coefficients)``), and the check builds f from the recipe over the very array x the student's
function receives. Property checks stay code: x restored, no loops.
"""

import functools

import numpy as np

from pixelschool.checks.compare import close, placeholder, verdict
from pixelschool.checks.framework import (
    describe,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
    observed,
)
from pixelschool.checks.loops import forbid_loops

__all__ = [
    "test_numerical_gradient",
    "test_relative_error",
    "test_two_layer_backward_mse",
    "test_two_layer_backward_cross_entropy",
]


# --- numerical_gradient ---------------------------------------------------------------

# The functions f the check differentiates: name -> (formula(x, c), what the messages call it).
FUNCTIONS = {
    # centred difference exactly 3 c x**2 + c h**2: each mistake has its own fingerprint
    "cubic": (lambda x, c: float(np.sum(c * x**3)), "f = sum(c * x**3)"),
    "square": (lambda x, c: float(np.sum(c * x**2)), "f = sum(c * x**2)"),
    # question 1's graph, (x + y) z with (x, y, z) stored in one array
    "graph": (lambda x: float((x[0] + x[1]) * x[2]), "f = (x[0] + x[1]) * x[2]"),
}


def function_of(recipe, x):
    """The function of no argument that ``recipe``, ``(name, coefficients)`` or ``(name,)``,
    names, reading the array ``x`` each time it is called."""
    name, *coefficients = recipe
    formula, _ = FUNCTIONS[name]
    return lambda: formula(x, *coefficients)


def takes_recipe(numerical_gradient):
    """``numerical_gradient(f, x[, h])`` that also accepts a recipe in place of f.

    The check's inputs are plain data, so they hold a recipe where the exercise takes f.
    Given a recipe, this builds f over the very ``x`` it receives (a copy, when called by
    the check or the recorder) and passes it on; given a function, it passes it on as is.
    The recorder calls the reference and the wrong answers through it, the check the
    student's function: all of them receive a real f.
    """

    @functools.wraps(numerical_gradient)
    def with_f(f, x, *h):
        if isinstance(f, tuple):
            f = function_of(f, x)
        return numerical_gradient(f, x, *h)

    return with_f


def numerical_gradient_inputs(rng):
    """Argument tuples (recipe, x, h), or (recipe, x) to rely on the default h.

    First the notebook's fixed cases (sum(x**2), sum(x**3) with h = 0.1, question 1's
    graph), then cubics of random coefficients at random points of 1 to 3 axes.
    """
    point = np.array([[1.0, -2.0], [0.5, 3.0]])
    cases = [
        (("square", np.ones((2, 2))), point),  # gradient 2 x
        (("cubic", np.ones((2, 2))), point.copy(), 0.1),  # 3 x**2 + 0.01
        (("graph",), np.array([-2.0, 5.0, -4.0])),  # (z, z, x + y) = (-4, -4, 3)
    ]
    n, m = (int(v) for v in rng.integers(3, 6, size=2))
    for shape, h in [((n,), 0.1), ((n, m), 0.05), ((2, m, 2), 0.1), ((m, n), None)]:
        x = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)
        recipe = ("cubic", rng.uniform(0.5, 2.0, size=shape))
        cases.append((recipe, x) if h is None else (recipe, x, h))
    return cases


def checked_on(case):
    """'f = sum(c * x**3), h=0.1': what a case differentiates, for the messages."""
    recipe, _, *h = case.args
    return f"{FUNCTIONS[recipe[0]][1]}, " + (f"h={h[0]}" if h else "the default h")


NUMERICAL_GRADIENT_MESSAGES = {
    "one_sided": "numerical_gradient: you used a one-sided difference, (f(x+h) - f(x)) / h or "
    "(f(x) - f(x-h)) / h. Its error shrinks only like h; the centred difference "
    "(f(x+h) - f(x-h)) / (2h) is accurate to h**2 (the check uses f(x) = sum(c * x**3), "
    "where the difference shows).",
    "all_at_once": "numerical_gradient: every entry of your result is the same number: you "
    "perturbed all entries of x at once (x + h), which gives the slope along the direction "
    "(1, 1, ..., 1), not the partial derivatives. Change one entry x[index] at a time.",
    "whole_rows": "numerical_gradient: you perturbed a whole row x[i] at once: for an array "
    "with several axes, x[i] is a row, not an entry. Visit every entry, e.g. with "
    "`for index in np.ndindex(x.shape)`.",
    "ignores_h": lambda result, case: (
        f"numerical_gradient: you ignored the argument h: with h={case.args[2]} the centred "
        "difference of x**3 is 3 x**2 + h**2, and your result matches a much smaller step. "
        "Use the h you are given."
    ),
}


def all_zeros(result, case):
    if not np.any(result) and np.any(case.expected):
        return (
            "numerical_gradient: your result is all zeros: f() did not change when you "
            "changed x. f reads the array x itself, so change x[index] in place (do not work "
            "on x.copy()), then restore it."
        )
    return None


def twice_too_large(result, case):
    if close(result, 2 * case.expected):
        return (
            "numerical_gradient: your result is twice too large: the centred difference "
            "divides by 2h, not h."
        )
    return None


def judge_numerical_gradient(results, cases):
    for result, case in zip(results, cases):
        x = case.args[1]
        template = placeholder(result, case)
        expect(template is None, f"numerical_gradient: {template}")
        expect_array(result, "numerical_gradient's result")
        expect(
            result.shape == x.shape,
            f"numerical_gradient returned shape {result.shape} for x of shape {x.shape}: the "
            "gradient has one entry per entry of x, so return an array shaped like x "
            "(start from np.zeros_like(x)).",
        )
    verdict(
        results,
        cases,
        "numerical_gradient",
        NUMERICAL_GRADIENT_MESSAGES,
        relations=[all_zeros, twice_too_large],
        otherwise=lambda result, case: (
            "numerical_gradient: your result is not the centred difference "
            f"(f(x + h) - f(x - h)) / (2h) of each entry (checked on {checked_on(case)})."
        ),
    )


NOT_RESTORED = (
    "x is not the same after numerical_gradient returned: after evaluating f at x[index] + h "
    "and x[index] - h, put the old value back (x[index] = old_value). Otherwise every later "
    "entry, and the caller, sees a shifted x."
)


def watching_x(numerical_gradient, moved):
    """:func:`takes_recipe` of ``numerical_gradient``, which appends to ``moved`` when x was
    not restored (rounding aside), then restores it: the check says so in its own words."""
    with_f = takes_recipe(numerical_gradient)

    @functools.wraps(numerical_gradient)
    def run(recipe, x, *h):
        before = x.copy()
        result = with_f(recipe, x, *h)
        if not np.allclose(x, before, rtol=1e-12, atol=1e-14):
            moved.append(True)
        np.copyto(x, before)
        return result

    return run


@feedback_check(
    "numerical_gradient", inputs=numerical_gradient_inputs, judge=judge_numerical_gradient
)
def test_numerical_gradient(numerical_gradient, cases):
    for case in cases:
        hint = "numerical_gradient(f, x, h=1e-5): f takes no argument; it reads x."
        if len(case.args) == 2:
            hint += " Here h is not given: give it a default, def numerical_gradient(f, x, h=1e-5)."
        with observed() as moved:
            cases.call(watching_x(numerical_gradient, moved), case, hint=hint)
        expect(not moved, NOT_RESTORED)


# --- relative_error -------------------------------------------------------------------


def mixed_signs_pair(rng):
    """Arrays a, b where every usual mistake gives its own value: nearly equal random
    entries (ratios below 0.006), and at random places 0 / 0, one large ratio with
    a - b < 0, two pairs of negative entries (a - b < 0 and > 0), a tiny difference."""
    shape = (int(rng.integers(3, 6)), int(rng.integers(3, 6)))
    a = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)
    b = a * (1 + 0.01 * rng.uniform(-1, 1, size=shape))
    u, v = rng.uniform(0.5, 2.0), rng.uniform(0.75, 2.0)
    pairs = [(0.0, 0.0), (u, u * rng.uniform(2.5, 4.0)), (-2 * v, -v), (-1.0, -1.5), (5.0, 5.001)]
    spots = rng.choice(a.size, size=len(pairs), replace=False)
    for spot, (p, q) in zip(spots, pairs):
        a.flat[spot], b.flat[spot] = p, q
    return a, b


def relative_error_inputs(rng):
    """Argument tuples (a, b): the notebook's fixed pairs (zeros, where only the guard avoids
    0 / 0; a ratio of 0.5; a + b = 0), then two random pairs, each also swapped (the
    relative error is symmetric)."""
    cases = [
        (np.zeros((2, 3)), np.zeros((2, 3))),
        (np.array([1.0, -2.0]), np.array([3.0, -2.0])),
        (np.array([2.0, 1.0]), np.array([-2.0, 1.0])),
    ]
    for _ in range(2):
        a, b = mixed_signs_pair(rng)
        cases += [(a, b), (b.copy(), a.copy())]
    return cases


RELATIVE_ERROR_MESSAGES = {
    key: f"relative_error: {text}"
    for key, text in {
        "mean": "you took the mean of the entry-wise errors; the relative error is their max "
        "(the worst entry decides).",
        "ratio_of_maxima": "you divided max |a - b| by the max of |a| + |b|: divide entry by "
        "entry, then take the max of the ratios.",
        "signed_numerator": "the numerator needs an absolute value: |a - b| (np.abs), or an "
        "error where a < b counts as negative.",
        "signed_denominator": "the denominator needs absolute values, |a| + |b|: with negative "
        "entries a + b can be negative or zero.",
        "no_abs": "the missing abs: both the numerator |a - b| and the denominator |a| + |b| "
        "need np.abs.",
        "by_a": "you divided by |a| only: the relative error is symmetric, divide by |a| + |b|.",
        "by_b": "you divided by |b| only: the relative error is symmetric, divide by |a| + |b|.",
    }.items()
}


def one_number(value):
    """True for an int or a float, NumPy's included (a 0-d array too); False for a bool."""
    return np.ndim(value) == 0 and np.asarray(value).dtype.kind in "iuf"


def equal_arrays_not_zero(result, case):
    a, b = case.args
    if np.array_equal(a, b):
        return f"relative_error of two equal arrays should be 0, got {float(result):.3g}."
    return None


def judge_relative_error(results, cases):
    for result in results:
        expect(
            one_number(result),
            "relative_error should return one number, the max over all entries, not "
            f"{describe(result)}: take np.max of the entry-wise ratios.",
        )
        expect(
            not np.isnan(result),
            "relative_error returned nan: where a and b both have a 0 entry, |a - b| / "
            "(|a| + |b|) is 0 / 0. This happens in every gradient check where a gradient entry "
            "is exactly 0. Guard the denominator, as CS231n does: "
            "np.maximum(1e-8, np.abs(a) + np.abs(b)).",
        )
    verdict(
        results,
        cases,
        "relative_error",
        RELATIVE_ERROR_MESSAGES,
        relations=[equal_arrays_not_zero],
        otherwise="relative_error: your value is not max |a - b| / max(1e-8, |a| + |b|), "
        "taken entry by entry.",
    )


@feedback_check("relative_error", inputs=relative_error_inputs, judge=judge_relative_error)
def test_relative_error(relative_error, cases):
    forbid_loops(relative_error)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is the student's to guard
        for case in cases:
            cases.call(relative_error, case)


# --- the two-layer network --------------------------------------------------------------

PARAMETERS = ["w1", "b1", "w2", "b2"]


def zero_network(kind):
    """The notebook's closed-form case: all weights zero, so a1 = 0.5 and a2 = 0.5 (MSE:
    loss 0.25) or uniform (cross-entropy over 4 classes: loss log 4)."""
    if kind == "mse":
        sizes, data, targets = (3, 4, 2), np.ones((5, 3)), np.zeros((5, 2))
    else:
        sizes, data, targets = (3, 2, 4), np.ones((3, 3)), np.eye(4)[[0, 0, 1]]
    d_in, d_h, d_out = sizes
    weights = [np.zeros((d_in, d_h)), np.zeros((1, d_h)), np.zeros((d_h, d_out))]
    return (*weights, np.zeros((1, d_out)), data, targets)


def random_network(kind, rng):
    """(w1, b1, w2, b2, data, targets) of a small random network, float64; one-hot targets
    for the cross-entropy. N > d_out and d_in, d_out < d_h, so that each typical mistake
    has its own fingerprint (and a transposed gradient its own shape)."""
    n, d_in, d_h, d_out = (int(size) for size in rng.integers([5, 2, 4, 2], [9, 4, 7, 4]))
    params = [rng.normal(size=shape) for shape in [(d_in, d_h), (1, d_h), (d_h, d_out), (1, d_out)]]
    data = rng.normal(size=(n, d_in))
    if kind == "mse":
        targets = rng.uniform(size=(n, d_out))
    else:
        targets = np.eye(d_out)[rng.integers(0, d_out, size=n)]
    return (*params, data, targets)


def network_inputs(kind):
    def inputs(rng):
        """The all-zero network, then three random ones."""
        return [zero_network(kind)] + [random_network(kind, rng) for _ in range(3)]

    return inputs


# What each named mistake of the backward passes gets wrong; {n} is N, {d} d_out, {mean} where
# the mean's factor goes (the loss of the exercise).
NETWORK_MESSAGES = {
    "sign": "every gradient has the wrong sign: the loss grows along the gradient, so dL/da2 "
    "is built from a2 - targets, not targets - a2.",
    "times_n": "every gradient is N = {n} times too large (off by the batch size): the loss is "
    "a mean {mean}, and so does every gradient after it.",
    "divided_twice": "every gradient is N = {n} times too small: you divided by the batch size "
    "twice (once in dL/dz2 is enough; it flows back to every gradient).",
    "bias_mean": "the bias gradients are N times too small: you averaged dL/dz over the batch, "
    "but dL/dz already carries the 1/N of the loss, so sum it over the rows "
    "(np.sum(..., axis=0, keepdims=True)).",
    "times_d_out": "every gradient is d_out = {d} times too large: you divided by N only, but "
    "the MSE is the mean over all N x d_out entries (targets.size).",
    "times_n_d_out": "every gradient is N x d_out = {nd} times too large: the loss is a mean, "
    "so dL/da2 = 2 (a2 - targets) / (N d_out).",
    "half": "every gradient is half what it should be: the derivative of (a2 - y)**2 is "
    "2 (a2 - y); keep the 2.",
    "no_output_slope": "you forgot the derivative of the output sigmoid: "
    "dL/dz2 = dL/da2 * a2 * (1 - a2).",
    "sigmoid_slope": "you multiplied by a2 * (1 - a2) at the output: that is the sigmoid's "
    "derivative. For softmax followed by cross-entropy the two derivatives combine into "
    "dL/dz2 = (a2 - targets) / N, with nothing more.",
    "no_hidden_slope": "you forgot the derivative of the hidden sigmoid: "
    "dL/dz1 = (dL/dz2 @ w2.T) * a1 * (1 - a1). grad_w2 and grad_b2 are right.",
}
MEAN = {
    "mse": "over all N x d_out entries, so dL/dz2 carries 1/(N d_out)",
    "cross_entropy": "over the N samples, so dL/dz2 carries 1/N",
}


def network_messages(name, kind):
    """{mistake: message(result, case)}: NETWORK_MESSAGES for ``kind``, with the case's sizes."""

    def filled(text):
        def message(result, case):
            n, d_out = case.args[5].shape
            return f"{name}: " + text.format(n=n, d=d_out, nd=n * d_out, mean=MEAN[kind])

        return message

    return {key: filled(text) for key, text in NETWORK_MESSAGES.items()}


def check_returned(name, result, case):
    """Five values: the loss (one number), then gradients shaped like their parameters."""
    template = placeholder(result, case)
    expect(template is None, f"{name}: {template}")
    expect_tuple(result, name, 5)
    loss, *grads = result
    expect(
        one_number(loss),
        f"{name}: the loss (first value) should be one number, not {describe(loss)}.",
    )
    params, n = case.args[:4], len(case.args[4])
    for what, grad, param in zip(PARAMETERS, grads, params):
        expect_array(grad, f"grad_{what}")
        expect(
            grad.shape == param.shape,
            f"{name}: grad_{what} has shape {grad.shape}, "
            + shape_advice(what, grad.shape, param.shape, n),
        )


def shape_advice(what, shape, param_shape, n):
    """What a gradient of the wrong ``shape`` for the parameter ``what`` says of the mistake."""
    if what.startswith("b") and shape == (n, param_shape[1]) and n != 1:
        return (
            "one row per sample: the bias gradient is not summed over the batch. The bias "
            f"{what} is shared by all N samples, so its gradient is the sum of dL/dz over the "
            "rows: np.sum(..., axis=0, keepdims=True)."
        )
    if what.startswith("b") and shape == param_shape[1:]:
        return (
            f"but a gradient has the shape of its parameter, {param_shape}: sum with keepdims=True."
        )
    if what.startswith("w") and shape == param_shape[::-1]:
        return (
            f"the transpose of {what}'s {param_shape}: the gradient of a weight is "
            "(layer input).T @ dL/dz."
        )
    return f"but a gradient has the shape of its parameter {what}, {param_shape}."


def check_loss(name, result, case):
    loss, right = result[0], case.expected[0]
    n = len(case.args[4])
    expect(
        not close(loss, n * right) or close(loss, right),
        f"{name}: the loss is N times too large: average over samples.",
    )
    expect(
        close(loss, right),
        f"{name}: the loss (first value) is not the loss of the forward pass; return the loss "
        "the given forward pass computes.",
    )


def same_factor(name, kind):
    """Relation: every gradient is the right one times the same factor (not a named one)."""
    factor = "2 / (N d_out) and the 2 of the square" if kind == "mse" else "1 / N"

    def relation(result, case):
        grads = np.concatenate([np.ravel(g) for g in result[1:]])
        right = np.concatenate([np.ravel(g) for g in case.expected[1:]])
        scale = (grads @ right) / (right @ right) if right @ right else 0.0
        if scale == 0 or close(scale, 1.0) or not close(grads, scale * right):
            return None
        return (
            f"{name}: every gradient is {scale:.3g} times the right one: one factor is wrong in "
            f"dL/dz2, and it flows back to every gradient. Check the factor of the mean "
            f"({factor})."
        )

    return relation


def wrong_gradients(name, kind):
    """The message when no mistake explains the gradients: which are wrong, where to look."""
    output_step = f"dL/dz2 (your answer to question {3 if kind == 'mse' else 4})"

    def message(result, case):
        errors = {}  # the relative error of each wrong gradient, as a gradient check prints it
        for what, grad, right in zip(PARAMETERS, result[1:], case.expected[1:]):
            if not close(grad, right):
                ratio = np.abs(grad - right) / np.maximum(1e-8, np.abs(grad) + np.abs(right))
                errors[f"grad_{what}"] = float(np.max(ratio))
        if set(errors) <= {"grad_w1", "grad_b1"}:
            where = (
                "grad_w2 and grad_b2 are right, so dL/dz2 is right: check the steps after it, "
                "dL/da1 = dL/dz2 @ w2.T, dL/dz1 = dL/da1 * a1 * (1 - a1), then "
                "grad_w1 = data.T @ dL/dz1 and grad_b1 = the sum of dL/dz1 over the rows."
            )
        else:
            where = (
                f"start with the output layer: {output_step}, then grad_w2 = a1.T @ dL/dz2 "
                "and grad_b2 = the sum of dL/dz2 over the rows."
            )
        return (
            f"{name}: {' and '.join(errors)} {'does' if len(errors) == 1 else 'do'} not match "
            "the gradient of the loss (relative error: "
            + ", ".join(f"{w} {e:.1e}" for w, e in errors.items())
            + f"). {where}"
        )

    return message


def backward_judge(name, kind):
    def judge(results, cases):
        for result, case in zip(results, cases):
            check_returned(name, result, case)
            check_loss(name, result, case)
        verdict(
            results,
            cases,
            name,
            network_messages(name, kind),
            relations=[same_factor(name, kind)],
            otherwise=wrong_gradients(name, kind),
        )

    return judge


def run_backward(backward, cases):
    forbid_loops(backward)
    for case in cases:
        cases.call(backward, case)


@feedback_check(
    "two_layer_backward_mse",
    inputs=network_inputs("mse"),
    judge=backward_judge("two_layer_backward_mse", "mse"),
)
def test_two_layer_backward_mse(two_layer_backward_mse, cases):
    run_backward(two_layer_backward_mse, cases)


@feedback_check(
    "two_layer_backward_cross_entropy",
    inputs=network_inputs("cross_entropy"),
    judge=backward_judge("two_layer_backward_cross_entropy", "cross_entropy"),
)
def test_two_layer_backward_cross_entropy(two_layer_backward_cross_entropy, cases):
    run_backward(two_layer_backward_cross_entropy, cases)
