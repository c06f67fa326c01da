"""Feedback checks for notebook 04, part 1: the gradient check's tools, ``numerical_gradient``
and ``relative_error``.

Both are judged against recorded expectations (``pixelschool/checks/recordings``): the
solution's results and those of the usual mistakes
(``pixelschool_admin/answers/backprop_numerical.py``) on the same inputs.
``numerical_gradient`` takes a function f, which cannot be recorded: its inputs name a
function of the catalogue ``FUNCTIONS`` and its coefficients (a *recipe*, ``(name,
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
    feedback_check,
    observed,
)
from pixelschool.checks.loops import forbid_loops

__all__ = ["test_numerical_gradient", "test_relative_error"]


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
            mistake="wrong_shape_of_x",
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
        expect(not moved, NOT_RESTORED, mistake="x_not_restored")


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
            mistake="not_one_number",
        )
        expect(
            not np.isnan(result),
            "relative_error returned nan: where a and b both have a 0 entry, |a - b| / "
            "(|a| + |b|) is 0 / 0. This happens in every gradient check where a gradient entry "
            "is exactly 0. Guard the denominator, as CS231n does: "
            "np.maximum(1e-8, np.abs(a) + np.abs(b)).",
            mistake="nan_on_zeros",
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
