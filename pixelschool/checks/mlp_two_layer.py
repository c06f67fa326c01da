"""Feedback checks for notebook 05, part 1: activations and the two-layer sigmoid network.

Every check here is driven by recordings: ``inputs(rng)`` gives the calls, the solution's results
and those of the usual mistakes (``pixelschool_admin/answers/mlp_two_layer.py``) are recorded by
``make build``, and the judges say which mistake a student's results match. A step of gradient
descent is judged in two parts, the loss first, then the updated parameters.
"""

import numpy as np

from pixelschool.checks.compare import close, verdict
from pixelschool.checks.framework import (
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
)
from pixelschool.checks.mistakes import named
from pixelschool.checks.mlp_common import (
    NAMES,
    SHAPES_HINT,
    all_finite,
    bias_shape_mistake,
    judge_part,
    no_placeholder,
    scalar,
)

__all__ = [
    "test_sigmoid",
    "test_relu",
    "test_learn_once_mse",
    "test_learn_once_cross_entropy",
    "test_forward",
]

LARGE = 30  # |x| above which a sigmoid's NaN comes from exp overflowing (inputs: ±40, ±1000)
OVERFLOW = (
    "returned NaN or inf for scores around 1000: np.exp(1000) overflows. Subtract each "
    "row's largest score before np.exp (the softmax does not change)."
)

# --- activations ----------------------------------------------------------------------


def sigmoid_inputs(rng):
    """Arrays x: sigmoid(log 3) = 0.75, then |x| up to 1000 (exp overflows), then random
    arrays of one, two and three axes."""
    cases = [(np.array([0.0, np.log(3)]),), (np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]),)]
    shapes = [(int(rng.integers(3, 8)),), (int(rng.integers(2, 5)), int(rng.integers(2, 6)))]
    for shape in shapes + [(2, 3, int(rng.integers(2, 4)))]:
        cases.append((rng.normal(0, 3, size=shape),))
    return cases


SIGMOID_MESSAGES = {
    "minus_sign": "sigmoid: mind the minus sign: sigmoid(x) = 1 / (1 + exp(-x)) grows with x "
    "(sigmoid(3) is about 0.95); yours decreases.",
    "tanh": "sigmoid: that is tanh, with values in (-1, 1); sigmoid's lie in (0, 1).",
    "derivative": "sigmoid: you returned the derivative sigmoid(x) (1 - sigmoid(x)), not the "
    "function.",
}


def wrong_for_large_x(result, case):
    if np.abs(case.args[0]).max() > LARGE:
        return "sigmoid is wrong for large |x| (x = ±40, ±1000)."
    return None


def judge_sigmoid(results, cases):
    no_placeholder(results, cases, "sigmoid")
    for result, case in zip(results, cases):
        x = case.args[0]
        expect_array(result, "sigmoid's result", shape=x.shape, kind="f")
        bad = ~np.isfinite(result)
        expect(
            not bad.any() or np.abs(x[bad]).min() <= LARGE,
            "sigmoid returned NaN for large inputs (x = 1000): exp(x) / (1 + exp(x)) becomes "
            "inf / inf. Write it as 1 / (1 + np.exp(-x)), which tends to 1 / inf = 0 or "
            "1 / 1 = 1.",
            mistake="overflow",
        )
    verdict(
        results,
        cases,
        "sigmoid",
        SIGMOID_MESSAGES,
        relations=[wrong_for_large_x],
        otherwise="sigmoid's values are not 1 / (1 + exp(-x)).",
    )


@feedback_check("sigmoid", inputs=sigmoid_inputs, judge=judge_sigmoid)
def test_sigmoid(sigmoid_fn, cases):
    cases.call_all(sigmoid_fn)  # exp(1000) overflows to inf: call_all silences it


def relu_inputs(rng):
    """Arrays x, each with a negative entry, one in (0, 1) and one above 1: a fixed row,
    then random float64 arrays and a float32 one (relu keeps the dtype)."""
    cases = [(np.array([[-2.0, 0.0, 3.5]]),)]
    for dtype in (np.float64, np.float64, np.float32):
        x = rng.normal(size=(int(rng.integers(2, 5)), int(rng.integers(3, 6))))
        x.flat[:3] = -abs(x.flat[0]) - 0.5, abs(x.flat[1]) + 1.5, rng.uniform(0.1, 0.9)
        cases.append((x.astype(dtype),))
    return cases


RELU_MESSAGES = {
    "abs": "relu: negative values must become 0, not their absolute value.",
    "clip": "relu: ReLU does not stop at 1: max(0, x) keeps every positive value.",
    "derivative": "relu: you returned the derivative of ReLU (x > 0), not ReLU itself.",
    "leaky": "relu: negative values become exactly 0 (yours is a leaky ReLU).",
}


def judge_relu(results, cases):
    no_placeholder(results, cases, "relu")
    for result, case in zip(results, cases):
        x = case.args[0]
        expect_array(result, "relu's result")
        if result.shape != x.shape and result.shape in [(x.shape[1],), (x.shape[0],), ()]:
            raise named(
                f"relu returned shape {result.shape} for an input of shape {x.shape}: np.max "
                "reduces an array along an axis; np.maximum(x, 0) compares entry by entry.",
                "reduced_axis",
            )
        expect(result.shape == x.shape, f"relu returned shape {result.shape}, expected {x.shape}.")
    verdict(results, cases, "relu", RELU_MESSAGES, otherwise="relu's values are not max(0, x).")
    for result, case in zip(results, cases):
        expect(
            result.dtype == case.args[0].dtype,
            f"relu turned {case.args[0].dtype} into {result.dtype}: keep the input's dtype "
            "(np.maximum(x, 0) does), float32 networks run twice as fast.",
            mistake="float64",
        )


@feedback_check("relu", inputs=relu_inputs, judge=judge_relu)
def test_relu(relu_fn, cases):
    cases.call_all(relu_fn)


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


def learn_once_mse_inputs(rng):
    """(w1, b1, w2, b2, data, targets, learning_rate): a network of zeros, whose outputs are
    all sigmoid(0) = 0.5 (loss 0.25 on targets 1), then two random problems."""
    zeros = [np.zeros((2, 3)), np.zeros((1, 3)), np.zeros((3, 1)), np.zeros((1, 1))]
    cases = [(*zeros, np.ones((4, 2)), np.ones((4, 1)), 1.0)]
    for _ in range(2):
        params, data = two_layer_problem(rng)
        cases.append((*params, data, rng.random((len(data), params[2].shape[1])), 0.3))
    return cases


def learn_once_cross_entropy_inputs(rng):
    """(w1, b1, w2, b2, data, labels_train, learning_rate): a network of zeros (four equally
    likely classes, loss log 4), two random problems, then one whose scores are about 1000."""
    zeros = [np.zeros((2, 3)), np.zeros((1, 3)), np.zeros((3, 4)), np.zeros((1, 4))]
    cases = [(*zeros, np.ones((2, 2)), np.array([0, 0]), 1.0)]
    for shift in (0, 0, 1000):
        (w1, b1, w2, b2), data = two_layer_problem(rng)
        labels = rng.integers(0, w2.shape[1], size=len(data))
        cases.append((w1, b1, w2, b2 + shift, data, labels, 0.3))
    return cases


def batch_size(case):
    return len(case.args[4])


def d_out(case):
    return case.args[2].shape[1]


STEP_MESSAGES = {  # the updated parameters of learn_once_mse and learn_once_cross_entropy
    "batch_factor": lambda result, case: (
        f"your gradient is N = {batch_size(case)} times too large (N, the batch size). The "
        "loss is a mean over the N samples, so its gradient carries the batch-size factor "
        "1 / N: divide by N once, where the backward pass starts."
    ),
    "divided_twice": lambda result, case: (
        f"your gradient is N = {batch_size(case)} times too small: you divided by the batch "
        "size N twice. Divide once, where the gradient of the loss starts (d_z2)."
    ),
    "sum": lambda result, case: (
        f"your gradient is N x d_out = {batch_size(case) * d_out(case)} times too large: the "
        "loss is the mean of the squared errors over all N x d_out entries, d_a2 = 2 * "
        "(a2 - targets) / a2.size. (N is the batch-size factor.)"
    ),
    "per_sample_mean": lambda result, case: (
        f"your gradient is d_out = {d_out(case)} times too large: the mean runs over all "
        "N x d_out entries, so d_a2 = 2 * (a2 - targets) / (N * d_out) (a2.size)."
    ),
    "half": "your gradient is half the right one: the derivative of (a2 - y)**2 is 2 (a2 - y).",
    "output_derivative": "you forgot the derivative of the output sigmoid: between the loss's "
    "gradient d_a2 and d_z2 stands the sigmoid's slope, a2 * (1 - a2), entry by entry.",
    "hidden_derivative": "you forgot the derivative of the hidden sigmoid: the gradient that "
    "comes back through w2 still has to pass the hidden sigmoid, whose slope is a1 * (1 - a1).",
    "z_derivative": "the sigmoid's derivative is a * (1 - a) with a = sigmoid(z), the layer's "
    "output; you used z * (1 - z).",
    "softmax_derivative": "with a softmax output and the cross-entropy, d_z2 is simply "
    "(a2 - y) / N: do not multiply by a2 * (1 - a2) (that is the sigmoid's derivative, for "
    "the MSE network).",
    "bias_mean": lambda result, case: (
        f"the gradients of the biases are N = {batch_size(case)} times too small: you averaged "
        "over the batch (np.mean), but d_z already holds the factor 1 / N. A bias is added to "
        "every sample, so its gradient sums their contributions: "
        "np.sum(d_z, axis=0, keepdims=True)."
    ),
    "bias_sum_all": "the gradient of b2 is one number repeated: you summed d_z2 over all its "
    "axes. Sum over the samples only, np.sum(d_z2, axis=0, keepdims=True).",
    "updated_w2": "you backpropagated through the updated w2. Compute every gradient first "
    "(d_a1 = d_z2 @ w2.T with the w2 of the forward pass), then update the parameters.",
    "ascent": "your step goes uphill: gradient descent subtracts the gradient, "
    "param = param - learning_rate * gradient.",
    "no_learning_rate": "your step ignores the learning rate: "
    "param = param - learning_rate * gradient.",
    "learning_rate_twice": "you multiplied the gradient by the learning rate twice.",
}

LOSS_MESSAGES = {  # their loss; "{name}" is the exercise
    "loss_after_update": "{name} returned the loss after the update: return the loss of the "
    "forward pass, computed before the parameters change.",
    "loss_sum": "{name}: the loss is a mean, not a sum.",
    "loss_row_sums": "{name}: the loss is the mean over all N x d_out entries, "
    "np.mean((a2 - targets) ** 2), not a mean over the samples of a sum.",
}

OUTPUT_LAYER = {  # what d_z2 is made of, without handing over the line
    "mse": "d_z2 is the derivative of the mean over all N x d_out entries times the output "
    "sigmoid's slope",
    "ce": "with the softmax and the cross-entropy, d_z2 is the difference between the outputs "
    "and the one-hot targets, divided by N",
}
LOSS = {
    "mse": "the mean squared error of sigmoid outputs, np.mean((a2 - targets) ** 2).",
    "ce": "the cross-entropy of the softmax outputs, -sum(y * log(a2)) / N.",
}


def check_step_types(result, case, name):
    """The five values of a step, each of the right kind and shape."""
    expect_tuple(result, name, 5)
    n = batch_size(case)
    for number, (what, old, value) in enumerate(zip(NAMES, case.args, result), start=1):
        expect_array(value, f"The new {what} (value {number} of 5)")
        if what[0] == "b":
            mistake = bias_shape_mistake(f"The new {what}", value.shape, n, old.shape[1])
            expect(mistake is None, f"{name}: {mistake}", mistake="not_summed")
        expect(
            value.shape == old.shape,
            f"The new {what} has shape {value.shape}; it must keep the shape of {what}, "
            f"{old.shape}.",
        )
    scalar(result[4], f"The loss returned by {name} (5th value)")
    if case.args[3].max() > 500:  # the scores are about 1000
        expect(all_finite(result), f"{name} {OVERFLOW}", mistake="overflow")


def wrong_layer(name, output):
    """The message for updated parameters no recorded mistake explains: which layer is wrong
    (the output layer's gradient flows into the hidden layer's, so it is named first)."""

    def message(result, case):
        wrong = [what for what, r, e in zip(NAMES, result, case.expected) if not close(r, e)]
        if {"w2", "b2"} & set(wrong):
            advice = (
                f"Start with the output layer: {OUTPUT_LAYER[output]}; d_w2 pairs the hidden "
                "activations with d_z2 (shapes (d_h, N) and (N, d_out)), and d_b2 sums d_z2 "
                "over the batch, keeping the bias's (1, d_out) shape."
            )
        else:
            advice = (
                "The output layer is right; look at the hidden layer: d_z1 is d_z2 sent back "
                "through w2, times the hidden sigmoid's slope; d_w1 pairs the data with d_z1, "
                "and d_b1 sums d_z1 over the batch, keeping the bias's (1, d_h) shape."
            )
        verb = "is" if len(wrong) == 1 else "are"
        return (
            f"{name}: the new {', '.join(wrong)} {verb} not what one step of gradient descent "
            f"gives, param - learning_rate * gradient. {advice}"
        )

    return message


def step_judge(name, output):
    """The judge of learn_once_mse (output "mse") or learn_once_cross_entropy ("ce")."""

    def judge(results, cases):
        for result, case in zip(results, cases):
            check_step_types(result, case, name)
        judge_part(
            results,
            cases,
            lambda step: step[4],
            name,
            {key: text.format(name=name) for key, text in LOSS_MESSAGES.items()},
            otherwise=f"{name}: the loss is not {LOSS[output]}",
        )
        judge_part(
            results,
            cases,
            lambda step: tuple(step[:4]),
            name,
            {key: prefixed(name, text) for key, text in STEP_MESSAGES.items()},
            otherwise=wrong_layer(name, output),
        )

    return judge


def prefixed(name, text):
    if callable(text):
        return lambda result, case: f"{name}: {text(result, case)}"
    return f"{name}: {text}"


@feedback_check(
    "learn_once_mse", inputs=learn_once_mse_inputs, judge=step_judge("learn_once_mse", "mse")
)
def test_learn_once_mse(learn_once_mse, cases):
    cases.call_all(learn_once_mse, hint=SHAPES_HINT)


@feedback_check(
    "learn_once_cross_entropy",
    inputs=learn_once_cross_entropy_inputs,
    judge=step_judge("learn_once_cross_entropy", "ce"),
)
def test_learn_once_cross_entropy(learn_once_cross_entropy, cases):
    cases.call_all(learn_once_cross_entropy, hint=SHAPES_HINT)


# --- forward -------------------------------------------------------------------------


def forward_inputs(rng):
    """(w1, b1, w2, b2, data): a network whose hidden units are all 0.5, so that the scores
    of class 1 are 1 above class 0's (probability sigmoid(1)); two random networks; one
    whose scores are about 1000."""
    w1, b1, w2, b2 = np.zeros((2, 3)), np.zeros((1, 3)), np.ones((3, 2)), np.array([[0.0, 1.0]])
    cases = [(w1, b1, w2, b2, np.ones((4, 2)))]
    for shift in (0, 0, 1000):
        (w1, b1, w2, b2), data = two_layer_problem(rng)
        cases.append((w1, b1, w2, b2 + shift, data))
    return cases


FORWARD_MESSAGES = {
    "sigmoid_output": "forward: the output layer of this network is a softmax, not a sigmoid: "
    "the probabilities of each sample must sum to 1.",
    "scores": "forward: you returned the scores z2: apply the softmax to turn them into "
    "probabilities.",
    "softmax_columns": "forward: the softmax normalised each column; each row (one sample) "
    "must sum to 1: sum over axis=1.",
    "linear_hidden": "forward: apply the sigmoid to the hidden layer: "
    "a1 = sigmoid(data @ w1 + b1).",
    "relu_hidden": "forward: this network's hidden layer is a sigmoid, not a ReLU.",
}


def judge_forward(results, cases):
    no_placeholder(results, cases, "forward")
    for result, case in zip(results, cases):
        n, classes = batch_size(case), d_out(case)
        expect_array(result, "forward's result")
        if result.shape == (n,):
            raise named(
                "forward returned one value per sample (the predicted classes?). Return the "
                f"probabilities, shape (N, d_out) = ({n}, {classes}); the predicted class is "
                "their argmax over axis 1.",
                "labels_not_probabilities",
            )
        expect(
            result.shape == (n, classes),
            f"forward returned shape {result.shape}, expected (N, d_out) = ({n}, {classes}).",
        )
        if case.args[3].max() > 500:
            expect(all_finite(result), f"forward {OVERFLOW}", mistake="overflow")
    verdict(
        results,
        cases,
        "forward",
        FORWARD_MESSAGES,
        otherwise="forward's probabilities are not softmax(sigmoid(data @ w1 + b1) @ w2 + b2).",
    )


@feedback_check("forward", inputs=forward_inputs, judge=judge_forward)
def test_forward(forward, cases):
    cases.call_all(forward, hint=SHAPES_HINT)
