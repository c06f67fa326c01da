"""Feedback checks for notebook 05, part 3b: the L2 and L1 penalties.

Judged against the solution's recorded results (``recordings/<exercise>.npz``); the usual
mistakes are named from the recorded results of the wrong answers in
``pixelschool_admin/answers/mlp_regularisation.py``, and the messages quote each penalty's own
formula and gradient.
"""

import numpy as np

from pixelschool.checks.compare import close, verdict
from pixelschool.checks.framework import feedback_check
from pixelschool.checks.gradient_checks import expect_number_and_grads, random_layers

__all__ = ["test_l2_regularisation", "test_l1_regularisation"]

# --- l2_regularisation and l1_regularisation ----------------------------------------------

# What each penalty is: its formula and gradient, quoted by its messages.
PENALTIES = {
    "l2_regularisation": ("reg * sum(w ** 2)", "2 * reg * w"),
    "l1_regularisation": ("reg * sum(|w|)", "reg * sign(w)"),
}


def penalty_messages(name):
    """``{mistake: message}`` of a penalty's recorded mistakes, quoting its own formula."""
    formula, gradient = PENALTIES[name]
    shared = {
        "penalised_biases": f"{name}: you are regularising the biases: only the weights w are "
        f"penalised, {formula} (a bias only shifts a unit's output).",
        "bias_gradient": f"{name}: you are regularising the biases: their gradient must be "
        f"zeros (np.zeros_like(b)), only the weights are penalised ({gradient}).",
        "half": f"{name}: this course uses Keras' convention, {formula}, without 1/2.",
        "mean": f"{name}: sum over the weights (np.sum), do not average them: {formula}.",
        "last_layer": f"{name}: penalise the weights of every layer, not only the last one: "
        f"{formula} over all the layers.",
    }
    own = {
        "l2_regularisation": {
            "no_two": f"{name}: the derivative of reg * w ** 2 is 2 * reg * w, not reg * w.",
        },
        "l1_regularisation": {
            "gradient_w": f"{name}: the derivative of |w| is sign(w) (np.sign), not w.",
            "gradient_abs": f"{name}: the derivative of |w| is sign(w) (np.sign), not |w|.",
            "squares": f"{name}: the L1 penalty sums |w| (np.abs), not w ** 2: {formula}.",
            "no_reg": f"{name}: multiply the gradient by reg: the gradient of {formula} is "
            f"{gradient}.",
        },
    }
    return {**shared, **own[name]}


def regularisation_inputs(rng):
    """(layers, reg): one layer with biases of 1, then random networks of 2 and 3 layers."""
    cases = [([(np.array([[1.0, -2.0]]), np.ones((1, 2)))], 0.5)]
    for count in [3, 4]:
        sizes = [int(rng.integers(2, 6)) for _ in range(count)]
        cases.append((random_layers(rng, sizes), float(rng.choice([0.01, 0.1, 0.5]))))
    return cases


def penalty_relations(name):
    """Relations of a penalty's gradients to the expected ones: their sign, the factor reg,
    gradients on the biases."""

    def weight_gradients(result, case):
        return [dw for dw, _ in result[1]], [dw for dw, _ in case.expected[1]]

    def wrong_sign(result, case):
        mine, expected = weight_gradients(result, case)
        if close(mine, [-dw for dw in expected]):
            return f"{name}: the gradient has the wrong sign."
        return None

    def without_reg(result, case):
        mine, expected = weight_gradients(result, case)
        if close([case.args[1] * dw for dw in mine], expected):
            return f"{name}: multiply the gradient by reg ({PENALTIES[name][1]})."
        return None

    def biases(result, case):
        if any(np.any(db) for _, db in result[1]):
            return penalty_messages(name)["bias_gradient"]
        return None

    return [wrong_sign, without_reg, biases]


def penalty_otherwise(name):
    """The message when no mistake explains a penalty's result."""
    formula, gradient = PENALTIES[name]

    def otherwise(result, case):
        if not close(result[0], case.expected[0]):
            return f"{name}: the penalty should be {formula} over the weights of every layer."
        pairs = enumerate(zip(result[1], case.expected[1]), 1)
        number = next((k for k, ((dw, _), (mine, _)) in pairs if not close(dw, mine)), 1)
        return f"{name}: the gradient of w (layer {number}) should be {gradient}."

    return otherwise


def judge_penalty(results, cases, name):
    expect_number_and_grads(results, cases, name, "The penalty")
    verdict(
        results,
        cases,
        name,
        penalty_messages(name),
        relations=penalty_relations(name),
        otherwise=penalty_otherwise(name),
    )


def judge_l2(results, cases):
    judge_penalty(results, cases, "l2_regularisation")


def judge_l1(results, cases):
    judge_penalty(results, cases, "l1_regularisation")


@feedback_check("l2_regularisation", inputs=regularisation_inputs, judge=judge_l2)
def test_l2_regularisation(l2_regularisation, cases):
    for case in cases:
        cases.call(l2_regularisation, case)


@feedback_check("l1_regularisation", inputs=regularisation_inputs, judge=judge_l1)
def test_l1_regularisation(l1_regularisation, cases):
    for case in cases:
        cases.call(l1_regularisation, case)
