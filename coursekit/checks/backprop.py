"""Feedback checks for notebook 04, backpropagation.

``numerical_gradient`` is checked on f(x) = sum(c * x**3), whose centred, one-sided and
all-at-once differences are known exactly, so each mistake has its own fingerprint.
The backward passes are compared with :func:`coursekit.gradcheck.numerical_gradient`;
when they differ, the check looks for the typical mistakes (a factor N, a sign, a
forgotten sigmoid derivative, a bias gradient not summed) before giving up with the
parameter whose gradient is wrong.
"""

import numpy as np

from coursekit.checks import framework
from coursekit.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
    forbid_loops,
)
from coursekit.gradcheck import numerical_gradient as reference_gradient
from coursekit.gradcheck import relative_error as reference_error

__all__ = [
    "test_numerical_gradient",
    "test_relative_error",
    "test_two_layer_backward_mse",
    "test_two_layer_backward_cross_entropy",
]


def close(a, b, rtol=1e-7):
    """Same shape and values up to ``rtol`` (plus a tiny absolute slack for zeros)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=1e-9)


# --- numerical_gradient ---------------------------------------------------------------


def slice_sums(values, axis_count):
    """Sum ``values`` over all axes but the first ``axis_count``, broadcast back to its shape."""
    axes = tuple(range(axis_count, values.ndim))
    return np.broadcast_to(values.sum(axis=axes, keepdims=True), values.shape)


def diagnose_numerical_gradient(grad, x, c, h):
    """Name the mistake when ``grad`` is not the centred difference of sum(c * x**3) at ``x``."""
    centred = c * (3 * x**2 + h**2)  # (f(x+h) - f(x-h)) / 2h, entry by entry, exactly
    if np.allclose(grad, 0):
        return (
            "your result is all zeros: f() did not change when you changed x. f reads the "
            "array x itself, so change x[index] in place (do not work on x.copy()), then "
            "restore it."
        )
    if close(grad, c * (3 * x**2 + 3 * x * h + h**2)) or close(
        grad, c * (3 * x**2 - 3 * x * h + h**2)
    ):
        return (
            "you used a one-sided difference, (f(x+h) - f(x)) / h or (f(x) - f(x-h)) / h. "
            "Its error shrinks only like h; the centred difference (f(x+h) - f(x-h)) / (2h) "
            "is accurate to h**2 (the check uses f(x) = sum(c * x**3), where the difference "
            "shows)."
        )
    if close(grad, slice_sums(centred, 0)):
        return (
            "every entry of your result is the same number: you perturbed all entries of x "
            "at once (x + h), which gives the slope along the direction (1, 1, ..., 1), not "
            "the partial derivatives. Change one entry x[index] at a time."
        )
    if x.ndim > 1 and close(grad, slice_sums(centred, 1)):
        return (
            "you perturbed a whole row x[i] at once: for an array with several axes, x[i] is "
            "a row, not an entry. Visit every entry, e.g. with `for index in np.ndindex(x.shape)`."
        )
    if close(grad, 2 * centred):
        return "your result is twice too large: the centred difference divides by 2h, not h."
    if close(grad, 3 * c * x**2, rtol=1e-6):
        return (
            f"you ignored the argument h: with h={h} the centred difference of x**3 is "
            "3 x**2 + h**2, and your result matches a much smaller step. Use the h you are given."
        )
    return None


def cubic(x, c):
    """f() = sum(c * x**3), read from the array ``x`` each time it is called."""
    return lambda: float(np.sum(c * x**3))


@feedback_check("numerical_gradient")
def test_numerical_gradient(numerical_gradient, rng):
    hint = "numerical_gradient(f, x, h=1e-5): f takes no argument; it reads x."
    n, m = (int(v) for v in rng.integers(3, 6, size=2))
    for shape, h in [((n,), 0.1), ((n, m), 0.05), ((2, m, 2), 0.1)]:
        x = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)
        c = rng.uniform(0.5, 2.0, size=shape)
        before = x.copy()
        f = cubic(x, c)
        grad = call(numerical_gradient, f, x, h, hint=hint, copy_args=False)
        expect_array(grad, "numerical_gradient's result")
        expect(
            grad.shape == x.shape,
            f"numerical_gradient returned shape {grad.shape} for x of shape {x.shape}: the "
            "gradient has one entry per entry of x, so return an array shaped like x "
            "(start from np.zeros_like(x)).",
        )
        expect(
            x.shape == before.shape and np.allclose(x, before, rtol=1e-12, atol=1e-14),
            "x is not the same after numerical_gradient returned: after evaluating f at "
            "x[index] + h and x[index] - h, put the old value back (x[index] = old_value). "
            "Otherwise every later entry, and the caller, sees a shifted x.",
        )
        mistake = diagnose_numerical_gradient(grad, x, c, h)
        expect(mistake is None, f"numerical_gradient: {mistake}")
        expect(
            close(grad, reference_gradient(f, x, h)),
            f"numerical_gradient: your result is not the centred difference "
            f"(f(x + h) - f(x - h)) / (2h) of each entry (checked on f = sum(c * x**3), h={h}).",
        )
    # Without h, the default step 1e-5 must be used: the result is then 3 c x**2 almost exactly.
    x = rng.uniform(0.5, 2.0, size=(n, m))
    c = rng.uniform(0.5, 2.0, size=(n, m))
    grad = call(
        numerical_gradient,
        cubic(x, c),
        x,
        hint="Give h a default value: def numerical_gradient(f, x, h=1e-5).",
        copy_args=False,
    )
    expect_array(grad, "numerical_gradient's result", shape=x.shape)
    expect(
        close(grad, 3 * c * x**2, rtol=1e-6),
        "numerical_gradient(f, x) without h should use the default step h=1e-5; your result "
        "does not match the derivative 3 c x**2 of sum(c * x**3).",
    )


# --- relative_error -------------------------------------------------------------------


def relative_error_case(rng):
    """Arrays a, b where the usual mistakes all give values different from the right one."""
    shape = (int(rng.integers(3, 6)), int(rng.integers(3, 6)))
    a = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)
    b = a * (1 + 0.01 * rng.uniform(-1, 1, size=shape))  # ratios below 0.006
    # 0/0; the largest ratio, with a - b < 0; both negative twice, a - b < 0 and > 0; big
    pairs = [(0.0, 0.0), (1.0, 3.0), (-2.0, -1.0), (-1.0, -1.5), (5.0, 5.001)]
    spots = rng.choice(a.size, size=len(pairs), replace=False)
    for spot, (u, v) in zip(spots, pairs):
        a.flat[spot], b.flat[spot] = u, v
    return a, b


def diagnose_relative_error(result, a, b):
    """Name the mistake when ``result`` is not relative_error(a, b)."""
    eps = 1e-8
    diff = np.abs(a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        variants = {
            "you took the mean of the entry-wise errors; the relative error is their max "
            "(the worst entry decides).": np.mean(diff / np.maximum(eps, np.abs(a) + np.abs(b))),
            "you divided max |a - b| by the max of |a| + |b|: divide entry by entry, then take "
            "the max of the ratios.": np.max(diff) / max(eps, np.max(np.abs(a) + np.abs(b))),
            "the numerator needs an absolute value: |a - b| (np.abs), or an error where a < b "
            "counts as negative.": np.max((a - b) / np.maximum(eps, np.abs(a) + np.abs(b))),
            "the denominator needs absolute values, |a| + |b|: with negative entries a + b "
            "can be negative or zero.": np.max(diff / np.maximum(eps, a + b)),
            "the missing abs: both the numerator |a - b| and the denominator |a| + |b| "
            "need np.abs.": np.max((a - b) / np.maximum(eps, a + b)),
            "you divided by |a| only: the relative error is symmetric, divide by "
            "|a| + |b|.": np.max(diff / np.maximum(eps, np.abs(a))),
            "you divided by |b| only: the relative error is symmetric, divide by "
            "|a| + |b|.": np.max(diff / np.maximum(eps, np.abs(b))),
        }
    for message, value in variants.items():
        if np.isfinite(value) and np.isclose(result, value, rtol=1e-6):
            return message
    return None


@feedback_check("relative_error")
def test_relative_error(relative_error, rng):
    forbid_loops(relative_error)
    zeros = np.zeros(int(rng.integers(2, 5)))
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is the student's to guard
        result = call(relative_error, zeros, zeros.copy())
    expect(
        np.ndim(result) == 0,
        f"relative_error should return one number (the max over all entries), got "
        f"{framework.describe(result)}.",
    )
    expect(
        not np.isnan(result),
        "relative_error(zeros, zeros) returned nan: 0 / 0. This happens in every gradient "
        "check where a gradient entry is exactly 0. Guard the denominator, as CS231n does: "
        "np.maximum(1e-8, np.abs(a) + np.abs(b)).",
    )
    expect(
        result == 0,
        f"relative_error of two equal arrays should be 0, got {float(result):.3g}.",
    )
    for _ in range(2):
        a, b = relative_error_case(rng)
        with np.errstate(divide="ignore", invalid="ignore"):
            result = call(relative_error, a, b)
        expect(
            np.ndim(result) == 0,
            f"relative_error should return one number, the max over all entries, not "
            f"{framework.describe(result)}: take np.max of the entry-wise ratios.",
        )
        expect(
            not np.isnan(result),
            "relative_error returned nan where a and b both have a 0 entry: guard the "
            "denominator with np.maximum(1e-8, np.abs(a) + np.abs(b)).",
        )
        expected = reference_error(a, b)
        if not np.isclose(result, expected, rtol=1e-6):
            mistake = diagnose_relative_error(result, a, b)
            raise AssertionError(
                f"relative_error: {mistake}"
                if mistake
                else "relative_error: your value is not max |a - b| / max(1e-8, |a| + |b|), "
                "taken entry by entry."
            )
        expect(
            np.isclose(call(relative_error, b, a), expected, rtol=1e-6),
            "relative_error(b, a) differs from relative_error(a, b): it should be symmetric.",
        )


# --- the two-layer network --------------------------------------------------------------

PARAMETERS = ["w1", "b1", "w2", "b2"]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    exps = np.exp(z - z.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def forward(kind, w1, b1, w2, b2, data, targets):
    """Hidden activations, outputs and loss of the network of notebooks 04 and 05."""
    a1 = sigmoid(data @ w1 + b1)
    z2 = a1 @ w2 + b2
    if kind == "mse":
        a2 = sigmoid(z2)
        return a1, a2, np.mean((a2 - targets) ** 2)
    a2 = softmax(z2)
    return a1, a2, -np.sum(targets * np.log(a2)) / len(data)


def analytic_gradients(kind, params, data, targets, *, output_slope=None, hidden_slope=True):
    """The backward pass, with switches to make the typical mistakes (for the diagnosis).

    output_slope: multiply dL/da2 by a2 (1 - a2) (right for MSE, wrong for softmax).
    hidden_slope: multiply dL/da1 by a1 (1 - a1) (always right).
    """
    w1, b1, w2, b2 = params
    a1, a2, _ = forward(kind, *params, data, targets)
    if kind == "mse":
        grad_z2 = 2 * (a2 - targets) / targets.size
    else:
        grad_z2 = (a2 - targets) / len(data)
    if output_slope if output_slope is not None else kind == "mse":
        grad_z2 = grad_z2 * a2 * (1 - a2)
    grad_z1 = grad_z2 @ w2.T
    if hidden_slope:
        grad_z1 = grad_z1 * a1 * (1 - a1)
    return [
        data.T @ grad_z1,
        grad_z1.sum(axis=0, keepdims=True),
        a1.T @ grad_z2,
        grad_z2.sum(axis=0, keepdims=True),
    ]


def random_network(kind, rng):
    """Parameters, data and targets of a small random network, float64."""
    # N > d_out and d_in, d_out < d_h, so that each typical mistake has its own fingerprint
    n, d_in, d_h, d_out = (int(size) for size in rng.integers([5, 2, 4, 2], [9, 4, 7, 4]))
    params = [
        rng.normal(size=(d_in, d_h)),
        rng.normal(size=(1, d_h)),
        rng.normal(size=(d_h, d_out)),
        rng.normal(size=(1, d_out)),
    ]
    data = rng.normal(size=(n, d_in))
    if kind == "mse":
        targets = rng.uniform(size=(n, d_out))
    else:
        targets = np.eye(d_out)[rng.integers(0, d_out, size=n)]
    return params, data, targets


def numerical_gradients(kind, params, data, targets):
    """The centred-difference gradient of the loss for each parameter (the ground truth)."""
    params = [p.copy() for p in params]
    return [reference_gradient(lambda: forward(kind, *params, data, targets)[2], p) for p in params]


def typical_mistakes(kind, params, data, targets):
    """{explanation: the four gradients that mistake gives}, most specific first."""
    n, d_out = targets.shape
    right = analytic_gradients(kind, params, data, targets)
    mean = (
        "over all N x d_out entries, so dL/dz2 carries 1/(N d_out)"
        if kind == "mse"
        else "over the N samples, so dL/dz2 carries 1/N"
    )
    mistakes = {
        "every gradient has the wrong sign: the loss grows along the gradient, so "
        "dL/da2 is built from a2 - targets, not targets - a2.": [-g for g in right],
        f"every gradient is N = {n} times too large (off by the batch size): the loss is a "
        f"mean {mean}, and so does every gradient after it.": [n * g for g in right],
        f"every gradient is N = {n} times too small: you divided by the batch size twice "
        "(once in dL/dz2 is enough; it flows back to every gradient).": [g / n for g in right],
        "the bias gradients are N times too small: you averaged dL/dz over the batch, but "
        "dL/dz already carries the 1/N of the loss, so sum it over the rows "
        "(np.sum(..., axis=0, keepdims=True)).": [
            right[0],
            right[1] / n,
            right[2],
            right[3] / n,
        ],
    }
    if kind == "mse":
        mistakes.update(
            {
                f"every gradient is d_out = {d_out} times too large: you divided by N only, "
                "but the MSE is the mean over all N x d_out entries (targets.size).": [
                    d_out * g for g in right
                ],
                f"every gradient is N x d_out = {n * d_out} times too large: the loss is a "
                "mean, so dL/da2 = 2 (a2 - targets) / (N d_out).": [n * d_out * g for g in right],
                "every gradient is half what it should be: the derivative of (a2 - y)**2 is "
                "2 (a2 - y); keep the 2.": [g / 2 for g in right],
                "you forgot the derivative of the output sigmoid: dL/dz2 = dL/da2 * a2 * "
                "(1 - a2).": analytic_gradients(kind, params, data, targets, output_slope=False),
            }
        )
    else:
        mistakes[
            "you multiplied by a2 * (1 - a2) at the output: that is the sigmoid's derivative. "
            "For softmax followed by cross-entropy the two derivatives combine into "
            "dL/dz2 = (a2 - targets) / N, with nothing more."
        ] = analytic_gradients(kind, params, data, targets, output_slope=True)
    mistakes[
        "you forgot the derivative of the hidden sigmoid: dL/dz1 = (dL/dz2 @ w2.T) * a1 * "
        "(1 - a1). grad_w2 and grad_b2 are right."
    ] = analytic_gradients(kind, params, data, targets, hidden_slope=False)
    return mistakes


def check_shapes(name, grads, params, n):
    """Each gradient must be shaped like its parameter; name the usual shape mistakes."""
    for what, grad, param in zip(PARAMETERS, grads, params):
        expect_array(grad, f"grad_{what}")
        if what.startswith("b") and grad.shape == (n, param.shape[1]) and n != 1:
            raise AssertionError(
                f"{name}: grad_{what} has shape {grad.shape}, one row per sample: the bias "
                f"gradient is not summed over the batch. The bias {what} is shared by all N "
                "samples, so its gradient is the sum of dL/dz over the rows: "
                "np.sum(..., axis=0, keepdims=True)."
            )
        if what.startswith("b") and grad.shape == param.shape[1:]:
            raise AssertionError(
                f"{name}: grad_{what} has shape {grad.shape}; a gradient has the shape of its "
                f"parameter, {param.shape}: sum with keepdims=True."
            )
        if what.startswith("w") and grad.shape == param.shape[::-1] != param.shape:
            raise AssertionError(
                f"{name}: grad_{what} has shape {grad.shape}, the transpose of {what}'s "
                f"{param.shape}: the gradient of a weight is (layer input).T @ dL/dz."
            )
        expect(
            grad.shape == param.shape,
            f"{name}: grad_{what} has shape {grad.shape}; a gradient has the shape of its "
            f"parameter {what}, {param.shape}.",
        )


def check_backward(name, kind, backward, rng):
    forbid_loops(backward)
    for _ in range(2):
        params, data, targets = random_network(kind, rng)
        result = call(backward, *params, data, targets)
        expect_tuple(result, name, 5)
        loss, *grads = result
        expect(
            np.ndim(loss) == 0,
            f"{name}: the loss (first value) should be one number, not {framework.describe(loss)}.",
        )
        right_loss = forward(kind, *params, data, targets)[2]
        n = len(data)
        if np.isclose(loss, n * right_loss):
            raise AssertionError(f"{name}: the loss is N times too large: average over samples.")
        expect(
            np.isclose(loss, right_loss, rtol=1e-7),
            f"{name}: the loss (first value) is not the loss of the forward pass; return the "
            "loss the given forward pass computes.",
        )
        check_shapes(name, grads, params, n)
        truth = numerical_gradients(kind, params, data, targets)
        if all(close(g, t, rtol=1e-5) for g, t in zip(grads, truth)):
            continue
        for message, wrong in typical_mistakes(kind, params, data, targets).items():
            if all(close(g, w, rtol=1e-5) for g, w in zip(grads, wrong)):
                raise AssertionError(f"{name}: {message}")
        raise AssertionError(f"{name}: {unexplained_mismatch(grads, truth)}")


def unexplained_mismatch(grads, truth):
    """Which gradients differ from the numerical ones, and where in the backward pass to look."""
    wrong = [w for w, g, t in zip(PARAMETERS, grads, truth) if not close(g, t, rtol=1e-5)]
    errors = ", ".join(
        f"grad_{w} {reference_error(g, t):.1e}"
        for w, g, t in zip(PARAMETERS, grads, truth)
        if w in wrong
    )
    names = " and ".join(f"grad_{w}" for w in wrong)
    verb = "does" if len(wrong) == 1 else "do"
    if set(wrong) <= {"w1", "b1"}:
        where = (
            "grad_w2 and grad_b2 are right, so dL/dz2 is right: check the steps after it, "
            "dL/da1 = dL/dz2 @ w2.T, dL/dz1 = dL/da1 * a1 * (1 - a1), then "
            "grad_w1 = data.T @ dL/dz1 and grad_b1 = the sum of dL/dz1 over the rows."
        )
    else:
        where = (
            "start with the output layer: dL/dz2 (your answer to question 3 or 4), then "
            "grad_w2 = a1.T @ dL/dz2 and grad_b2 = the sum of dL/dz2 over the rows."
        )
    return (
        f"{names} {verb} not match the numerical gradient of the loss (relative error "
        f"{errors}). {where}"
    )


@feedback_check("two_layer_backward_mse")
def test_two_layer_backward_mse(two_layer_backward_mse, rng):
    check_backward("two_layer_backward_mse", "mse", two_layer_backward_mse, rng)


@feedback_check("two_layer_backward_cross_entropy")
def test_two_layer_backward_cross_entropy(two_layer_backward_cross_entropy, rng):
    check_backward(
        "two_layer_backward_cross_entropy", "cross_entropy", two_layer_backward_cross_entropy, rng
    )
