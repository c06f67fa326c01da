"""Feedback checks for notebook 05, the NumPy multi-layer perceptron.

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

import contextlib
import copy
import functools
import inspect
import math

import numpy as np

from coursekit.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
    replacing_global,
)
from coursekit.gradcheck import numerical_gradient, relative_error

__all__ = [
    "test_sigmoid",
    "test_relu",
    "test_learn_once_mse",
    "test_learn_once_cross_entropy",
    "test_forward",
    "test_train_mlp",
    "test_test_mlp",
    "test_run_mlp_training",
    "test_minibatches",
    "test_momentum_step",
    "test_adam_step",
    "test_decayed_learning_rate",
    "test_l2_regularisation",
    "test_l1_regularisation",
    "test_init_layers",
    "test_relu_network_forward",
    "test_dropout_forward",
    "test_relu_network_loss_and_grads",
    "test_train_network",
]

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


# --- activations ----------------------------------------------------------------------


@feedback_check("sigmoid")
def test_sigmoid(sigmoid_fn, rng):
    x = rng.normal(0, 3, size=(int(rng.integers(2, 5)), int(rng.integers(2, 6))))
    result = call(sigmoid_fn, x)
    expect_array(result, "sigmoid's result", shape=x.shape, kind="f")
    if close(result, sigmoid(-x)):
        raise AssertionError(
            "mind the minus sign: sigmoid(x) = 1 / (1 + exp(-x)) grows with x (sigmoid(3) is "
            "about 0.95); yours decreases."
        )
    if close(result, np.tanh(x)):
        raise AssertionError("that is tanh, with values in (-1, 1); sigmoid's lie in (0, 1).")
    if close(result, sigmoid(x) * (1 - sigmoid(x))):
        raise AssertionError(
            "you returned the derivative sigmoid(x) (1 - sigmoid(x)), not the function."
        )
    expect(close(result, sigmoid(x)), "sigmoid's values are not 1 / (1 + exp(-x)).")
    extreme = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="ignore", invalid="ignore"):
        result = call(sigmoid_fn, extreme)
    expect(
        isinstance(result, np.ndarray) and np.all(np.isfinite(result)),
        "sigmoid returned NaN for large inputs (x = 1000): exp(x) / (1 + exp(x)) becomes "
        "inf / inf. Write it as 1 / (1 + np.exp(-x)), which tends to 1 / inf = 0 or 1 / 1 = 1.",
    )
    with np.errstate(over="ignore"):
        expected = sigmoid(extreme)
    expect(close(result, expected), "sigmoid is wrong for large |x| (x = ±40, ±1000).")


@feedback_check("relu")
def test_relu(relu_fn, rng):
    x = rng.normal(size=(int(rng.integers(2, 5)), int(rng.integers(3, 6))))
    x.flat[0], x.flat[1] = -abs(x.flat[0]) - 0.5, abs(x.flat[1]) + 1.5  # a negative, a value > 1
    result = call(relu_fn, x)
    expect_array(result, "relu's result")
    if result.shape != x.shape and result.shape in [(x.shape[1],), (x.shape[0],), ()]:
        raise AssertionError(
            f"relu returned shape {result.shape} for an input of shape {x.shape}: np.max "
            "reduces an array along an axis; np.maximum(x, 0) compares entry by entry."
        )
    expect(result.shape == x.shape, f"relu returned shape {result.shape}, expected {x.shape}.")
    expected = np.maximum(x, 0)
    if close(result, np.abs(x)):
        raise AssertionError("negative values must become 0, not their absolute value.")
    if close(result, np.clip(x, 0, 1)):
        raise AssertionError("ReLU does not stop at 1: max(0, x) keeps every positive value.")
    if close(result, x > 0):
        raise AssertionError("you returned the derivative of ReLU (x > 0), not ReLU itself.")
    if close(result, np.where(x > 0, x, 0.01 * x)):
        raise AssertionError("negative values become exactly 0 (yours is a leaky ReLU).")
    expect(close(result, expected), "relu's values are not max(0, x).")
    x32 = x.astype(np.float32)
    result = call(relu_fn, x32)
    expect(
        isinstance(result, np.ndarray) and result.dtype == np.float32,
        f"relu turned float32 into {getattr(result, 'dtype', type(result).__name__)}: keep "
        "the input's dtype (np.maximum(x, 0) does), float32 networks run twice as fast.",
    )


# --- the two-layer sigmoid network ------------------------------------------------------


def two_layer_problem(rng):
    """Random parameters [w1, b1, w2, b2] and data (N, d_in) for the two-layer network."""
    n, d_in, d_h = int(rng.integers(6, 10)), int(rng.integers(3, 6)), int(rng.integers(4, 7))
    d_out = int(rng.integers(3, 5))
    params = [
        rng.normal(0, 0.8, (d_in, d_h)),
        rng.normal(0, 0.3, (1, d_h)),
        rng.normal(0, 0.8, (d_h, d_out)),
        rng.normal(0, 0.3, (1, d_out)),
    ]
    return params, rng.normal(size=(n, d_in))


def two_layer_loss(params, data, targets, output):
    """The loss of the two-layer network; output "mse" (sigmoid) or "ce" (softmax)."""
    w1, b1, w2, b2 = params
    z2 = sigmoid(data @ w1 + b1) @ w2 + b2
    if output == "mse":
        return np.mean((sigmoid(z2) - targets) ** 2)
    return -np.sum(targets * np.log(softmax(z2))) / len(data)


def two_layer_grads(params, data, targets, output, mistake=None, learning_rate=None):
    """Gradients [dw1, db1, dw2, db2] of the two-layer network, or those of a known mistake."""
    w1, b1, w2, b2 = params
    z1 = data @ w1 + b1
    a1 = sigmoid(z1)
    z2 = a1 @ w2 + b2
    if output == "mse":
        a2 = sigmoid(z2)
        d_z2 = 2 * (a2 - targets) / a2.size
        if mistake == "z derivative":
            d_z2 = d_z2 * z2 * (1 - z2)
        elif mistake != "output derivative":
            d_z2 = d_z2 * a2 * (1 - a2)
    else:
        a2 = softmax(z2)
        d_z2 = (a2 - targets) / len(data)
        if mistake == "softmax derivative":
            d_z2 = d_z2 * a2 * (1 - a2)
    d_w2 = a1.T @ d_z2
    backward_w2 = w2 - learning_rate * d_w2 if mistake == "updated w2" else w2
    d_a1 = d_z2 @ backward_w2.T
    if mistake == "hidden derivative":
        d_z1 = d_a1
    elif mistake == "z derivative":
        d_z1 = d_a1 * z1 * (1 - z1)
    else:
        d_z1 = d_a1 * a1 * (1 - a1)
    return [data.T @ d_z1, d_z1.sum(axis=0, keepdims=True), d_w2, d_z2.sum(axis=0, keepdims=True)]


TWO_LAYER_MISTAKES = {  # mistake: (the networks where it can happen, message)
    "output derivative": (
        "mse",
        "you forgot the derivative of the output sigmoid: d_z2 = d_a2 * a2 * (1 - a2).",
    ),
    "hidden derivative": (
        "mse ce",
        "you forgot the derivative of the hidden sigmoid: d_z1 = (d_z2 @ w2.T) * a1 * (1 - a1).",
    ),
    "z derivative": (
        "mse ce",
        "the sigmoid's derivative is a * (1 - a) with a = sigmoid(z), the layer's output; you "
        "used z * (1 - z).",
    ),
    "softmax derivative": (
        "ce",
        "with a softmax output and the cross-entropy, d_z2 is simply (a2 - y) / N: do not "
        "multiply by a2 * (1 - a2) (that is the sigmoid's derivative, for the MSE network).",
    ),
    "updated w2": (
        "mse ce",
        "you backpropagated through the updated w2. Compute every gradient first (d_a1 = "
        "d_z2 @ w2.T with the w2 of the forward pass), then update the parameters.",
    ),
}


def check_two_layer_step(fn, rng, output):
    """The shared check of learn_once_mse (output "mse") and learn_once_cross_entropy ("ce")."""
    name = fn.__name__
    params, data = two_layer_problem(rng)
    n, d_out = len(data), params[2].shape[1]
    if output == "mse":
        targets = rng.random((n, d_out))
        last = targets
    else:
        last = rng.integers(0, d_out, size=n)
        targets = one_hot(last, d_out)
    learning_rate = 0.3
    result = call(fn, *params, data, last, learning_rate, hint=SHAPES_HINT)
    expect_tuple(result, name, 5)
    new, loss = list(result[:4]), result[4]
    for what, old, value in zip(NAMES, params, new):
        expect_array(value, f"The new {what} (value {NAMES.index(what) + 1} of 5)")
        if what[0] == "b":
            mistake = bias_shape_mistake(f"The new {what}", value.shape, n, old.shape[1])
            expect(mistake is None, f"{name}: {mistake}")
        expect(
            value.shape == old.shape,
            f"The new {what} has shape {value.shape}; it must keep the shape of {what}, "
            f"{old.shape}.",
        )
    loss = scalar(loss, f"The loss returned by {name} (5th value)")
    expected_loss = two_layer_loss(params, data, targets, output)
    if not close(loss, expected_loss):
        if close(loss, two_layer_loss(new, data, targets, output)):
            raise AssertionError(
                f"{name} returned the loss after the update: return the loss of the forward "
                "pass, computed before the parameters change."
            )
        if close(loss, expected_loss * n * (d_out if output == "mse" else 1)):
            raise AssertionError(f"{name}: the loss is a mean, not a sum.")
        if output == "mse" and close(loss, expected_loss * d_out):
            raise AssertionError(
                f"{name}: the loss is the mean over all N x d_out entries, "
                "np.mean((a2 - targets) ** 2), not a mean over the samples of a sum."
            )
        raise AssertionError(
            f"{name}: the loss is not "
            + (
                "the mean squared error of sigmoid outputs, np.mean((a2 - targets) ** 2)."
                if output == "mse"
                else "the cross-entropy of the softmax outputs, -sum(y * log(a2)) / N."
            )
        )
    step = [(old - value) / learning_rate for old, value in zip(params, new)]
    work = copy.deepcopy(params)
    numeric = numerical_grads(lambda: two_layer_loss(work, data, targets, output), work)
    errors = [gradient_error(g, h) for g, h in zip(step, numeric)]
    if max(errors) >= GRAD_TOLERANCE:
        mistake = diagnose_two_layer(
            step, numeric, errors, params, data, targets, output, learning_rate
        )
        raise AssertionError(f"{name}: {mistake}")
    if output == "ce":  # scores around 1000: exp overflows unless the max is subtracted
        shifted = params[:3] + [params[3] + 1000]
        with np.errstate(all="ignore"):
            result = call(fn, *shifted, data, last, learning_rate, hint=SHAPES_HINT)
        expect(
            all(np.all(np.isfinite(np.asarray(value, dtype=float))) for value in result),
            f"{name} returned NaN or inf for scores around 1000: np.exp(1000) overflows. "
            "Subtract each row's largest score before np.exp (the softmax does not change).",
        )


def diagnose_two_layer(step, numeric, errors, params, data, targets, output, learning_rate):
    """Name the mistake of a two-layer gradient step that failed the numerical check.

    step: the student's (old - new) / learning_rate per parameter; numeric: the numerical
    gradients; errors: their relative errors.
    """
    n, d_out = len(data), targets.shape[1]
    if not any(np.any(s) for s in step):
        return (
            "the parameters did not change. Return the updated arrays "
            "(w1 = w1 - learning_rate * d_w1, ...)."
        )
    s = proportion(step, numeric)
    mistake = scale_mistake(s, n, learning_rate)
    if mistake:
        return mistake
    if output == "mse" and near(s, d_out):
        return (
            f"your gradient is d_out = {d_out} times too large: the mean runs over "
            "all N x d_out entries, so d_a2 = 2 * (a2 - targets) / (N * d_out) (a2.size)."
        )
    if output == "mse" and near(s, n * d_out):
        return (
            f"your gradient is N x d_out = {n * d_out} times too large: the loss is the mean "
            "of the squared errors over all N x d_out entries, d_a2 = 2 * (a2 - targets) / "
            "a2.size. (N is the batch-size factor.)"
        )
    if output == "mse" and near(s, 0.5):
        return "your gradient is half the right one: the derivative of (a2 - y)**2 is 2 (a2 - y)."
    for mistake, (outputs, message) in TWO_LAYER_MISTAKES.items():
        if output not in outputs.split():
            continue
        variant = two_layer_grads(params, data, targets, output, mistake, learning_rate)
        if all_close(step, variant, rtol=1e-5):
            return message
    for what, grad, num, error in zip(NAMES, step, numeric, errors):
        if error < GRAD_TOLERANCE:
            continue
        mistake = bias_mistake(what, grad, num, n) if what[0] == "b" else None
        mistake = mistake or scale_mistake(proportion([grad], [num]), n)
        advice = (
            "Look at d_w1 = data.T @ d_z1 and d_z1 = (d_z2 @ w2.T) * a1 * (1 - a1)."
            if what in ("w1", "b1")
            else "Look at d_z2 and d_w2 = a1.T @ d_z2."
        )
        return mistake or gradient_mismatch(what, error, advice)
    return gradient_mismatch("the parameters", max(errors))


@feedback_check("learn_once_mse")
def test_learn_once_mse(learn_once_mse, rng):
    for _ in range(2):
        check_two_layer_step(learn_once_mse, rng, "mse")


@feedback_check("learn_once_cross_entropy")
def test_learn_once_cross_entropy(learn_once_cross_entropy, rng):
    for _ in range(2):
        check_two_layer_step(learn_once_cross_entropy, rng, "ce")


def two_layer_forward(params, data):
    w1, b1, w2, b2 = params
    return softmax(sigmoid(data @ w1 + b1) @ w2 + b2)


@feedback_check("forward")
def test_forward(forward, rng):
    for _ in range(2):
        params, data = two_layer_problem(rng)
        w1, b1, w2, b2 = params
        n, d_out = len(data), w2.shape[1]
        result = call(forward, *params, data, hint=SHAPES_HINT)
        expect_array(result, "forward's result")
        if result.shape == (n,):
            raise AssertionError(
                "forward returned one value per sample (the predicted classes?). Return the "
                f"probabilities, shape (N, d_out) = ({n}, {d_out}); the predicted class is "
                "their argmax over axis 1."
            )
        expect(
            result.shape == (n, d_out),
            f"forward returned shape {result.shape}, expected (N, d_out) = ({n}, {d_out}).",
        )
        if close(result, two_layer_forward(params, data)):
            continue
        z2 = sigmoid(data @ w1 + b1) @ w2 + b2
        exp_z2 = np.exp(z2)
        variants = [
            (
                sigmoid(z2),
                "the output layer of this network is a softmax, not a sigmoid: the "
                "probabilities of each sample must sum to 1.",
            ),
            (z2, "you returned the scores z2: apply the softmax to turn them into probabilities."),
            (
                exp_z2 / exp_z2.sum(axis=0, keepdims=True),
                "the softmax normalised each column; "
                "each row (one sample) must sum to 1: sum over axis=1.",
            ),
            (
                softmax((data @ w1 + b1) @ w2 + b2),
                "apply the sigmoid to the hidden layer: a1 = sigmoid(data @ w1 + b1).",
            ),
            (
                softmax(np.maximum(data @ w1 + b1, 0) @ w2 + b2),
                "this network's hidden layer is a sigmoid, not a ReLU.",
            ),
        ]
        for variant, message in variants:
            expect(not close(result, variant), f"forward: {message}")
        raise AssertionError(
            "forward's probabilities are not softmax(sigmoid(data @ w1 + b1) @ w2 + b2)."
        )
    shifted = params[:3] + [params[3] + 1000]
    with np.errstate(all="ignore"):
        result = call(forward, *shifted, data)
    expect(
        np.all(np.isfinite(result)),
        "forward returned NaN for scores around 1000: np.exp(1000) overflows. Subtract each "
        "row's largest score before np.exp (the softmax does not change).",
    )


def cross_entropy_step(params, data, labels, learning_rate):
    grads = two_layer_grads(params, data, one_hot(labels, params[2].shape[1]), "ce")
    return [p - learning_rate * g for p, g in zip(params, grads)]


def accuracy(params, data, labels):
    return np.mean(two_layer_forward(params, data).argmax(axis=1) == labels)


def blobs(rng, n, d_in, classes, spread=1.0):
    """n samples of ``classes`` Gaussian blobs in d_in dimensions; every class present."""
    labels = np.arange(n) % classes
    rng.shuffle(labels)
    centres = rng.normal(0, 1.5, size=(classes, d_in))
    return centres[labels] + rng.normal(0, spread, size=(n, d_in)), labels


@feedback_check("train_mlp")
def test_train_mlp(train_mlp, rng):
    params, _ = two_layer_problem(rng)
    d_in, d_out = params[0].shape[0], params[2].shape[1]
    data, labels = blobs(rng, int(rng.integers(12, 20)), d_in, d_out)
    learning_rate, num_epoch = 1.0, int(rng.integers(4, 7))
    result = call(
        train_mlp,
        *params,
        data,
        labels,
        learning_rate,
        num_epoch,
        hint="train_mlp calls your learn_once_cross_entropy and forward: check them first.",
    )
    expect_tuple(result, "train_mlp", 5)
    trajectory = [params]
    for _ in range(num_epoch + 1):
        trajectory.append(cross_entropy_step(trajectory[-1], data, labels, learning_rate))
    new = list(result[:4])
    for what, value, old in zip(NAMES, new, params):
        expect_array(value, f"The trained {what}", shape=old.shape)
    if not all_close(new, trajectory[num_epoch]):
        known = [
            (
                0,
                "it returned the initial weights: keep what learn_once_cross_entropy "
                "returns, w1, b1, w2, b2, loss = learn_once_cross_entropy(w1, b1, w2, b2, ...).",
            ),
            (
                1,
                "the weights are those after one single step: each epoch must start from the "
                "weights of the previous epoch, not from the initial ones.",
            ),
            (
                num_epoch - 1,
                "one step too few: take num_epoch steps, for epoch in range(num_epoch).",
            ),
            (
                num_epoch + 1,
                "one step too many: take num_epoch steps, for epoch in range(num_epoch).",
            ),
        ]
        for steps, message in known:
            expect(not all_close(new, trajectory[steps]), f"train_mlp: {message}")
        raise AssertionError(
            f"train_mlp: the weights after {num_epoch} epochs are not those of {num_epoch} "
            "steps of learn_once_cross_entropy with this learning rate (if that check passes, "
            "look at how the weights go from one epoch to the next)."
        )
    accuracies = result[4]
    expect(
        np.ndim(accuracies) == 1,
        "train_accuracies should hold one accuracy per epoch (a list of num_epoch numbers), "
        f"not {type(accuracies).__name__}"
        + (f" of shape {np.shape(accuracies)}." if np.ndim(accuracies) else "."),
    )
    accuracies = np.asarray(accuracies, dtype=float)
    expect(
        len(accuracies) == num_epoch,
        f"train_accuracies holds {len(accuracies)} values for {num_epoch} epochs: one per epoch.",
    )
    expect(
        np.all((accuracies >= 0) & (accuracies <= 1)),
        "the accuracies should be fractions in [0, 1], not percentages: np.mean(predictions "
        "== labels_train).",
    )
    after = [accuracy(trajectory[k + 1], data, labels) for k in range(num_epoch)]
    before = [accuracy(trajectory[k], data, labels) for k in range(num_epoch)]
    expect(
        close(accuracies, after) or close(accuracies, before),
        "train_accuracies[i] should be the accuracy on data_train after epoch i's step: the "
        "fraction of samples whose predicted class forward(...).argmax(axis=1) equals the label.",
    )


@feedback_check("test_mlp")
def test_test_mlp(test_mlp, rng):
    params, _ = two_layer_problem(rng)
    n, d_out = int(rng.integers(8, 14)), params[2].shape[1]
    data = rng.normal(size=(n, params[0].shape[0]))
    predicted = two_layer_forward(params, data).argmax(axis=1)
    correct = int(rng.choice([k for k in range(2, n - 1) if 2 * k != n]))
    labels = (predicted + rng.integers(1, d_out, size=n)) % d_out  # all wrong...
    right = rng.choice(n, size=correct, replace=False)
    labels[right] = predicted[right]  # ... but `correct` of them
    result = call(test_mlp, *params, data, labels, hint=SHAPES_HINT)
    if np.shape(result) == (n,):
        raise AssertionError(
            "test_mlp returned one value per sample: the accuracy is their mean, one number."
        )
    value = scalar(result, "test_mlp's result")
    expected = correct / n
    if np.isclose(value, correct):
        raise AssertionError(
            "test_mlp returned the number of correct predictions: divide by the number of "
            "samples (np.mean(predictions == labels_test))."
        )
    expect(not np.isclose(value, 1 - expected), "test_mlp returned the error rate, 1 - accuracy.")
    expect(
        not np.isclose(value, 100 * expected),
        "test_mlp should return a fraction in [0, 1], not a percentage.",
    )
    expect(
        np.isclose(value, expected),
        "test_mlp's accuracy is not the fraction of samples whose predicted class "
        "(forward(...).argmax(axis=1), one class per row) equals the label.",
    )


@contextlib.contextmanager
def spying(fn, name):
    """Record the calls ``fn`` makes to the global function ``name`` (which still runs).

    Yields a list of [bound arguments, result] (result None while it runs or if it raised);
    the student's own function is put back afterwards.
    """
    original = getattr(fn, "__globals__", {}).get(name)
    calls = []
    if not callable(original):
        yield calls
        return

    def spy(*args, **kwargs):
        try:
            arguments = inspect.signature(original).bind(*args, **kwargs).arguments
            values = list(arguments.values())
        except TypeError:
            values = list(args) + list(kwargs.values())
        calls.append([copy.deepcopy(values), None])
        calls[-1][1] = original(*args, **kwargs)
        return calls[-1][1]

    with replacing_global(fn, name, spy):
        yield calls


def xavier_mistake(w, fan_in, fan_out, what):
    """Name what is wrong with initial weights ``w`` (fan_in, fan_out), or None."""
    limit = np.sqrt(6 / (fan_in + fan_out))
    if w.shape == (fan_out, fan_in) and fan_in != fan_out:
        return (
            f"{what} has shape {w.shape}: rows and columns are swapped, a layer from "
            f"{fan_in} to {fan_out} units has weights of shape ({fan_in}, {fan_out})."
        )
    if w.shape != (fan_in, fan_out):
        return f"{what} has shape {w.shape}, expected ({fan_in}, {fan_out})."
    if np.all(w == w.flat[0]):
        return (
            f"all values of {what} are equal: every hidden unit would compute the same "
            "thing, get the same gradient and stay identical. Draw them at random."
        )
    if w.min() >= 0:
        return (
            f"{what} is not centred on 0 (all values are positive): rng.random and "
            "np.random.rand draw from [0, 1). Use rng.uniform(-limit, limit, size=...)."
        )
    if np.abs(w).max() > limit * (1 + 1e-9):
        return (
            f"some values of {what} lie outside Xavier's range: for a layer from {fan_in} to "
            f"{fan_out} units, draw uniformly from [-limit, limit] with limit = "
            "sqrt(6 / (n_in + n_out)), rng.uniform(-limit, limit, size=...)."
        )
    if w.size >= 40 and abs(w.mean()) > 0.35 * limit:
        return f"{what} is not centred on 0: draw from [-limit, limit]."
    if w.std() < 0.5 * limit / np.sqrt(3):
        return (
            f"the values of {what} are much smaller than Xavier's: draw uniformly from "
            "[-limit, limit] with limit = sqrt(6 / (n_in + n_out))."
        )
    return None


def check_train_mlp_arguments(passed, arguments, d_in, classes):
    """Check what run_mlp_training passed to train_mlp: data, settings, initial weights."""
    data_train, labels_train, _, _, d_h, learning_rate, num_epoch = arguments
    expect(
        len(passed) >= 8,
        "run_mlp_training should call train_mlp(w1, b1, w2, b2, data_train, labels_train, "
        "learning_rate, num_epoch).",
    )
    w1, b1, w2, b2, given_data, given_labels, given_rate, given_epochs = passed[:8]
    expect(
        close(given_data, data_train) and close(given_labels, labels_train),
        "run_mlp_training should train on data_train and labels_train.",
    )
    expect(
        given_rate == learning_rate and given_epochs == num_epoch,
        "run_mlp_training should pass its learning_rate and num_epoch on to train_mlp.",
    )
    if np.ndim(w2) == 2 and classes not in np.shape(w2):
        raise AssertionError(
            f"w2 has shape {np.shape(w2)}: the network needs one output per class, "
            "d_out = labels_train.max() + 1 (3 classes in this check, 10 for Fashion-MNIST)."
        )
    for what, value, fan_in, fan_out in [("w1", w1, d_in, d_h), ("w2", w2, d_h, classes)]:
        expect_array(value, f"The initial {what}")
        mistake = xavier_mistake(value, fan_in, fan_out, f"the initial {what}")
        expect(mistake is None, f"run_mlp_training: {mistake}")
    for what, value, width in [("b1", b1, d_h), ("b2", b2, classes)]:
        expect(
            np.shape(value) == (1, width),
            f"the initial {what} has shape {np.shape(value)}, expected (1, {width}).",
        )


@feedback_check("run_mlp_training")
def test_run_mlp_training(run_mlp_training, rng):
    d_in, d_h, classes = int(rng.integers(8, 12)), int(rng.integers(6, 10)), 3
    data, labels = blobs(rng, 37, d_in, classes, spread=1.5)
    data_train, labels_train, data_test, labels_test = (
        data[:30],
        labels[:30],
        data[30:],
        labels[30:],
    )
    learning_rate, num_epoch = 0.5, 3
    arguments = (data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch)
    with spying(run_mlp_training, "train_mlp") as calls:
        try:
            result = call(run_mlp_training, *arguments)
        except AssertionError:
            if calls:  # train_mlp failed: first say what is wrong with what it was given
                check_train_mlp_arguments(calls[0][0], arguments, d_in, classes)
            raise
        call(run_mlp_training, *arguments)  # a second run, to compare its initial weights
    expect_tuple(result, "run_mlp_training", 2)
    expect(
        len(calls) == 2,
        "run_mlp_training should initialise the network and train it with one call of your "
        f"train_mlp (two runs called it {len(calls)} times).",
    )
    (passed, trained), (passed_again, _) = calls
    check_train_mlp_arguments(passed, arguments, d_in, classes)
    expect(
        all(close(a, b, 0) for a, b in zip(passed[:4], passed_again[:4])),
        "run_mlp_training starts from different weights at every call: fix the seed, "
        "rng = np.random.default_rng(0), so that results are reproducible.",
    )
    train_accuracies, test_accuracy = result
    expect(
        close(np.asarray(train_accuracies, dtype=float), np.asarray(trained[4], dtype=float)),
        "run_mlp_training should return the train_accuracies that train_mlp returned.",
    )
    test_accuracy = scalar(test_accuracy, "test_accuracy (second value)")
    trained_params = list(trained[:4])
    expected = accuracy(trained_params, data_test, labels_test)
    if not np.isclose(test_accuracy, expected) and np.isclose(
        test_accuracy, accuracy(trained_params, data_train, labels_train)
    ):
        raise AssertionError(
            "test_accuracy was measured on the training data: use test_mlp on data_test."
        )
    expect(
        np.isclose(test_accuracy, expected),
        "test_accuracy should be test_mlp of the trained network on data_test and labels_test.",
    )


# --- minibatches and optimisers ---------------------------------------------------------


@feedback_check("minibatches")
def test_minibatches(minibatches, rng):
    n = int(rng.integers(20, 40))
    for batch_size in [
        int(rng.choice([b for b in range(4, 9) if n % b])),
        n // 2 if n % 2 == 0 else n // 3 if n % 3 == 0 else 1,
        n + 3,
    ]:
        data = np.column_stack([rng.permutation(n) * 10.0, rng.normal(size=n)])
        labels = rng.integers(0, 5, size=n)
        seed = int(rng.integers(1000))
        result = call_with(
            minibatches, data, labels, batch_size, np.random.default_rng(seed), passed={3}
        )
        expect(
            isinstance(result, (list, tuple)),
            f"minibatches should return a list of (data_batch, labels_batch) pairs, not a "
            f"{type(result).__name__}.",
        )
        expect(
            all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in result),
            "each item of minibatches' list should be a pair (data_batch, labels_batch).",
        )
        count = math.ceil(n / batch_size)
        if n % batch_size and len(result) == n // batch_size:
            raise AssertionError(
                f"with {n} samples and batch_size={batch_size} you made {len(result)} batches: "
                "you dropped the last, smaller batch. Every sample must be used."
            )
        if len(result) == count + 1 and len(result[-1][1]) == 0:
            raise AssertionError(
                "your last batch is empty: stop when every sample is used (range(0, N, "
                "batch_size))."
            )
        expect(
            len(result) == count,
            f"with {n} samples and batch_size={batch_size} there should be {count} batches, "
            f"not {len(result)}.",
        )
        sizes = [len(np.asarray(y)) for _, y in result]
        expect(
            all(size == batch_size for size in sizes[:-1]) and 0 < sizes[-1] <= batch_size,
            f"every batch should hold batch_size={batch_size} samples, the last one the rest; "
            f"yours hold {sizes}.",
        )
        rows = np.concatenate([np.asarray(x) for x, _ in result])
        batch_labels = np.concatenate([np.asarray(y) for _, y in result])
        expect(
            rows.shape == data.shape,
            f"the batches' data should have shape (B, {data.shape[1]}): rows of data.",
        )
        index = np.rint(rows[:, 0] / 10).astype(int)
        order = np.argsort(data[:, 0])
        if len(np.unique(index)) < n:
            raise AssertionError(
                "some samples appear in two batches and others in none: you drew with "
                "replacement. Shuffle with a permutation, rng.permutation(N), and cut it."
            )
        original = order[index]  # the row of data each sample came from
        expect(
            np.array_equal(batch_labels, labels[original]),
            "the labels are no longer aligned with the data: index data and labels with the "
            "same permutation.",
        )
        if batch_size < n:
            expect(
                not np.array_equal(original, np.arange(n)),
                "the batches keep the samples in their original order: shuffle them first "
                "(rng.permutation), or every epoch sees the same batches, maybe sorted by class.",
            )
        again = call_with(
            minibatches, data, labels, batch_size, np.random.default_rng(seed), passed={3}
        )
        expect(
            all(np.array_equal(a[0], b[0]) for a, b in zip(result, again)),
            "minibatches gives different batches with two generators of the same seed: draw "
            "the permutation with the rng argument (rng.permutation), not np.random.",
        )
        other = call_with(
            minibatches, data, labels, batch_size, np.random.default_rng(seed + 1), passed={3}
        )
        expect(
            any(not np.array_equal(a[0], b[0]) for a, b in zip(result, other)),
            "minibatches gives the same batches whatever the generator: use the rng argument "
            "(a new np.random.default_rng(0) inside gives the same batches at every epoch).",
        )


@feedback_check("momentum_step")
def test_momentum_step(momentum_step, rng):
    for shape in [(3, 4), (1, int(rng.integers(2, 6)))]:
        param, grad, velocity = (rng.normal(size=shape) for _ in range(3))
        learning_rate, beta = float(rng.choice([0.05, 0.1, 0.2])), float(rng.choice([0.8, 0.9]))
        result = call(momentum_step, param, grad, velocity, learning_rate, beta)
        expect_tuple(result, "momentum_step", 2)
        new_param, new_velocity = result
        expect_array(new_param, "The new param (first value)", shape=shape)
        expect_array(new_velocity, "The new velocity (second value)", shape=shape)
        v = beta * velocity - learning_rate * grad
        if close(new_param, param + v) and close(new_velocity, v):
            continue
        upward = beta * velocity + learning_rate * grad
        torch = beta * velocity + grad
        variants = [
            (v, param + v, "return the new param first, then the new velocity."),
            (
                param + upward,
                upward,
                "momentum sign error: the velocity must move against "
                "the gradient, v = beta * v - learning_rate * grad, then param + v.",
            ),
            (
                param - v,
                v,
                "momentum sign error: the parameter moves by + v (v already points downhill).",
            ),
            (
                param - upward,
                upward,
                "momentum sign error: in this exercise the velocity is the "
                "step itself, v = beta * v - learning_rate * grad, and param + v.",
            ),
            (param + velocity, v, "move the parameter by the new velocity, after updating it."),
            (
                param - learning_rate * grad,
                -learning_rate * grad,
                "the velocity must keep beta "
                "times the previous velocity: v = beta * v - learning_rate * grad.",
            ),
            (
                param - learning_rate * torch,
                torch,
                "in this exercise the velocity includes the "
                "learning rate (Keras' convention): v = beta * v - learning_rate * grad.",
            ),
        ]
        for expected_param, expected_velocity, message in variants:
            if close(new_param, expected_param) and close(new_velocity, expected_velocity):
                raise AssertionError(f"momentum_step: {message}")
        raise AssertionError(
            "momentum_step: the new values do not follow v = beta * v - learning_rate * grad, "
            "param = param + v."
        )


def adam(param, grad, m, v, t, learning_rate, beta1, beta2, eps, mistake=None):
    """Adam's step, or a known mistake of it. Returns param, m, v."""
    if mistake == "betas swapped":
        beta1, beta2 = beta2, beta1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * (grad if mistake == "grad" else grad**2)
    power = t + 1 if mistake == "t from 0" else t
    m_hat, v_hat = m / (1 - beta1**power), v / (1 - beta2**power)
    if mistake == "no bias correction":
        m_hat, v_hat = m, v
    with np.errstate(invalid="ignore"):
        root = np.sqrt(v_hat + eps) if mistake == "eps in sqrt" else np.sqrt(v_hat) + eps
    sign = -1 if mistake == "sign" else 1
    param = param - sign * learning_rate * m_hat / root
    if mistake == "corrected moments":
        return param, m_hat, v_hat
    return param, m, v


ADAM_MISTAKES = {
    "no bias correction": (
        "Adam without bias correction: m and v start at 0, so in the first steps they are too "
        "small. Divide: m_hat = m / (1 - beta1 ** t), v_hat = v / (1 - beta2 ** t)."
    ),
    "eps in sqrt": "add eps after the square root: sqrt(v_hat) + eps, not sqrt(v_hat + eps).",
    "grad": "the second moment v averages the squared gradients: (1 - beta2) * grad ** 2.",
    "corrected moments": (
        "return the running averages m and v, not the corrected m_hat and v_hat: the next "
        "step corrects them again."
    ),
    "sign": "your step goes uphill: param - learning_rate * m_hat / (sqrt(v_hat) + eps).",
    "t from 0": "t is the step number, 1 for the first step: correct with beta ** t, not t + 1.",
    "betas swapped": "beta1 is for m (the gradients), beta2 for v (the squared gradients).",
}


@feedback_check("adam_step")
def test_adam_step(adam_step, rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    cases = [
        (1, np.zeros(shape), np.zeros(shape), 1e-8),
        (int(rng.integers(2, 6)), 0.1 * rng.normal(size=shape), 0.1 * rng.random(shape), 1e-8),
        (int(rng.integers(2, 6)), 0.1 * rng.normal(size=shape), 0.1 * rng.random(shape), 0.1),
    ]
    for t, m, v, eps in cases:
        param, grad = rng.normal(size=shape), rng.normal(size=shape)
        learning_rate, beta1, beta2 = float(rng.choice([0.01, 0.05])), 0.9, 0.999
        arguments = (param, grad, m, v, t, learning_rate, beta1, beta2, eps)
        with np.errstate(invalid="ignore"):
            result = call(adam_step, *arguments)
        expect_tuple(result, "adam_step", 3)
        for what, value in zip(["param", "m", "v"], result):
            expect_array(value, f"The new {what}", shape=shape)
        if all_close(result, adam(*arguments)):
            continue
        for mistake, message in ADAM_MISTAKES.items():
            if all_close(result, adam(*arguments, mistake=mistake)):
                raise AssertionError(f"adam_step: {message}")
        raise AssertionError(
            f"adam_step (step t={t}, eps={eps:g}): the new values do not follow Adam's formulas: "
            "m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g**2, the corrected "
            "m_hat, v_hat, and param - learning_rate m_hat / (sqrt(v_hat) + eps)."
        )


@feedback_check("decayed_learning_rate")
def test_decayed_learning_rate(decayed_learning_rate, rng):
    eta0, d = float(rng.choice([0.1, 0.05, 0.5])), float(rng.choice([1e-3, 0.01, 0.1]))
    steps = np.array([0, 1, int(rng.integers(5, 20)), 100, 1000])
    hint = "At t = 0 the learning rate is eta0: eta0 / (1 + t * d)."
    values = [
        scalar(call(decayed_learning_rate, eta0, int(t), d, hint=hint), "The learning rate")
        for t in steps
    ]
    expected = eta0 / (1 + steps * d)
    if not close(values, expected):
        variants = [
            (
                eta0 * np.exp(-d * steps),
                "this is exponential decay; the exercise asks for "
                "inverse-time decay, eta0 / (1 + t * d).",
            ),
            (
                eta0 / (1 + d) ** steps,
                "this decays exponentially; the exercise asks for eta0 / (1 + t * d).",
            ),
            (eta0 / (1 + steps) * d, "mind the parentheses: eta0 / (1 + t * d)."),
            (eta0 / 1 + steps * d, "mind the parentheses: eta0 / (1 + t * d)."),
            (
                eta0 * (1 - steps * d),
                "this is a linear decay (it even goes negative); the "
                "exercise asks for eta0 / (1 + t * d).",
            ),
        ]
        expect(
            np.isclose(values[0], eta0),
            f"decayed_learning_rate: at t = 0 it must return "
            f"eta0 ({eta0}), the starting learning rate. {hint}",
        )
        for variant, message in variants:
            expect(not close(values, variant), f"decayed_learning_rate: {message}")
        raise AssertionError("decayed_learning_rate should return eta0 / (1 + t * d).")
    result = call(
        decayed_learning_rate,
        eta0,
        steps,
        d,
        hint="It must also work for an array of step numbers: use NumPy operations, "
        "not math.* functions or an `if` on t.",
    )
    expect(
        isinstance(result, np.ndarray) and close(result, expected),
        "decayed_learning_rate(eta0, t, d) with an array t should return the array of rates "
        "(whole-array operations work for numbers and arrays alike).",
    )


# --- regularisation ---------------------------------------------------------------------


def random_layers(rng, sizes, scale=0.8):
    return [
        (rng.normal(0, scale, (fan_in, fan_out)), rng.normal(0, 0.3, (1, fan_out)))
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
    ]


def random_sizes(rng, count):
    return [int(rng.integers(2, 6)) for _ in range(count)]


def numerical_penalty_gradient(w, reg, norm):
    """Numerical gradient of reg * sum(norm(w)) with respect to w."""
    work = w.copy()
    return numerical_gradient(lambda: reg * np.sum(norm(work)), work, GRAD_STEP)


def check_regularisation(fn, rng, kind):
    """The shared check of l2_regularisation and l1_regularisation."""
    name = fn.__name__
    for count in [3, 4]:
        layers = random_layers(rng, random_sizes(rng, count))
        for w, _ in layers:  # away from L1's kink at 0, where the numerical gradient is off
            w += np.sign(w) * 0.05
        reg = float(rng.choice([0.01, 0.1, 0.5]))
        result = call(fn, layers, reg)
        expect_tuple(result, name, 2)
        penalty, grads = result
        penalty = scalar(penalty, f"The penalty ({name}'s first value)")
        weights = [w for w, _ in layers]
        biases = [b for _, b in layers]
        norm = np.square if kind == "l2" else np.abs
        expected = reg * sum(np.sum(norm(w)) for w in weights)
        if not close(penalty, expected):
            if close(penalty, expected + reg * sum(np.sum(norm(b)) for b in biases)):
                raise AssertionError(
                    f"{name}: you are regularising the biases: only the weights w are "
                    "penalised (a bias only shifts a unit's output)."
                )
            expect(
                not close(penalty, expected / 2),
                f"{name}: this course uses Keras' convention, reg * sum(w ** 2), without 1/2.",
            )
            expect(
                not close(penalty, reg * sum(np.mean(norm(w)) for w in weights)),
                f"{name}: sum over the weights (np.sum), do not average them.",
            )
            expect(
                not close(penalty, reg * np.sum(norm(weights[-1]))),
                f"{name}: penalise the weights of every layer, not only the last one.",
            )
            if kind == "l1":
                expect(
                    not close(penalty, reg * sum(np.sum(w**2) for w in weights)),
                    f"{name}: the L1 penalty sums |w| (np.abs), not w ** 2.",
                )
            raise AssertionError(
                f"{name}: the penalty should be reg * sum("
                + ("w ** 2" if kind == "l2" else "|w|")
                + ") over the weights of every layer."
            )
        check_grads_structure(grads, layers, name)
        for number, ((dw, db), (w, _)) in enumerate(zip(grads, layers), start=1):
            expect(
                not np.any(db),
                f"{name}: you are regularising the biases: their gradient must be zeros "
                "(np.zeros_like(b)), only the weights are penalised.",
            )
            numeric = numerical_penalty_gradient(w, reg, norm)
            error = gradient_error(dw, numeric)
            if error < GRAD_TOLERANCE:
                continue
            if kind == "l2":
                expect(
                    not close(dw, reg * w),
                    f"{name}: the derivative of reg * w ** 2 is 2 * reg * w, not reg * w.",
                )
            else:
                expect(
                    not close(dw, reg * w),
                    f"{name}: the derivative of |w| is sign(w) (np.sign), not w.",
                )
                expect(
                    not close(dw, reg * np.abs(w)),
                    f"{name}: the derivative of |w| is sign(w) (np.sign), not |w|.",
                )
            expect(not close(dw, -numeric), f"{name}: the gradient has the wrong sign.")
            expect(not close(dw * reg, numeric), f"{name}: multiply the gradient by reg.")
            raise AssertionError(f"{name}: {gradient_mismatch(f'w (layer {number})', error)}")


@feedback_check("l2_regularisation")
def test_l2_regularisation(l2_regularisation, rng):
    check_regularisation(l2_regularisation, rng, "l2")


@feedback_check("l1_regularisation")
def test_l1_regularisation(l1_regularisation, rng):
    check_regularisation(l1_regularisation, rng, "l1")


# --- the ReLU network -------------------------------------------------------------------


@feedback_check("init_layers")
def test_init_layers(init_layers, rng):
    for sizes in [
        [int(rng.integers(8, 14)), int(rng.integers(10, 16)), int(rng.integers(6, 10)), 3],
        [int(rng.integers(20, 30)), int(rng.integers(4, 8))],
    ]:
        seed = int(rng.integers(1000))
        layers = call_with(init_layers, sizes, np.random.default_rng(seed), passed={1})
        expect(
            isinstance(layers, (list, tuple)) and len(layers) == len(sizes) - 1,
            f"init_layers({sizes}, rng) should return a list of {len(sizes) - 1} (w, b) pairs, "
            "one per layer.",
        )
        for number, (layer, fan_in, fan_out) in enumerate(
            zip(layers, sizes[:-1], sizes[1:]), start=1
        ):
            expect(
                isinstance(layer, (list, tuple)) and len(layer) == 2,
                "init_layers: each layer should be a pair (w, b).",
            )
            w, b = layer
            expect_array(w, f"w of layer {number}", kind="f")
            mistake = xavier_mistake(w, fan_in, fan_out, f"w of layer {number}")
            expect(mistake is None, f"init_layers: {mistake}")
            expect_array(b, f"b of layer {number}")
            expect(
                b.shape == (1, fan_out),
                f"init_layers: b of layer {number} has shape {b.shape}, expected "
                f"(1, {fan_out}): one row that is added to every sample.",
            )
            expect(not np.any(b), "init_layers: the biases should start at zero (as in Keras).")
        again = call_with(init_layers, sizes, np.random.default_rng(seed), passed={1})
        other = call_with(init_layers, sizes, np.random.default_rng(seed + 1), passed={1})
        expect(
            np.array_equal(layers[0][0], again[0][0]),
            "init_layers gives different weights with two generators of the same seed: draw "
            "them with the rng argument (rng.uniform), not np.random.",
        )
        expect(
            not np.array_equal(layers[0][0], other[0][0]),
            "init_layers gives the same weights whatever the generator: use the rng argument.",
        )


def relu_forward(layers, data, hidden=lambda z: np.maximum(z, 0), output=softmax):
    a = data
    for w, b in layers[:-1]:
        a = hidden(a @ w + b)
    w, b = layers[-1]
    return output(a @ w + b)


def relu_problem(rng, depth):
    """Random layers of ``depth`` layers, data (N, d_in) and labels (N,).

    No hidden unit's z lies within 1e-3 of ReLU's kink at 0, where centred differences of
    step GRAD_STEP would straddle it.
    """
    while True:
        sizes = [int(rng.integers(3, 6))] + [int(rng.integers(4, 7)) for _ in range(depth - 1)]
        sizes.append(int(rng.integers(2, 5)))
        layers = random_layers(rng, sizes, scale=0.7)
        n = int(rng.integers(6, 10))
        data = rng.normal(size=(n, sizes[0]))
        a, kinks = data, False
        for w, b in layers[:-1]:
            z = a @ w + b
            kinks = kinks or np.abs(z).min() < 1e-3
            a = np.maximum(z, 0)
        if not kinks:
            return layers, data, rng.integers(0, sizes[-1], size=n)


DEPTH_HINT = "layers can hold any number of (w, b) pairs, one included: loop over them."


@feedback_check("relu_network_forward")
def test_relu_network_forward(relu_network_forward, rng):
    for depth in [2, 3, 1]:
        layers, data, _ = relu_problem(rng, depth)
        n, d_out = len(data), layers[-1][0].shape[1]
        result = call(relu_network_forward, layers, data, hint=DEPTH_HINT)
        expect_array(result, "relu_network_forward's result")
        expect(
            result.shape == (n, d_out),
            f"relu_network_forward returned shape {result.shape}, expected (N, d_out) = "
            f"({n}, {d_out}).",
        )
        if close(result, relu_forward(layers, data)):
            continue
        exp_scores = np.exp(relu_forward(layers, data, output=lambda z: z))
        variants = [
            (
                relu_forward(layers, data, output=lambda z: softmax(np.maximum(z, 0))),
                "no ReLU on the last layer: the softmax takes its raw scores.",
            ),
            (
                relu_forward(layers, data, hidden=sigmoid),
                "the hidden layers use ReLU here, not the sigmoid.",
            ),
            (
                relu_forward(layers, data, hidden=lambda z: z),
                "apply relu after every hidden layer.",
            ),
            (
                relu_forward(layers, data, output=lambda z: z),
                "apply the softmax to the last layer's scores.",
            ),
            (
                exp_scores / exp_scores.sum(axis=0, keepdims=True),
                "the softmax normalised each "
                "column; each row (one sample) must sum to 1: sum over axis=1.",
            ),
        ]
        for variant, message in variants:
            expect(not close(result, variant), f"relu_network_forward: {message}")
        raise AssertionError(
            f"relu_network_forward's probabilities are wrong for a network of {depth} "
            f"layer(s): ReLU after every layer but the last, softmax after the last."
        )
    layers[-1] = (layers[-1][0], layers[-1][1] + 1000)
    with np.errstate(all="ignore"):
        result = call(relu_network_forward, layers, data)
    expect(
        np.all(np.isfinite(result)),
        "relu_network_forward returned NaN for scores around 1000: subtract each row's "
        "largest score before np.exp.",
    )


@feedback_check("dropout_forward")
def test_dropout_forward(dropout_forward, rng):
    a = np.abs(rng.normal(size=(200, 50))) + 0.1
    for keep_prob in [float(rng.choice([0.5, 0.6])), 0.8]:
        seed = int(rng.integers(1000))
        result = call_with(
            dropout_forward, a, keep_prob, np.random.default_rng(seed), True, passed={2}
        )
        expect_tuple(result, "dropout_forward", 2)
        out, mask = result
        expect_array(out, "out (first value)", shape=a.shape)
        expect_array(mask, "mask (second value)", shape=a.shape)
        kept = np.mean(out != 0)
        if abs(kept - (1 - keep_prob)) < 0.03 and abs(kept - keep_prob) > 0.03:
            raise AssertionError(
                f"with keep_prob={keep_prob} you kept {kept:.0%} of the units: keep_prob is the "
                "probability to KEEP a unit (rng.random(a.shape) < keep_prob)."
            )
        expect(
            abs(kept - keep_prob) < 0.03,
            f"with keep_prob={keep_prob} about {keep_prob:.0%} of the units should be kept; "
            f"you kept {kept:.0%}. Draw the mask with rng.random(a.shape) < keep_prob.",
        )
        values = out[out != 0] / a[out != 0]
        if np.allclose(values, 1):
            raise AssertionError(
                "dropout not rescaled: inverted dropout divides the kept activations by "
                "keep_prob, so that their expected value stays the same (and nothing changes "
                "at test time)."
            )
        if np.allclose(values, keep_prob):
            raise AssertionError("divide the kept activations by keep_prob, do not multiply by it.")
        expect(
            np.allclose(values, 1 / keep_prob),
            "the kept activations should be a / keep_prob.",
        )
        expect(
            close(mask, (out != 0) / keep_prob),
            "return the mask that multiplies a: 0 for a dropped unit, 1 / keep_prob for a kept "
            "one (the backward pass multiplies the gradient by it).",
        )
        again = call_with(
            dropout_forward, a, keep_prob, np.random.default_rng(seed), True, passed={2}
        )[0]
        expect(
            np.array_equal(again, out),
            "dropout_forward drops other units with two generators of the same seed: draw the "
            "mask with the rng argument (rng.random), not np.random.",
        )
        other = call_with(
            dropout_forward, a, keep_prob, np.random.default_rng(seed + 1), True, passed={2}
        )[0]
        expect(
            not np.array_equal(other, out),
            "dropout_forward drops the same units whatever the generator: use the rng argument.",
        )
    result = call_with(dropout_forward, a, 0.5, np.random.default_rng(0), False, passed={2})
    expect_tuple(result, "dropout_forward", 2)
    out = result[0]
    expect_array(out, "out at test time", shape=a.shape)
    if close(out, a * 0.5):
        raise AssertionError(
            "at test time inverted dropout does nothing: return a unchanged (scaling by "
            "keep_prob at test time is the old, non-inverted dropout)."
        )
    expect(
        close(out, a),
        "dropout applied at test time: with training=False return a unchanged (and a mask "
        "of ones).",
    )
    a32 = a[:20].astype(np.float32)
    result = call_with(dropout_forward, a32, 0.8, np.random.default_rng(0), True, passed={2})
    expect(
        all(getattr(value, "dtype", None) == np.float32 for value in result),
        "dropout_forward turned float32 activations into float64: cast the mask, "
        "(rng.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob. float32 networks "
        "train twice as fast.",
    )


def relu_loss(layers, data, labels):
    probs = relu_forward(layers, data)
    return -np.mean(np.log(probs[np.arange(len(data)), labels]))


def numerical_relu_grads(layers, data, labels):
    """Numerical gradients [dw1, db1, ...] of the ReLU network's loss."""
    work = copy.deepcopy(layers)
    return numerical_grads(lambda: relu_loss(work, data, labels), flat(work))


def relu_grads(layers, data, labels, mistake=None):
    """Gradients [(dw, db), ...] of the ReLU network's loss, or those of a known mistake."""
    a, caches = data, []
    for w, b in layers[:-1]:
        z = a @ w + b
        caches.append((a, z))
        a = np.maximum(z, 0)
    w, b = layers[-1]
    probs = softmax(a @ w + b)
    n = len(data)
    d_z = (probs - one_hot(labels, probs.shape[1])) / n
    grads = [(a.T @ d_z, d_z.sum(axis=0, keepdims=True))]
    for i in reversed(range(len(layers) - 1)):
        a_in, z = caches[i]
        d_a = d_z @ layers[i + 1][0].T
        if mistake == "relu derivative":
            d_z = d_a
        elif mistake == "sigmoid derivative":
            d_z = d_a * np.maximum(z, 0) * (1 - np.maximum(z, 0))
        else:
            d_z = d_a * (z > 0)
        grads.insert(0, (a_in.T @ d_z, d_z.sum(axis=0, keepdims=True)))
    return grads


RELU_MISTAKES = {
    "relu derivative": (
        "you forgot ReLU's derivative: multiply the incoming gradient by (z > 0), "
        "d_z = d_a * (z > 0)."
    ),
    "sigmoid derivative": "ReLU's derivative is (z > 0), not a * (1 - a) (the sigmoid's).",
}


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


def diagnose_relu_grads(student, numeric, errors, layers, data, labels):
    """Name the mistake of ReLU-network gradients that failed the numerical check."""
    n = len(data)
    mistake = scale_mistake(proportion(student, numeric), n)
    if mistake:
        return mistake
    for variant, message in RELU_MISTAKES.items():
        if all_close(student, flat(relu_grads(layers, data, labels, variant))):
            return message
    for k, (grad, num, error) in enumerate(zip(student, numeric, errors)):
        if error >= GRAD_TOLERANCE_RELU:
            what = f"{'wb'[k % 2]} of layer {k // 2 + 1}"
            mistake = bias_mistake(what, grad, num, n) if k % 2 else None
            return mistake or gradient_mismatch(
                what, error, f"(a network of {len(layers)} layer(s))", GRAD_TOLERANCE_RELU
            )
    return gradient_mismatch("the parameters", max(errors), tolerance=GRAD_TOLERANCE_RELU)


@feedback_check("relu_network_loss_and_grads")
def test_relu_network_loss_and_grads(relu_network_loss_and_grads, rng):
    name = "relu_network_loss_and_grads"
    for depth in [3, 2, 1]:
        layers, data, labels = relu_problem(rng, depth)
        n = len(data)
        result = call(
            relu_network_loss_and_grads,
            layers,
            data,
            labels,
            1.0,
            None,
            hint=DEPTH_HINT + " With keep_prob = 1 there is no dropout (rng is None).",
        )
        expect_tuple(result, name, 2)
        loss, grads = result
        loss = scalar(loss, f"The loss ({name}'s first value)")
        expected = relu_loss(layers, data, labels)
        if not close(loss, expected):
            expect(
                not close(loss, expected * n),
                f"{name}: the loss is a mean over the batch, not a sum.",
            )
            raise AssertionError(
                f"{name}: the loss is not the mean cross-entropy of the softmax outputs "
                f"(network of {depth} layer(s))."
            )
        check_grads_structure(grads, layers, name)
        numeric = numerical_relu_grads(layers, data, labels)
        student = flat(grads)
        errors = [gradient_error(g, h) for g, h in zip(student, numeric)]
        if max(errors) < GRAD_TOLERANCE_RELU:
            continue
        mistake = diagnose_relu_grads(student, numeric, errors, layers, data, labels)
        raise AssertionError(f"{name}: {mistake}")
    # dropout: the gradients must be those of the student's own loss with the same masks
    # (one hidden layer: its z does not depend on the masks, so it stays away from ReLU's kink)
    layers, data, labels = relu_problem(rng, 2)
    keep_prob, seed = 0.6, int(rng.integers(1000))
    result = call_with(
        relu_network_loss_and_grads,
        layers,
        data,
        labels,
        keep_prob,
        np.random.default_rng(seed),
        passed={4},
    )
    expect_tuple(result, name, 2)
    loss, grads = result
    loss = scalar(loss, f"The loss ({name}'s first value)")
    again = call_with(
        relu_network_loss_and_grads,
        layers,
        data,
        labels,
        keep_prob,
        np.random.default_rng(seed),
        passed={4},
    )
    expect(
        np.isclose(scalar(again[0], "The loss"), loss),
        f"{name} with dropout gives another loss for two generators of the same seed: draw the "
        "masks with rng (through dropout_forward), not np.random.",
    )
    expect(
        not np.isclose(loss, relu_loss(layers, data, labels)),
        f"{name} ignores keep_prob: with keep_prob < 1, apply dropout_forward (training=True) "
        "to the output of every hidden layer.",
    )
    check_grads_structure(grads, layers, name)
    work = copy.deepcopy(layers)

    def own_loss():
        loss = relu_network_loss_and_grads(
            work, data, labels, keep_prob, np.random.default_rng(seed)
        )[0]
        return float(loss)

    numeric = numerical_grads(own_loss, flat(work))
    error = max(gradient_error(g, h) for g, h in zip(flat(grads), numeric))
    expect(
        error < GRAD_TOLERANCE_RELU,
        f"{name}: with dropout (keep_prob={keep_prob}) your gradients do not match a numerical "
        f"gradient of your own loss with the same masks (relative error {error:.1e}, threshold "
        f"{GRAD_TOLERANCE_RELU:g}). In the backward pass, multiply the gradient by the same mask "
        "(0 or 1 / keep_prob) as the forward pass.",
    )


def reference_train(
    layers,
    data,
    labels,
    num_epoch,
    learning_rate,
    optimizer="momentum",
    beta=0.9,
    decay=0.0,
    reg_l2=0.0,
    reg_l1=0.0,
    mistake=None,
):
    """Full-batch training as train_network does it (one batch per epoch, no dropout)."""
    params = [p.copy() for p in flat(layers)]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    costs = []
    for t in range(num_epoch):
        pairs = list(zip(params[::2], params[1::2]))
        cost = relu_loss(pairs, data, labels)
        if mistake != "cost without penalties":
            cost += sum(reg_l2 * np.sum(w**2) + reg_l1 * np.sum(np.abs(w)) for w, _ in pairs)
        costs.append(cost)
        grads = flat(relu_grads(pairs, data, labels))
        if mistake != "no penalty gradients":
            for k in range(0, len(params), 2):
                grads[k] = grads[k] + 2 * reg_l2 * params[k] + reg_l1 * np.sign(params[k])
        eta = learning_rate / (1 + (t + (mistake == "decay from 1")) * decay)
        for k, grad in enumerate(grads):
            if optimizer == "sgd":
                params[k] = params[k] - eta * grad
            elif optimizer == "momentum":
                first[k] = beta * first[k] - eta * grad
                params[k] = params[k] + first[k]
            else:
                params[k], first[k], second[k] = adam(
                    params[k], grad, first[k], second[k], t + 1, eta, beta, 0.999, 1e-8
                )
    return params, costs


TRAIN_DEFAULTS = dict(
    optimizer="momentum", beta=0.9, decay=0.0, reg_l2=0.0, reg_l1=0.0, keep_prob=1.0, seed=0
)


def train_arguments(num_epoch, batch_size, learning_rate, **settings):
    """train_network's arguments after (layers, data, labels), all positional, in order.

    (Positional, so that a student's function whose keywords are misspelt still runs.)
    """
    return (num_epoch, batch_size, learning_rate, *{**TRAIN_DEFAULTS, **settings}.values())


@feedback_check("train_network")
def test_train_network(train_network, rng):
    name = "train_network"
    n = int(rng.integers(24, 31))
    data, labels = blobs(rng, n, 4, 3)
    layers = random_layers(rng, [4, 6, 3], scale=0.6)
    hint = (
        "train_network calls your minibatches, relu_network_loss_and_grads, the "
        "regularisations, decayed_learning_rate and the optimiser steps: check them first."
    )
    settings = [
        dict(optimizer="sgd", learning_rate=0.5),
        dict(optimizer="momentum", learning_rate=0.2, beta=0.8, decay=0.3),
        dict(optimizer="adam", learning_rate=0.05, beta=0.85, reg_l2=0.02, reg_l1=0.01),
    ]
    for setting in settings:
        described = ", ".join(f"{key}={value!r}" for key, value in setting.items())
        arguments = train_arguments(num_epoch=3, batch_size=n + 5, **setting)
        result = call_with(train_network, layers, data, labels, *arguments, hint=hint)
        expect_tuple(result, name, 2)
        trained, costs = result
        expect(
            isinstance(trained, (list, tuple))
            and len(trained) == len(layers)
            and all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in trained)
            and all(np.shape(a) == np.shape(b) for a, b in zip(flat(trained), flat(layers))),
            f"{name} should return the trained layers as a list of (w, b) pairs shaped like "
            "the layers it was given.",
        )
        expect(
            np.ndim(costs) == 1 and len(costs) == 3,
            f"{name} should return one cost per batch: 3 epochs of one batch give 3 costs, "
            f"not {len(costs) if np.ndim(costs) == 1 else type(costs).__name__}.",
        )
        params, expected_costs = reference_train(layers, data, labels, 3, **setting)
        if all_close(flat(trained), params, 1e-5) and close(costs, expected_costs, 1e-5):
            continue
        expect(
            not all_close(flat(trained), flat(layers)),
            f"{name} returned the initial layers: return the updated parameters.",
        )
        if setting.get("reg_l2"):
            expect(
                not close(
                    costs,
                    reference_train(
                        layers, data, labels, 3, **setting, mistake="cost without penalties"
                    )[1],
                    1e-5,
                ),
                f"{name}: each cost should include the penalties: loss + L2 penalty + L1 penalty.",
            )
            expect(
                not all_close(
                    flat(trained),
                    reference_train(
                        layers, data, labels, 3, **setting, mistake="no penalty gradients"
                    )[0],
                    1e-5,
                ),
                f"{name}: add the gradients of the L2 and L1 penalties to the loss's gradients "
                "before the update.",
            )
        if setting.get("decay"):
            expect(
                not all_close(
                    flat(trained),
                    reference_train(layers, data, labels, 3, **dict(setting, decay=0.0))[0],
                    1e-5,
                ),
                f"{name}: the learning rate must decay, decayed_learning_rate(learning_rate, "
                "t, decay) with t the number of steps taken.",
            )
            expect(
                not all_close(
                    flat(trained),
                    reference_train(layers, data, labels, 3, **setting, mistake="decay from 1")[0],
                    1e-5,
                ),
                f"{name}: t counts the steps taken before this one, 0 for the first batch.",
            )
        if setting["optimizer"] != "sgd":
            expect(
                not all_close(
                    flat(trained),
                    reference_train(layers, data, labels, 3, **dict(setting, optimizer="sgd"))[0],
                    1e-5,
                ),
                f"{name} ignores optimizer={setting['optimizer']!r}: it took plain gradient steps.",
            )
        if not close(costs, expected_costs, 1e-5):
            raise AssertionError(
                f"{name} ({described}; one batch of all samples, 3 epochs): the costs are "
                "not the loss plus penalties of each step, computed before its update."
            )
        raise AssertionError(
            f"{name} ({described}; one batch of all samples, 3 epochs): the trained "
            "parameters are not those of 3 steps of this optimiser."
        )
    batch_size, seed = int(rng.choice([5, 7])), int(rng.integers(1000))
    count = 2 * math.ceil(n / batch_size)

    def costs_of(**settings):
        arguments = train_arguments(
            num_epoch=2, batch_size=batch_size, learning_rate=0.1, **settings
        )
        result = call_with(train_network, layers, data, labels, *arguments, hint=hint)
        expect_tuple(result, name, 2)
        return np.asarray(result[1], dtype=float)

    costs = costs_of(seed=seed)
    expect(
        len(costs) == count,
        f"with {n} samples, batch_size={batch_size} and 2 epochs, {name} should return "
        f"{count} costs, one per batch, not {len(costs)}.",
    )
    expect(
        close(costs_of(seed=seed), costs, 1e-9),
        f"{name} gives other costs for the same seed: make every random choice with "
        "rng = np.random.default_rng(seed), created once at the start.",
    )
    expect(
        not close(costs_of(seed=seed + 1), costs, 1e-9),
        f"{name} gives the same costs whatever the seed: shuffle with rng = "
        "np.random.default_rng(seed), passed to minibatches.",
    )
    expect(
        not close(costs_of(seed=seed, keep_prob=0.5), costs, 1e-9),
        f"{name} ignores keep_prob: pass it (and rng) to relu_network_loss_and_grads.",
    )
