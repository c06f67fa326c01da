"""Feedback check for notebook 03's svm_loss_and_grad, the multiclass SVM (hinge) loss.

Judged against recordings (``recordings/svm_loss_and_grad.npz``): the solution's results on
the inputs below and those of the usual mistakes (``pixelschool_admin/answers/softmax_svm.py``),
whose messages are here. Relations computed from the expected result alone name a loss that
is exactly 1 too large per sample (the correct class's own margin counted).
"""

import numpy as np

from pixelschool.checks.compare import close, verdict
from pixelschool.checks.framework import feedback_check
from pixelschool.checks.loops import forbid_loops
from pixelschool.checks.softmax import (
    distinct_sizes,
    expect_loss_and_grad,
    not_finite,
    wrong_gradient,
)

__all__ = ["test_svm_loss_and_grad"]

KINK_GAP = 1e-2  # no margin of a recorded input is closer than this to the hinge's kink
SVM_HINT = (
    "Shapes: X (N, D), W (D, C), b (C,), y (N,) integer labels; the scores are X @ W + b, "
    "shape (N, C), and scores[np.arange(N), y] picks each sample's correct-class score, (N,)."
)
OWN_MARGIN = (
    "svm_loss_and_grad: the loss is 1 too large per sample: you counted the correct class's "
    "own margin, s_y - s_y + 1 = 1, which is always positive. The sum runs over the classes "
    "j != y_i: set the margins at [np.arange(N), y] to 0 after np.maximum (or subtract 1 per "
    "sample), and leave the correct class out of the count of positive margins too."
)
SVM_MESSAGES = {  # each told after 'svm_loss_and_grad: ' (added below)
    "own_margin": OWN_MARGIN.removeprefix("svm_loss_and_grad: "),
    "margin_zero": "the margin is 1: a wrong class adds max(0, s_j - s_y + 1) to the loss. "
    "With max(0, s_j - s_y) a correct class that wins by a hair costs nothing, and the loss "
    "no longer asks for a safety margin.",
    "no_correct_class_grad": "dW is missing the correct class's part: every positive margin "
    "s_j - s_y + 1 also pulls the correct class's score down, so the correct class's column "
    "of dscores gets -(the number of positive margins in the row), and dW gets "
    "-(that count) * x_i in column y_i.",
    "half_reg_gradient": "the derivative of reg * sum(W**2) is 2 * reg * W, not reg * W.",
    "no_reg_gradient": "dW is missing the regularisation term: add 2 * reg * W, the "
    "derivative of reg * sum(W**2).",
    "no_penalty": "the loss is missing the regularisation term: add reg * np.sum(W * W) to "
    "the mean hinge loss.",
    "summed": "the loss and the gradients are summed over the batch, N times too large: "
    "average the hinge loss over the N samples, and divide dscores by N too.",
    "grad_not_averaged": "the loss is averaged over the batch, but dW and db are N times too "
    "large: the loss is a mean, so its gradient is divided by N too.",
    "bias_regularised": "the bias is not regularised: the penalty is reg * np.sum(W * W), "
    "without b, so db has no 2 * reg * b term.",
}
SVM_MESSAGES = {key: f"svm_loss_and_grad: {text}" for key, text in SVM_MESSAGES.items()}


def far_from_kinks(W, b, X, y):
    """True when every margin s_j - s_y + 1 and s_j - s_y (j != y) is at least KINK_GAP
    away from 0: the hinge's gradient is then the same on every machine."""
    scores = X @ W + b
    gaps = scores - scores[np.arange(len(X)), y][:, None]
    others = np.ones(gaps.shape, dtype=bool)
    others[np.arange(len(X)), y] = False
    return bool(
        np.all(np.abs(gaps[others] + 1) > KINK_GAP) and np.all(np.abs(gaps[others]) > KINK_GAP)
    )


def svm_problem(rng, n, d, c):
    """Random W (D, C), b (C,), X (N, D), y (N,), redrawn until no margin is near a kink;
    about half the margins are positive."""
    while True:
        W = rng.normal(0, 0.5, size=(d, c))
        b = rng.normal(0, 0.5, size=c)
        X, y = rng.normal(0, 1, size=(n, d)), rng.integers(0, c, size=n)
        if far_from_kinks(W, b, X, y):
            return W, b, X, y


def svm_inputs(rng):
    """(W, b, X, y, reg) tuples: two small cases (every score 0, so every wrong class's margin
    is exactly 1), a random problem with reg > 0, the same with larger weights (more samples
    whose correct class wins by more than the margin), then one of another batch size
    without regularisation; N, D and C distinct."""
    y = np.array([0, 1])
    cases = [
        (np.zeros((4, 3)), np.zeros(3), np.ones((2, 4)), y, 0.0),
        (np.ones((4, 3)), np.zeros(3), np.zeros((2, 4)), y, 0.5),
    ]
    n, d, c = distinct_sizes(rng, 3, 10, 3)
    reg = float(rng.choice([0.05, 0.1, 0.3]))
    W, b, X, y = svm_problem(rng, n, d, c)
    cases.append((W, b, X, y, reg))
    while not far_from_kinks(3 * W, b, X, y):
        W, b, X, y = svm_problem(rng, n, d, c)
    cases.append((3 * W, b, X, y, reg))
    n2 = int(rng.choice(sorted(set(range(2, 13)) - {c, d})))
    return [*cases, (*svm_problem(rng, n2, d, c), 0.0)]


def wrong_part(result, case):
    """Which of the loss, dW and db is wrong, or that the loss counts the own margin."""
    if not_finite(result):
        return (
            "svm_loss_and_grad: the loss or a gradient is nan or inf; the hinge loss needs no "
            "exp or log, only differences of scores, np.maximum and sums."
        )
    loss, expected_loss = result[0], case.expected[0]
    if close(loss, expected_loss + 1):
        return OWN_MARGIN
    if not close(loss, expected_loss):
        return (
            "svm_loss_and_grad: the loss is not the mean over the samples of "
            "sum over j != y_i of max(0, s_j - s_y_i + 1), plus reg * np.sum(W * W)."
        )
    return wrong_gradient(result, case, "svm_loss_and_grad")


def judge_svm(results, cases):
    for result, case in zip(results, cases):
        expect_loss_and_grad(result, case.args, "svm_loss_and_grad")
    verdict(results, cases, "svm_loss_and_grad", SVM_MESSAGES, relations=[wrong_part])


@feedback_check("svm_loss_and_grad", inputs=svm_inputs, judge=judge_svm)
def test_svm_loss_and_grad(svm_loss_and_grad, cases):
    forbid_loops(svm_loss_and_grad)
    cases.call_all(svm_loss_and_grad, hint=SVM_HINT)
