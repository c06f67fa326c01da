"""Feedback checks for notebook 04, part 2: the two-layer network's backward pass
(``two_layer_backward_mse``, ``two_layer_backward_cross_entropy``).

Both are judged against recorded expectations (``pixelschool/checks/recordings``): the
solution's loss and gradients and those of the usual mistakes
(``pixelschool_admin/answers/backprop_network.py``) on the same networks, each gradient with
its own diagnosis.
"""

import numpy as np

from pixelschool.checks.backprop_numerical import one_number
from pixelschool.checks.compare import close, placeholder, verdict
from pixelschool.checks.framework import (
    describe,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
)
from pixelschool.checks.loops import forbid_loops

__all__ = ["test_two_layer_backward_mse", "test_two_layer_backward_cross_entropy"]


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
    for the cross-entropy. N > C and D, C < H, so that each typical mistake
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


# What each named mistake of the backward passes gets wrong; {n} is N, {d} C, {mean} where
# the mean's factor goes (the loss of the exercise).
NETWORK_MESSAGES = {
    "sign": "every gradient has the wrong sign: the loss grows along the gradient, so d_a2 "
    "is built from a2 - targets, not targets - a2.",
    "times_n": "every gradient is N = {n} times too large (off by the batch size): the loss is "
    "a mean {mean}, and so does every gradient after it.",
    "divided_twice": "every gradient is N = {n} times too small: you divided by the batch size "
    "twice (once in d_z2 is enough; it flows back to every gradient).",
    "bias_mean": "the bias gradients are N times too small: you averaged d_z over the batch, "
    "but d_z already carries the 1/N of the loss, so sum it over the rows "
    "(np.sum(..., axis=0, keepdims=True)).",
    "times_d_out": "every gradient is C = {d} times too large: you divided by N only, but "
    "the MSE is the mean over all N x C entries (targets.size).",
    "times_n_d_out": "every gradient is N x C = {nd} times too large: the loss is a mean, "
    "so d_a2 = 2 (a2 - targets) / (N C).",
    "half": "every gradient is half what it should be: the derivative of (a2 - y)**2 is "
    "2 (a2 - y); keep the 2.",
    "no_output_slope": "you forgot the derivative of the output sigmoid: "
    "d_z2 = d_a2 * a2 * (1 - a2).",
    "sigmoid_slope": "you multiplied by a2 * (1 - a2) at the output: that is the sigmoid's "
    "derivative. For softmax followed by cross-entropy the two derivatives combine into "
    "d_z2 = (a2 - targets) / N, with nothing more.",
    "no_hidden_slope": "you forgot the derivative of the hidden sigmoid: "
    "d_z1 = (d_z2 @ w2.T) * a1 * (1 - a1). d_w2 and d_b2 are right.",
}
MEAN = {
    "mse": "over all N x C entries, so d_z2 carries 1/(N C)",
    "cross_entropy": "over the N samples, so d_z2 carries 1/N",
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
        expect_array(grad, f"d_{what}")
        expect(
            grad.shape == param.shape,
            f"{name}: d_{what} has shape {grad.shape}, "
            + shape_advice(what, grad.shape, param.shape, n),
            mistake="gradient_transposed",
        )


def shape_advice(what, shape, param_shape, n):
    """What a gradient of the wrong ``shape`` for the parameter ``what`` says of the mistake."""
    if what.startswith("b") and shape == (n, param_shape[1]) and n != 1:
        return (
            "one row per sample: the bias gradient is not summed over the batch. The bias "
            f"{what} is shared by all N samples, so its gradient is the sum of d_z over the "
            "rows: np.sum(..., axis=0, keepdims=True)."
        )
    if what.startswith("b") and shape == param_shape[1:]:
        return (
            f"but a gradient has the shape of its parameter, {param_shape}: sum with keepdims=True."
        )
    if what.startswith("w") and shape == param_shape[::-1]:
        return (
            f"the transpose of {what}'s {param_shape}: the gradient of a weight is "
            "(layer input).T @ d_z."
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
    factor = "2 / (N C) and the 2 of the square" if kind == "mse" else "1 / N"

    def relation(result, case):
        grads = np.concatenate([np.ravel(g) for g in result[1:]])
        right = np.concatenate([np.ravel(g) for g in case.expected[1:]])
        scale = (grads @ right) / (right @ right) if right @ right else 0.0
        if scale == 0 or close(scale, 1.0) or not close(grads, scale * right):
            return None
        return (
            f"{name}: every gradient is {scale:.3g} times the right one: one factor is wrong in "
            f"d_z2, and it flows back to every gradient. Check the factor of the mean "
            f"({factor})."
        )

    return relation


def wrong_gradients(name, kind):
    """The message when no mistake explains the gradients: which are wrong, where to look."""
    output_step = f"d_z2 (your answer to question {3 if kind == 'mse' else 4})"

    def message(result, case):
        errors = {}  # the relative error of each wrong gradient, as a gradient check prints it
        for what, grad, right in zip(PARAMETERS, result[1:], case.expected[1:]):
            if not close(grad, right):
                ratio = np.abs(grad - right) / np.maximum(1e-8, np.abs(grad) + np.abs(right))
                errors[f"d_{what}"] = float(np.max(ratio))
        if set(errors) <= {"d_w1", "d_b1"}:
            where = (
                "d_w2 and d_b2 are right, so d_z2 is right: check the steps after it, "
                "d_a1 = d_z2 @ w2.T, d_z1 = d_a1 * a1 * (1 - a1), then "
                "d_w1 = data.T @ d_z1 and d_b1 = the sum of d_z1 over the rows."
            )
        else:
            where = (
                f"start with the output layer: {output_step}, then d_w2 = a1.T @ d_z2 "
                "and d_b2 = the sum of d_z2 over the rows."
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
