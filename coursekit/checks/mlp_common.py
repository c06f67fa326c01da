"""What the checks of notebook 05 (the NumPy multi-layer perceptron) share.

Every backward pass is compared with a numerical gradient of a reference loss
(:func:`coursekit.gradcheck.numerical_gradient`, centred differences with step
``GRAD_STEP``); it passes when :func:`coursekit.gradcheck.relative_error` is below
``GRAD_TOLERANCE`` (smooth functions: sigmoid, softmax, penalties) or ``GRAD_TOLERANCE_RELU``
(ReLU networks, whose kinks make centred differences less exact; CS231n's rule of thumb),
with denominators floored at ``GRAD_FLOOR`` (rounding noise would swamp tinier entries).
When it fails, the check looks for the usual mistakes (a gradient off by the batch size, a
forgotten sigmoid derivative, a bias gradient not summed over the batch, ...) and names the
one it finds. The optimisers are compared with their formulas, step by step, on random
arrays.
"""

import functools
import inspect

import numpy as np

from coursekit.checks.framework import (
    call,
    expect,
    expect_array,
)
from coursekit.gradcheck import numerical_gradient, relative_error

GRAD_STEP = 1e-5  # h of the centred differences
GRAD_TOLERANCE = 1e-5  # largest relative error accepted between analytic and numerical gradients
GRAD_TOLERANCE_RELU = 1e-4  # the same for ReLU networks
GRAD_FLOOR = 1e-4  # smaller entries are compared in absolute terms (rounding noise ~1e-10)
NAMES = ["w1", "b1", "w2", "b2"]
SHAPES_HINT = "Shapes: data (N, d_in), w1 (d_in, d_h), b1 (1, d_h), w2 (d_h, d_out), b2 (1, d_out)."


# --- helpers --------------------------------------------------------------------------


def close(a, b, rtol=1e-6):
    """Same shape and values up to ``rtol`` (plus a tiny absolute slack for zeros; NaN = NaN)."""
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=1e-9, equal_nan=True)


def all_close(arrays, references, rtol=1e-6):
    return len(arrays) == len(references) and all(
        close(a, r, rtol) for a, r in zip(arrays, references)
    )


def call_with(fn, *args, passed=(), hint="", **kwargs):
    """``call`` that leaves the arguments at the positions ``passed`` (random generators,
    meant to advance) and ``kwargs`` uncopied, and lists a generator's items inside the call.
    """

    @functools.wraps(fn)
    def listing(*values, **named):
        result = fn(*values, **named)
        return list(result) if inspect.isgenerator(result) else result

    return call(listing, *args, hint=hint, uncopied=passed, **kwargs)


def scalar(value, what):
    """``value`` as a float, or an AssertionError saying that one number was expected."""
    try:
        if np.ndim(value) == 0 and not isinstance(value, (str, bytes)):
            return float(value)
    except (TypeError, ValueError):
        pass
    shape = f" of shape {np.shape(value)}" if np.ndim(value) else ""
    raise AssertionError(f"{what} should be one number, not {type(value).__name__}{shape}.")


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(scores):
    exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)


def one_hot(labels, classes):
    return np.eye(classes)[labels]


def gradient_error(analytic, numeric):
    """The relative error of a gradient, denominators floored at GRAD_FLOOR."""
    return relative_error(analytic, numeric, eps=GRAD_FLOOR)


def numerical_grads(loss, arrays):
    """Numerical gradient of ``loss()`` with respect to each array (perturbed in place)."""
    return [numerical_gradient(loss, array, GRAD_STEP) for array in arrays]


def proportion(arrays, references):
    """The factor s with arrays = s * references (least squares), or None if not proportional."""
    a = np.concatenate([np.ravel(x) for x in arrays])
    r = np.concatenate([np.ravel(x) for x in references])
    if not np.all(np.isfinite(a)) or r @ r == 0:
        return None
    s = (a @ r) / (r @ r)
    if s == 0 or np.linalg.norm(a - s * r) > 1e-5 * np.linalg.norm(a):
        return None
    return s


def near(value, target):
    return value is not None and abs(value - target) <= 1e-3 * abs(target)


def scale_mistake(s, n, learning_rate=None):
    """Name a gradient that is ``s`` times the right one, for the usual values of ``s``."""
    if near(s, n):
        return (
            f"your gradient is N = {n} times too large (N, the batch size). The loss is a "
            "mean over the N samples, so its gradient carries the batch-size factor 1 / N: "
            "divide by N once, where the backward pass starts."
        )
    if near(s, 1 / n):
        return (
            f"your gradient is N = {n} times too small: you divided by the batch size N "
            "twice. Divide once, where the gradient of the loss starts (d_z2)."
        )
    if near(s, -1):
        return (
            "your step goes uphill: gradient descent subtracts the gradient, "
            "param = param - learning_rate * gradient."
        )
    if learning_rate is not None and near(s, 1 / learning_rate):
        return "your step ignores the learning rate: param = param - learning_rate * gradient."
    if learning_rate is not None and near(s, learning_rate):
        return "you multiplied the gradient by the learning rate twice."
    return None


def gradient_mismatch(name, error, advice="", tolerance=GRAD_TOLERANCE):
    return (
        f"the gradient of {name} does not match a numerical gradient of the loss: relative "
        f"error {error:.1e}, threshold {tolerance:g}." + (f" {advice}" if advice else "")
    )


def bias_mistake(name, grad, numeric, n):
    """Name the mistake in a bias gradient (one of its entries per output unit)."""
    if grad.size > 1 and np.allclose(grad, grad.flat[0]) and close(grad.flat[0], numeric.sum()):
        return (
            f"the gradient of {name} is one number repeated: you summed d_z over all its "
            "axes. Sum over the samples only, np.sum(d_z, axis=0, keepdims=True)."
        )
    s = proportion([grad], [numeric])
    if near(s, 1 / n):
        return (
            f"the gradient of {name} is N = {n} times too small: you averaged over the batch "
            "(np.mean), but d_z already holds the factor 1 / N. A bias is added to every "
            "sample, so its gradient sums their contributions: np.sum(d_z, axis=0, keepdims=True)."
        )
    return None


def bias_shape_mistake(name, shape, n, width):
    if shape in [(n, width), (n, 1)]:
        return (
            f"{name} came back with shape {shape}: its gradient was not summed over the batch. "
            "A bias is added to every sample, so its gradient sums the N rows of d_z: "
            "np.sum(d_z, axis=0, keepdims=True), shape (1, width)."
        )
    return None


def random_layers(rng, sizes, scale=0.8):
    return [
        (rng.normal(0, scale, (fan_in, fan_out)), rng.normal(0, 0.3, (1, fan_out)))
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
    ]


def random_sizes(rng, count):
    return [int(rng.integers(2, 6)) for _ in range(count)]


def flat(grads):
    return [array for pair in grads for array in pair]


def check_grads_structure(grads, layers, name):
    expect(
        isinstance(grads, (list, tuple)) and len(grads) == len(layers),
        f"{name}'s gradients should be a list of one (dw, db) pair per layer "
        f"({len(layers)} here), first layer first.",
    )
    for number, (pair, (w, b)) in enumerate(zip(grads, layers), start=1):
        expect(
            isinstance(pair, (list, tuple)) and len(pair) == 2,
            f"{name}: each gradient should be a pair (dw, db).",
        )
        dw, db = pair
        expect(
            db is not None,
            f"{name}: return zeros for the biases' gradients (np.zeros_like(b)), not None.",
        )
        expect_array(dw, f"dw of layer {number}")
        expect_array(db, f"db of layer {number}")
        expect(
            not (db.ndim == 2 and db.shape[1] == b.shape[1] and db.shape[0] > 1),
            f"{name}: db of layer {number} has shape {db.shape}: the bias gradient was not "
            "summed over the batch. A bias is added to every sample, so its gradient sums the "
            "rows of d_z: np.sum(d_z, axis=0, keepdims=True).",
        )
        expect(
            dw.shape == w.shape,
            f"{name}: dw of layer {number} has shape {dw.shape}, "
            f"expected {w.shape}, the shape of w. dw = a_in.T @ d_z.",
        )
        expect(
            db.shape == b.shape,
            f"{name}: db of layer {number} has shape {db.shape}, expected {b.shape}.",
        )
