"""Feedback checks for notebook 03, the linear softmax classifier.

softmax, cross_entropy_loss, softmax_loss_and_grad and predict_softmax are judged against
recordings (``recordings/<exercise>.npz``): the solution's results on the inputs below and
those of the usual mistakes (``pixelschool_admin/answers/softmax.py``), whose messages are here.
softmax_loss_and_grad's gradients are also compared with centred differences of the
student's OWN loss. train_softmax's check, all code, is in ``softmax_training.py``.
"""

import numpy as np

from pixelschool.checks.compare import close, verdict
from pixelschool.checks.framework import (
    call_watching,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
)
from pixelschool.checks.loops import forbid_loops

__all__ = [
    "test_softmax",
    "test_cross_entropy_loss",
    "test_softmax_loss_and_grad",
    "test_predict_softmax",
]

GRAD_THRESHOLD = 1e-6  # largest relative error of an analytic gradient, in float64
GRAD_STEP = 1e-5  # step of the centred differences of the student's own loss
# The check's own measure: one error for the whole array, max|a - n| / max(|a| + |n|), which
# never divides by a tiny entry; the notebook's gradient check (pixelschool.gradcheck) is
# entry by entry with a floor, and its threshold is 1e-5.
ERROR_NOTE = (  # .format(against what, the error, dW or db)
    "(Relative error to {}, max|a - n| / max(|a| + |n|) over the whole array: {:.1e}; a "
    + f"correct {{}} stays below {GRAD_THRESHOLD:.0e} in float64 by this measure.)"
)


def distinct_sizes(rng, low, high, count):
    """``count`` different integers in [low, high): shapes that tell the axes apart."""
    return [int(size) for size in rng.choice(np.arange(low, high), size=count, replace=False)]


def not_finite(result):
    """True when a number or an array in ``result`` (a tuple too) holds nan or inf."""
    parts = result if isinstance(result, (tuple, list)) else [result]
    try:
        return any(not np.all(np.isfinite(np.asarray(part, dtype=np.float64))) for part in parts)
    except (TypeError, ValueError):
        return False


# --- softmax -------------------------------------------------------------------------------

SOFTMAX_HINT = (
    "softmax gets scores of shape (N, C) for any N and C. A row's sum or maximum must keep its "
    "axis to broadcast against (N, C): np.sum(..., axis=1, keepdims=True) has shape (N, 1)."
)
SOFTMAX_MESSAGES = {
    "over_columns": "softmax normalised over the wrong axis: its columns sum to 1. Each row "
    "holds the C scores of one sample, so exponentiate and divide by each row's sum (axis=1, "
    "keepdims=True).",
    "whole_sum": "softmax divided by the sum of the whole array, so all the probabilities "
    "together sum to 1. Each row (one sample) must sum to 1: sum over axis=1 with "
    "keepdims=True.",
    "not_normalised": "each row of softmax(scores) must sum to 1: divide exp(scores) by its "
    "row sums.",
    "unstable": "softmax overflows for scores around 1000: np.exp(1000) is inf and inf / inf "
    "is nan. Subtract the row maximum first (scores - scores.max(axis=1, keepdims=True)): the "
    "probabilities do not change, and the largest exponent becomes exp(0) = 1.",
    "global_max": "softmax fails when rows have very different scores (some around 1000, "
    "others around -1000): subtract each row's own maximum (axis=1, keepdims=True), not the "
    "maximum of the whole array, or the low rows underflow to 0 / 0.",
}


def softmax_inputs(rng):
    """(scores,) tuples: two small cases, every score around 1000, rows 2000 apart, then
    random (N, C), (C, N) and (1, C) scores, N != C."""
    n, c = distinct_sizes(rng, 2, 9, 2)
    scores = rng.normal(0, 3, size=(n, c))
    far_apart = np.where(np.arange(n) % 2 == 0, 1000.0, -1000.0)[:, None]
    return [
        (np.array([[0.0, np.log(3.0)], [5.0, 5.0]]),),
        (np.array([[1e4, 1e4, -1e4]]),),
        (scores + 1000,),
        (scores + far_apart,),
        (scores,),
        (rng.normal(0, 3, size=(c, n)),),
        (rng.normal(0, 3, size=(1, int(rng.integers(3, 7)))),),
    ]


def softmax_sums(result, case):
    """What the sums of the rows and columns of a wrong result say, or None."""
    if not_finite(result):
        rows_far_apart = np.ptp(case.args[0].max(axis=1)) > 500
        return SOFTMAX_MESSAGES["global_max" if rows_far_apart else "unstable"]
    rows_sum_to_1 = close(result.sum(axis=1), np.ones(len(result)))
    if len(result) > 1 and not rows_sum_to_1:
        if close(result.sum(axis=0), np.ones(result.shape[1])):
            return SOFTMAX_MESSAGES["over_columns"]
        if close(result.sum(), 1.0):
            return SOFTMAX_MESSAGES["whole_sum"]
    return None if rows_sum_to_1 else SOFTMAX_MESSAGES["not_normalised"]


def judge_softmax(results, cases):
    for result, case in zip(results, cases):
        expect_array(result, "softmax's result", shape=case.expected.shape, kind="f")
    verdict(
        results,
        cases,
        "softmax",
        SOFTMAX_MESSAGES,
        relations=[softmax_sums],
        otherwise="softmax: the rows sum to 1, but the values are not exp(s_k) / sum_j exp(s_j).",
    )


@feedback_check("softmax", inputs=softmax_inputs, judge=judge_softmax)
def test_softmax(softmax, cases):
    cases.call_all(softmax, hint=SOFTMAX_HINT)


# --- cross_entropy_loss ----------------------------------------------------------------------

CROSS_ENTROPY_MESSAGES = {
    "summed": "the loss is summed over the batch, not averaged: divide by the number of "
    "samples N (np.mean over the samples), so it does not grow with the batch size.",
    "no_minus": "cross_entropy_loss is negative: the loss is MINUS the log-probability of the "
    "target class (log of a probability is never positive).",
    "all_entries": "you averaged over all N x C entries: sum over the classes (axis=1) first, "
    "then average over the N samples.",
    "zero_log_zero": "cross_entropy_loss is nan when a class that is NOT the target has "
    "probability exactly 0 (it happens: a softmax underflows to 0): 0 * np.log(0) is "
    "0 * -inf = nan in NumPy. Take the log of the target class's probability only, e.g. "
    "np.log(np.sum(probs * targets_one_hot, axis=1)).",
    "log_base": "use the natural logarithm np.log, not np.log10 or np.log2.",
}


def probabilities_and_targets(rng, n, c):
    """Random (N, C) rows of probabilities (none near 0) and (N, C) one-hot targets."""
    probs = rng.uniform(0.05, 1.0, size=(n, c))
    return probs / probs.sum(axis=1, keepdims=True), np.eye(c)[rng.integers(0, c, size=n)]


def cross_entropy_inputs(rng):
    """(probs, targets_one_hot) tuples: two small cases, random (N, C) and (C, N) ones, then
    one where a class that is not the target has probability exactly 0."""
    n, c = distinct_sizes(rng, 3, 10, 2)
    cases = [
        (np.array([[0.5, 0.5], [0.9, 0.1]]), np.eye(2)[[0, 0]]),
        (np.full((4, 10), 0.1), np.eye(10)[[1, 2, 3, 4]]),
        probabilities_and_targets(rng, n, c),
        probabilities_and_targets(rng, c, n),
    ]
    probs, targets = probabilities_and_targets(rng, n, c)
    probs[0, (np.argmax(targets[0]) + 1) % c] = 0.0
    cases.append((probs / probs.sum(axis=1, keepdims=True), targets))
    return cases


def not_finite_loss(result, case):
    """The message when the loss is nan or inf (inputs with a probability of exactly 0)."""
    return CROSS_ENTROPY_MESSAGES["zero_log_zero"] if not_finite(result) else None


def judge_cross_entropy(results, cases):
    for result, case in zip(results, cases):
        expect(
            len(case.args[0]) == 1 or np.shape(result) != (len(case.args[0]),),
            "cross_entropy_loss returned one loss per sample; return one number, the mean "
            "over the N samples of the batch (np.mean).",
            mistake="loss_per_sample",
        )
        expect(
            np.ndim(result) == 0,
            f"cross_entropy_loss should return one number (a float), not an array of shape "
            f"{np.shape(result)}: sum over the classes, then average over the samples.",
        )
    verdict(
        results,
        cases,
        "cross_entropy_loss",
        CROSS_ENTROPY_MESSAGES,
        relations=[not_finite_loss],
        otherwise="cross_entropy_loss is not the mean over the samples of "
        "-sum(targets * log(probs)).",
    )


@feedback_check("cross_entropy_loss", inputs=cross_entropy_inputs, judge=judge_cross_entropy)
def test_cross_entropy_loss(cross_entropy_loss, cases):
    cases.call_all(cross_entropy_loss)


# --- softmax_loss_and_grad -------------------------------------------------------------------

LOSS_HINT = (
    "Shapes: X (N, D), W (D, C), b (C,), y (N,) integer labels; the scores are X @ W + b, "
    "shape (N, C). Turn y into one-hot targets with np.eye(C)[y]."
)
ROW_MAXIMUM = (
    "Compute the probabilities with your stable softmax, which subtracts each row's own "
    "maximum (axis=1, keepdims=True)."
)
LOSS_MESSAGES = {  # each told after 'softmax_loss_and_grad: '
    "wrong_sign": "dW has the wrong sign: the gradient of the loss with respect to the scores "
    "is (P - Y) / N (probabilities minus one-hot targets), not (Y - P) / N.",
    "no_reg_gradient": "dW is missing the regularisation term: add 2 * reg * W, the "
    "derivative of reg * sum(W**2).",
    "half_reg_gradient": "the derivative of reg * sum(W**2) is 2 * reg * W, not reg * W.",
    "no_penalty": "the loss is missing the regularisation term: add reg * np.sum(W * W) to the "
    "mean cross-entropy.",
    "half_penalty": "the penalty is reg * np.sum(W * W), not 0.5 * reg * np.sum(W * W) (and "
    "its gradient is 2 * reg * W).",
    "summed_loss": "the loss is not averaged over the batch: it is N times too large. Divide "
    "the summed cross-entropy by N (np.mean over the samples).",
    "grad_not_averaged": "dW is N times too large: the loss is a mean, so divide "
    "X.T @ (P - Y) by N.",
    "bias_one_row": "the bias gradient is not summed over the batch: db holds one sample's "
    "row. Every sample adds to the bias gradient: db = np.sum(dscores, axis=0).",
    "bias_regularised": "the bias is not regularised: the penalty is reg * np.sum(W * W), "
    "without b, so db has no 2 * reg * b term.",
    "unstable": "it overflows for large scores (b + 1000 should give the same loss and "
    f"gradients). {ROW_MAXIMUM}",
    "underflow": "the loss is inf when a sample's target score is far below the best score of "
    "its row (800 below in this check): its probability exp(-800) underflows to exactly 0, "
    "and -np.log(0) is inf, so one such sample makes the mean loss inf. Never take the log of "
    "a probability: compute the log-softmax, shifted - np.log(np.sum(np.exp(shifted), axis=1, "
    "keepdims=True)) with shifted = scores minus each row's maximum, and pick the target's "
    "entry. It stays finite.",
    "global_max": "the loss is not finite when one sample's scores are thousands above the "
    "other samples': a maximum taken over the whole batch leaves the other rows at "
    f"exp(-3000) = 0, and 0 / 0 is nan. {ROW_MAXIMUM}",
}
LOSS_MESSAGES = {key: f"softmax_loss_and_grad: {text}" for key, text in LOSS_MESSAGES.items()}


def loss_problem(rng, n, d, c):
    """Random W (D, C), b (C,), X (N, D) and y (N,) labels in [0, C)."""
    W = rng.normal(0, 0.5, size=(d, c))
    b = rng.normal(0, 0.5, size=c)
    return W, b, rng.normal(0, 1, size=(n, d)), rng.integers(0, c, size=n)


UNDERFLOW_GAP = 800.0  # a target score this far below its row's maximum: exp(-800) == 0.0


def loss_inputs(rng):
    """(W, b, X, y, reg) tuples: two small cases, a random problem, the same with every score
    around 1000, one where sample 0's scores are 3000 above the others', a random problem of
    another batch size without regularisation, then one where sample 0's target score is
    UNDERFLOW_GAP below its other scores (its probability underflows to 0); N, D and C
    distinct."""
    y = np.array([0, 1])
    cases = [
        (np.zeros((4, 3)), np.zeros(3), np.ones((2, 4)), y, 0.0),
        (np.ones((4, 3)), np.zeros(3), np.zeros((2, 4)), y, 0.5),
    ]
    n, d, c = distinct_sizes(rng, 3, 10, 3)
    reg = float(rng.choice([0.05, 0.1, 0.3]))
    W, b, X, y = loss_problem(rng, n, d, c)
    cases += [(W, b, X, y, reg), (W, b + 1000, X, y, reg)]
    W, b, X, y = loss_problem(rng, n, d, c)
    X[:, 0] = 0.0
    X[0, 0], W[0] = 3.0, W[0] + 1000  # feature 0 adds 3000 to every score of sample 0 only
    cases.append((W, b, X, y, 0.0))
    n2 = int(rng.choice(sorted(set(range(2, 13)) - {c, d})))
    cases.append((*loss_problem(rng, n2, d, c), 0.0))
    W, b, X, y = loss_problem(rng, n, d, c)
    X[:, 0] = 0.0
    X[0, 0], W[0, y[0]] = 1.0, W[0, y[0]] - UNDERFLOW_GAP  # only sample 0's target drops
    return [*cases, (W, b, X, y, 0.0)]


def target_gap(case):
    """The largest distance of a sample's target score below its row's maximum."""
    W, b, X, y = case.args[:4]
    scores = X @ W + b
    return float(np.max(scores.max(axis=1) - scores[np.arange(len(X)), y]))


def expect_loss_and_grad(result, args, name="softmax_loss_and_grad"):
    """A (loss, dW, db) tuple from ``name``: one number, W's shape (D, C), b's shape (C,)."""
    W, X = args[0], args[2]
    (d, c), n = W.shape, len(X)
    expect_tuple(result, name, 3)
    loss, dW, db = result
    expect(
        np.ndim(loss) == 0,
        f"the loss (first value) should be one number, the mean over the batch; yours has "
        f"shape {np.shape(loss)}.",
    )
    expect_array(dW, "dW (second value)")
    expect(
        dW.shape != (c, d) or c == d,
        f"dW is transposed: it must have W's shape (D, C) = ({d}, {c}); yours is {dW.shape}. "
        "dW = X.T @ dscores.",
        mistake="dW_transposed",
    )
    expect_array(dW, "dW (second value)", shape=(d, c))
    expect_array(db, "db (third value)")
    expect(
        db.shape != (n, c),
        f"the bias gradient is not summed over the batch: db has shape {db.shape}, one row per "
        f"sample; it must have b's shape (C,) = ({c},). Sum dscores over the samples (axis=0).",
        mistake="db_not_summed",
    )
    expect(
        n == c or db.shape != (n,),
        f"db has shape ({n},): you summed over the classes; sum over the samples (axis=0) to "
        f"get one value per class, shape ({c},).",
    )
    expect_array(db, "db (third value)", shape=(c,))


def gradient_gap(analytic, numerical):
    """max |analytic - numerical| relative to the largest |analytic| + |numerical|."""
    scale = np.max(np.abs(analytic) + np.abs(numerical), initial=1e-12)
    return float(np.max(np.abs(analytic - numerical)) / scale)


def wrong_part(result, case):
    """What overflowed, or which of the loss, dW and db is wrong."""
    if not_finite(result):
        W, b, X = case.args[:3]
        if target_gap(case) > UNDERFLOW_GAP / 2:
            return LOSS_MESSAGES["underflow"]
        one_sample_far_above = np.ptp((X @ W + b).max(axis=1)) > 1000
        return LOSS_MESSAGES["global_max" if one_sample_far_above else "unstable"]
    if not close(result[0], case.expected[0]):
        return (
            "softmax_loss_and_grad: the loss is not the mean cross-entropy of "
            "softmax(X @ W + b) plus reg * np.sum(W * W)."
        )
    return wrong_gradient(result, case, "softmax_loss_and_grad")


def wrong_gradient(result, case, exercise):
    """When the loss is right: which of dW and db is not its gradient, and by how much; or None."""
    for name, value, expected in zip(["dW", "db"], result[1:], case.expected[1:]):
        if not close(value, expected):
            note = ERROR_NOTE.format(f"the correct {name}", gradient_gap(value, expected), name)
            return f"{exercise}: the loss is right, but {name} is not its gradient. {note}"
    return None


def judge_loss_and_grad(results, cases):
    for result, case in zip(results, cases):
        expect_loss_and_grad(result, case.args)
    verdict(results, cases, "softmax_loss_and_grad", LOSS_MESSAGES, relations=[wrong_part])


def own_loss_slopes(fn, args, position):
    """Centred differences (step GRAD_STEP) of fn's own loss, ``fn(*args)[0]``, with respect
    to ``args[position]`` (a float array): an array of that argument's shape."""
    args = list(args)
    param = args[position] = np.array(args[position], dtype=np.float64)
    slopes = np.zeros_like(param)
    for index in np.ndindex(param.shape):
        saved, losses = param[index], []
        for step in (GRAD_STEP, -GRAD_STEP):
            param[index] = saved + step
            losses.append(float(call_watching(fn, tuple(args), hint=LOSS_HINT)[0][0]))
        param[index] = saved
        slopes[index] = (losses[0] - losses[1]) / (2 * GRAD_STEP)
    return slopes


def check_own_gradients(fn, rng):
    """dW and db must be the gradients of fn's own loss, on a small random problem; a
    gradient that differs in one of the usual ways is named."""
    n, d, c = distinct_sizes(rng, 3, 7, 3)
    reg = 0.3
    args = (*loss_problem(rng, n, d, c), reg)
    result = call_watching(fn, args, hint=LOSS_HINT)[0]
    expect_loss_and_grad(result, args)
    penalty = 2 * reg * args[0]
    slopes = own_loss_slopes(fn, args, 0)
    data = slopes - penalty  # the data loss's part of the slopes
    error = gradient_gap(result[1], slopes)
    if error > GRAD_THRESHOLD:
        for mistake, dW in [
            ("wrong_sign", penalty - data),
            ("no_reg_gradient", data),
            ("half_reg_gradient", data + penalty / 2),
            ("no_penalty", slopes + penalty),
            ("summed_loss", penalty + data / n),
            ("grad_not_averaged", penalty + n * data),
        ]:
            if gradient_gap(result[1], dW) < GRAD_THRESHOLD:
                raise AssertionError(LOSS_MESSAGES[mistake])
        raise AssertionError(
            "softmax_loss_and_grad: dW is not the gradient of your own loss. "
            + ERROR_NOTE.format("the numerical gradient of your loss", error, "dW")
        )
    slopes = own_loss_slopes(fn, args, 1)
    error = gradient_gap(result[2], slopes)
    expect(
        error <= GRAD_THRESHOLD,
        "softmax_loss_and_grad: db is not the gradient of your own loss: it is the sum over the "
        "samples of (P - Y) / N. Every sample adds to the bias gradient: "
        "db = np.sum(dscores, axis=0). " + ERROR_NOTE.format("the numerical gradient", error, "db"),
    )


@feedback_check("softmax_loss_and_grad", inputs=loss_inputs, judge=judge_loss_and_grad)
def test_softmax_loss_and_grad(softmax_loss_and_grad, cases):
    forbid_loops(softmax_loss_and_grad)
    cases.call_all(softmax_loss_and_grad, hint=LOSS_HINT)
    try:
        check_own_gradients(softmax_loss_and_grad, cases.rng)
    except AssertionError:
        if not cases.hidden:
            cases.finish()  # a recorded mistake (and a changed input) is named first
        raise


# --- predict_softmax -------------------------------------------------------------------------

PREDICT_MESSAGES = {
    "no_bias": "add the bias b to the scores before taking the argmax: X @ W + b.",
    "argmin": "the predicted class has the largest score: np.argmax, not argmin.",
    "max_score": "np.max returns the largest score; the label is its position: np.argmax.",
}


def predict_inputs(rng):
    """(W (D, C), b (C,), X (N, D)) tuples: a small case whose bias changes a prediction,
    then two random ones with N, D and C distinct."""
    cases = [(np.eye(2), np.array([0.0, 10.0]), np.array([[5.0, 0.0], [20.0, 0.0]]))]
    for _ in range(2):
        n, d, c = distinct_sizes(rng, 3, 13, 3)
        cases.append((rng.normal(0, 1, (d, c)), rng.normal(0, 2, c), rng.normal(0, 1, (n, d))))
    return cases


def judge_predict(results, cases):
    for result, case in zip(results, cases):
        n, c, what = len(case.args[2]), len(case.args[1]), "predict_softmax's result"
        expect_array(result, what)
        expect(
            result.shape == (n,) or result.shape != (c,),
            "predict_softmax returned one value per class: take the argmax over the classes "
            "(axis=1), one label per sample. np.argmax over axis 0 picks a sample per class.",
            mistake="argmax_over_samples",
        )
        expect(
            result.shape != (n, c),
            "predict_softmax returned scores or probabilities; return the labels: the index of "
            "the largest score of each row, np.argmax(..., axis=1).",
            mistake="not_labels",
        )
        expect_array(result, what, shape=(n,))
    verdict(
        results,
        cases,
        "predict_softmax",
        PREDICT_MESSAGES,
        otherwise="predict_softmax: the labels are not the classes with the largest score "
        "X @ W + b.",
    )
    for result in results:  # right values: now the dtype
        expect_array(result, "predict_softmax's result", kind="iu")


@feedback_check("predict_softmax", inputs=predict_inputs, judge=judge_predict)
def test_predict_softmax(predict_softmax, cases):
    cases.call_all(predict_softmax)
