"""Feedback checks for notebook 05, part 1: activations and the two-layer sigmoid network."""

import copy

import numpy as np

from coursekit.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
)
from coursekit.checks.mlp_common import (
    GRAD_TOLERANCE,
    NAMES,
    SHAPES_HINT,
    all_close,
    bias_mistake,
    bias_shape_mistake,
    close,
    gradient_error,
    gradient_mismatch,
    near,
    numerical_grads,
    one_hot,
    proportion,
    scalar,
    scale_mistake,
    sigmoid,
    softmax,
)

__all__ = [
    "test_sigmoid",
    "test_relu",
    "test_learn_once_mse",
    "test_learn_once_cross_entropy",
    "test_forward",
]

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
