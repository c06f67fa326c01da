"""Feedback checks for notebook 03, the linear softmax classifier.

Each ``test_<name>(fn, seed=0)`` calls the student's function on random inputs drawn from
``seed``, compares the result with the references below and names the mistake when they
differ. Gradients are compared with a numerical gradient in float64 (CS231n's gradient
check): the relative error must stay below ``GRAD_THRESHOLD``.
"""

import math
from dataclasses import dataclass

import numpy as np

from coursekit.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
    forbid_loops,
    replacing_global,
)
from coursekit.gradcheck import numerical_gradient, relative_error

__all__ = [
    "test_softmax",
    "test_cross_entropy_loss",
    "test_softmax_loss_and_grad",
    "test_train_softmax",
    "test_predict_softmax",
]

GRAD_THRESHOLD = 1e-6  # largest relative error of an analytic gradient, in float64
NUMPY_QUIET = {"over": "ignore", "under": "ignore", "invalid": "ignore", "divide": "ignore"}


# --- the checks' own references (independent of the notebook) --------------------------


def reference_softmax(scores):
    """Row-wise softmax of (N, C) scores, stable."""
    exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)


def reference_loss_and_grad(W, b, X, y, reg):
    """Mean cross-entropy + reg * sum(W**2), and its gradients dW (D, C) and db (C,)."""
    n = len(X)
    probs = reference_softmax(X @ W + b)
    dscores = (probs - np.eye(W.shape[1])[y]) / n  # (N, C)
    loss = -np.mean(np.log(probs[np.arange(n), y])) + reg * np.sum(W * W)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


def close(a, b):
    """Equal up to float64 rounding (shapes must broadcast)."""
    try:
        return bool(np.allclose(a, b, rtol=1e-6, atol=1e-10))
    except (TypeError, ValueError):
        return False


def distinct_sizes(rng, low, high, count):
    """``count`` different integers in [low, high): shapes that tell the axes apart."""
    return [int(size) for size in rng.choice(np.arange(low, high), size=count, replace=False)]


# --- softmax -------------------------------------------------------------------------------

SOFTMAX_HINT = (
    "softmax gets scores of shape (N, C) for any N and C. A row's sum or maximum must keep its "
    "axis to broadcast against (N, C): np.sum(..., axis=1, keepdims=True) has shape (N, 1)."
)


@feedback_check("softmax")
def test_softmax(softmax, rng):
    n, c = distinct_sizes(rng, 2, 9, 2)
    for shape in [(n, c), (c, n), (1, int(rng.integers(3, 7)))]:
        scores = rng.normal(0, 3, size=shape)
        result = call(softmax, scores, hint=SOFTMAX_HINT)
        expect_array(result, "softmax's result", shape=shape, kind="f")
        if shape[0] > 1 and close(result.sum(axis=0), 1) and not close(result.sum(axis=1), 1):
            raise AssertionError(
                "softmax normalised over the wrong axis: its columns sum to 1. Each row holds "
                "the C scores of one sample, so exponentiate and divide by each row's sum "
                "(axis=1, keepdims=True)."
            )
        if shape[0] > 1 and close(result.sum(), 1):
            raise AssertionError(
                "softmax divided by the sum of the whole array, so all the probabilities "
                "together sum to 1. Each row (one sample) must sum to 1: sum over axis=1 with "
                "keepdims=True."
            )
        expect(
            close(result.sum(axis=1), 1),
            "each row of softmax(scores) must sum to 1: divide exp(scores) by its row sums.",
        )
        expect(
            close(result, reference_softmax(scores)),
            "softmax: the rows sum to 1, but the values are not exp(s_k) / sum_j exp(s_j).",
        )
    # Large scores: np.exp(1000) overflows to inf, and inf / inf is nan.
    scores = rng.normal(0, 3, size=(n, c))
    with np.errstate(**NUMPY_QUIET):
        result = call(softmax, scores + 1000)
    expect(
        np.all(np.isfinite(result)),
        "softmax overflows for scores around 1000: np.exp(1000) is inf and inf / inf is nan. "
        "Subtract the row maximum first (scores - scores.max(axis=1, keepdims=True)): the "
        "probabilities do not change, and the largest exponent becomes exp(0) = 1.",
    )
    expect(
        close(result, reference_softmax(scores)),
        "softmax(scores + 1000) should equal softmax(scores): adding the same number to a row "
        "does not change its probabilities.",
    )
    # Rows far apart: only each row's own maximum keeps every row in range.
    offsets = np.where(np.arange(n) % 2 == 0, 1000.0, -1000.0)[:, None]
    with np.errstate(**NUMPY_QUIET):
        result = call(softmax, scores + offsets)
    expect(
        np.all(np.isfinite(result)) and close(result, reference_softmax(scores)),
        "softmax fails when rows have very different scores (some around 1000, others around "
        "-1000): subtract each row's own maximum (axis=1, keepdims=True), not the maximum of "
        "the whole array, or the low rows underflow to 0 / 0.",
    )


# --- cross_entropy_loss ----------------------------------------------------------------------


@feedback_check("cross_entropy_loss")
def test_cross_entropy_loss(cross_entropy_loss, rng):
    n, c = distinct_sizes(rng, 3, 10, 2)
    for shape in [(n, c), (c, n)]:
        probs = reference_softmax(rng.normal(0, 2, size=shape))
        labels = rng.integers(0, shape[1], size=shape[0])
        targets = np.eye(shape[1])[labels]
        expected = -np.mean(np.log(probs[np.arange(shape[0]), labels]))
        result = call(cross_entropy_loss, probs, targets)
        if np.shape(result) == (shape[0],):
            raise AssertionError(
                "cross_entropy_loss returned one loss per sample; return one number, the "
                "mean over the N samples of the batch (np.mean)."
            )
        expect(
            np.ndim(result) == 0,
            f"cross_entropy_loss should return one number (a float), not an array of shape "
            f"{np.shape(result)}: sum over the classes, then average over the samples.",
        )
        value = float(result)
        if close(value, -expected):
            raise AssertionError(
                "cross_entropy_loss is negative: the loss is MINUS the log-probability of the "
                "target class (log of a probability is never positive)."
            )
        if close(value, shape[0] * expected):
            raise AssertionError(
                "the loss is summed over the batch, not averaged: divide by the number of "
                "samples N (np.mean over the samples), so it does not grow with the batch size."
            )
        if close(value, expected / shape[1]):
            raise AssertionError(
                "you averaged over all N x C entries: sum over the classes (axis=1) first, "
                "then average over the N samples."
            )
        if close(value, expected / np.log(10)) or close(value, expected / np.log(2)):
            raise AssertionError("use the natural logarithm np.log, not np.log10 or np.log2.")
        expect(
            close(value, expected),
            "cross_entropy_loss is not the mean over the samples of -sum(targets * log(probs)).",
        )
    # A probability of exactly 0 for a class that is not the target (a softmax underflows).
    probs = reference_softmax(rng.normal(0, 2, size=(n, c)))
    labels = rng.integers(0, c, size=n)
    probs[0, (labels[0] + 1) % c] = 0.0
    probs[0] /= probs[0].sum()
    targets = np.eye(c)[labels]
    with np.errstate(**NUMPY_QUIET):
        result = call(cross_entropy_loss, probs, targets)
    expect(
        np.isfinite(float(np.ravel(result)[0])),
        "cross_entropy_loss is nan when a class that is NOT the target has probability exactly "
        "0 (it happens: a softmax underflows to 0): 0 * np.log(0) is 0 * -inf = nan in NumPy. "
        "Take the log of the target class's probability only, e.g. "
        "np.log(np.sum(probs * targets_one_hot, axis=1)).",
    )
    expect(
        close(float(result), -np.mean(np.log(probs[np.arange(n), labels]))),
        "cross_entropy_loss is wrong when some probabilities are exactly 0.",
    )


# --- softmax_loss_and_grad -------------------------------------------------------------------

LOSS_HINT = (
    "Shapes: X (N, D), W (D, C), b (C,), y (N,) integer labels; the scores are X @ W + b, "
    "shape (N, C). Turn y into one-hot targets with np.eye(C)[y]."
)


def diagnose_loss(loss, W, b, X, y, reg):
    """Name the mistake in a loss that differs from the reference, or return None."""
    expected = reference_loss_and_grad(W, b, X, y, reg)[0]
    penalty = reg * np.sum(W * W)
    data_loss = expected - penalty
    if close(loss, expected):
        return None
    if close(loss, len(X) * data_loss + penalty) or close(loss, len(X) * expected):
        return (
            "the loss is not averaged over the batch: it is N times too large. Divide the "
            "summed cross-entropy by N (your cross_entropy_loss already averages)."
        )
    if close(loss, data_loss):
        return (
            "the loss is missing the regularisation term: add reg * np.sum(W * W) to the mean "
            "cross-entropy."
        )
    if close(loss, expected + reg * np.sum(b * b)):
        return "the bias is not regularised: the penalty is reg * np.sum(W * W), without b."
    if close(loss, data_loss + penalty / 2):
        return "the penalty is reg * np.sum(W * W), not 0.5 * reg * np.sum(W * W)."
    return "the loss is not the mean cross-entropy of softmax(X @ W + b) plus reg * np.sum(W * W)."


def diagnose_dW(dW, true_dW, W, reg, n):
    """Name the mistake in dW, which differs from the true gradient ``true_dW``."""
    penalty = 2 * reg * W
    data_part = true_dW - penalty  # the gradient of the mean cross-entropy alone
    if close(dW, -true_dW) or close(dW, penalty - data_part):
        return (
            "dW has the wrong sign: the gradient of the loss with respect to the scores is "
            "(P - Y) / N (probabilities minus one-hot targets), not (Y - P) / N."
        )
    if reg and close(dW, data_part):
        return (
            "dW is missing the regularisation term: add 2 * reg * W, the derivative of "
            "reg * sum(W**2)."
        )
    if reg and close(dW, data_part + penalty / 2):
        return "the derivative of reg * sum(W**2) is 2 * reg * W, not reg * W."
    if close(dW, n * data_part + penalty) or close(dW, n * true_dW):
        return "dW is N times too large: the loss is a mean, so divide X.T @ (P - Y) by N."
    return None


def diagnose_db(db, dscores, b, reg):
    """Name the mistake in db; ``dscores`` (N, C) is the true gradient wrt the scores."""
    true_db = dscores.sum(axis=0)
    if close(db, -true_db):
        return "db has the wrong sign: it is the sum over the samples of (P - Y) / N."
    if close(db, dscores[0]) or close(db, len(dscores) * dscores[0]):
        return (
            "the bias gradient is not summed over the batch: db holds one sample's row. Every "
            "sample adds to the bias gradient: db = np.sum(dscores, axis=0)."
        )
    if close(db, len(dscores) * true_db):
        return "db is N times too large: divide by N, the loss is a mean over the samples."
    if reg and close(db, true_db + 2 * reg * b):
        return "the bias is not regularised, so db has no 2 * reg * b term."
    return None


def check_loss_and_grad(fn, W, b, X, y, reg):
    """Compare fn's (loss, dW, db) with the reference loss and numerical gradients."""
    n, d, c = len(X), *W.shape
    result = call(fn, W, b, X, y, reg, hint=LOSS_HINT)
    expect_tuple(result, "softmax_loss_and_grad", 3)
    loss, dW, db = result
    expect(
        np.ndim(loss) == 0,
        f"the loss (first value) should be one number, the mean over the batch; yours has "
        f"shape {np.shape(loss)}.",
    )
    expect_array(dW, "dW (second value)")
    expect(
        dW.shape != (c, d),
        f"dW is transposed: it must have W's shape (D, C) = ({d}, {c}); yours is {dW.shape}. "
        "dW = X.T @ dscores.",
    )
    expect_array(dW, "dW (second value)", shape=(d, c))
    expect_array(db, "db (third value)")
    expect(
        db.shape != (n, c),
        f"the bias gradient is not summed over the batch: db has shape {db.shape}, one row per "
        f"sample; it must have b's shape (C,) = ({c},). Sum dscores over the samples (axis=0).",
    )
    expect(
        n == c or db.shape != (n,),
        f"db has shape ({n},): you summed over the classes; sum over the samples (axis=0) to "
        f"get one value per class, shape ({c},).",
    )
    expect_array(db, "db (third value)", shape=(c,))
    mistake = diagnose_loss(float(loss), W, b, X, y, reg)
    expect(mistake is None, f"softmax_loss_and_grad: {mistake}")

    # Numerical gradients of the true loss, in float64 (f reads the array being perturbed);
    # the mistakes are named by comparing with the exact formulas.
    W, b = W.copy(), b.copy()
    num_dW = numerical_gradient(lambda: reference_loss_and_grad(W, b, X, y, reg)[0], W)
    num_db = numerical_gradient(lambda: reference_loss_and_grad(W, b, X, y, reg)[0], b)
    error = relative_error(dW, num_dW)
    if error > GRAD_THRESHOLD:
        mistake = diagnose_dW(dW, reference_loss_and_grad(W, b, X, y, reg)[1], W, reg, n)
        raise AssertionError(
            f"softmax_loss_and_grad: {mistake or 'dW does not match the numerical gradient.'} "
            f"(Relative error to the numerical gradient: {error:.1e}; a correct dW stays below "
            f"{GRAD_THRESHOLD:.0e} in float64.)"
        )
    error = relative_error(db, num_db)
    if error > GRAD_THRESHOLD:
        dscores = (reference_softmax(X @ W + b) - np.eye(c)[y]) / n
        mistake = diagnose_db(db, dscores, b, reg)
        raise AssertionError(
            f"softmax_loss_and_grad: {mistake or 'db does not match the numerical gradient.'} "
            f"(Relative error to the numerical gradient: {error:.1e}; a correct db stays below "
            f"{GRAD_THRESHOLD:.0e} in float64.)"
        )
    return float(loss), dW, db


def random_problem(rng, n, d, c, reg):
    """Random W (D, C), b (C,), X (N, D), y (N,) whose gradients have no entry near 0.

    A relative error |a - n| / (|a| + |n|) means little for an entry close to 0, so inputs
    are drawn again (deterministically) until every entry of dW and db exceeds 1e-4.
    """
    while True:
        W = rng.normal(0, 0.5, size=(d, c))
        b = rng.normal(0, 0.5, size=c)
        X = rng.normal(0, 1, size=(n, d))
        y = rng.integers(0, c, size=n)
        _, dW, db = reference_loss_and_grad(W, b, X, y, reg)
        if min(np.abs(dW).min(), np.abs(db).min()) > 1e-4:
            return W, b, X, y


@feedback_check("softmax_loss_and_grad")
def test_softmax_loss_and_grad(softmax_loss_and_grad, rng):
    forbid_loops(softmax_loss_and_grad)
    n, d, c = distinct_sizes(rng, 3, 14, 3)
    reg = float(rng.choice([0.05, 0.1, 0.3]))
    W, b, X, y = random_problem(rng, n, d, c, reg)
    loss, dW, db = check_loss_and_grad(softmax_loss_and_grad, W, b, X, y, reg)
    # Another batch size, without regularisation.
    n2 = int(rng.choice(sorted(set(range(2, 20)) - {c, d})))
    check_loss_and_grad(softmax_loss_and_grad, *random_problem(rng, n2, d, c, 0.0), 0.0)
    # Large scores: adding 1000 to every score changes nothing, unless the softmax overflows.
    with np.errstate(**NUMPY_QUIET):
        big = call(softmax_loss_and_grad, W, b + 1000, X, y, reg, hint=LOSS_HINT)
    expect(
        np.isfinite(float(big[0])) and close(float(big[0]), loss) and close(big[1], dW),
        "softmax_loss_and_grad overflows for large scores (b + 1000 should give the same loss "
        "and gradients): compute the probabilities with your stable softmax, which subtracts "
        "the row maximum.",
    )


# --- train_softmax ---------------------------------------------------------------------------


@dataclass
class Step:
    """One call of softmax_loss_and_grad during training: its inputs and outputs."""

    W: np.ndarray
    b: np.ndarray
    rows: np.ndarray  # indices into the training set of the minibatch's samples
    aligned: bool  # y_batch are the labels of those samples
    reg: float
    loss: float
    dW: np.ndarray
    db: np.ndarray


class LossRecorder:
    """Stands in for softmax_loss_and_grad during training and records every call.

    It computes the reference loss and gradients, so train_softmax is checked on its own,
    whatever the student's softmax_loss_and_grad does.
    """

    def __init__(self, X, y):
        self.data, self.labels, self.steps = X, y, []

    def __call__(self, W, b, X, y, reg):  # the exercise's parameter names: keywords work too
        W, b = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        d, c = self.data.shape[1], int(self.labels.max()) + 1
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(
                f"softmax_loss_and_grad got a minibatch X of shape {X.shape}; a minibatch of "
                f"the training set has shape (batch_size, {d}): X[indices]."
            )
        if W.shape != (d, c) or b.shape != (c,):
            raise ValueError(
                f"softmax_loss_and_grad got W of shape {W.shape} and b of shape {b.shape}; "
                f"they should be (D, C) = ({d}, {c}) and (C,) = ({c},), where C = y.max() + 1 "
                "is the number of classes."
            )
        distances = ((X[:, None, :] - self.data[None, :, :]) ** 2).sum(axis=2)
        rows = distances.argmin(axis=1)  # which training samples the minibatch holds
        aligned = y.shape == rows.shape and np.array_equal(y, self.labels[rows])
        loss, dW, db = reference_loss_and_grad(W, b, X, self.labels[rows], reg)
        self.steps.append(Step(W, b, rows, aligned, reg, loss, dW, db))
        return loss, dW.copy(), db.copy()


def run_training(fn, X, y, learning_rate, reg, epochs, batch_size, seed):
    """Call fn with a LossRecorder as its softmax_loss_and_grad; return (result, steps)."""
    recorder = LossRecorder(X, y)
    with replacing_global(fn, "softmax_loss_and_grad", recorder):
        result = call(fn, X, y, learning_rate, reg, epochs, batch_size, seed)
    expect(
        recorder.steps,
        "train_softmax never called softmax_loss_and_grad: compute each minibatch's loss and "
        "gradients with softmax_loss_and_grad(W, b, X_batch, y_batch, reg).",
    )
    expect_tuple(result, "train_softmax", 3)
    return result, recorder.steps


def check_updates(steps, W_out, b_out, learning_rate):
    """Each step must be W -= learning_rate * dW, b -= learning_rate * db."""
    after = [(step.W, step.b) for step in steps[1:]] + [(W_out, b_out)]
    for step, (W_next, b_next) in zip(steps, after):
        for name, before, grad, now in [
            ("W", step.W, step.dW, W_next),
            ("b", step.b, step.db, b_next),
        ]:
            if close(now, before - learning_rate * grad):
                continue
            if close(now, before + learning_rate * grad):
                raise AssertionError(
                    f"{name} moves up the gradient, so the loss grows: gradient descent "
                    f"subtracts, {name} -= learning_rate * d{name}."
                )
            if close(now, before):
                raise AssertionError(
                    f"{name} never changes during training: update it after each minibatch "
                    f"with {name} -= learning_rate * d{name}."
                )
            if close(now, before - grad):
                raise AssertionError(
                    f"the step of {name} ignores the learning rate: "
                    f"{name} -= learning_rate * d{name}."
                )
            raise AssertionError(
                f"each update should be {name} -= learning_rate * d{name}, with the gradient "
                "softmax_loss_and_grad returned for the current minibatch (and the returned "
                f"{name} should be the one after the last update)."
            )


@feedback_check("train_softmax")
def test_train_softmax(train_softmax, rng):
    d, c = int(rng.integers(3, 6)), int(rng.integers(3, 5))
    batch_size = int(rng.choice([4, 5, 6]))
    last = int(rng.integers(1, batch_size))  # N is not a multiple of batch_size
    n = int(rng.integers(4, 6)) * batch_size + last
    epochs, learning_rate = 3, float(rng.choice([0.05, 0.1, 0.5]))
    reg, seed = float(rng.choice([0.001, 0.01])), int(rng.integers(1000))
    X = rng.normal(0, 1, size=(n, d))
    y = rng.permutation(np.arange(n) % c)  # every class present: C = y.max() + 1

    (W_out, b_out, history), steps = run_training(
        train_softmax, X, y, learning_rate, reg, epochs, batch_size, seed
    )
    per_epoch = math.ceil(n / batch_size)
    if len(steps) == epochs:
        raise AssertionError(
            "train_softmax made one update per epoch: make one per minibatch, "
            "ceil(N / batch_size) in each epoch."
        )
    if len(steps) == epochs * (n // batch_size):
        raise AssertionError(
            "the last, smaller minibatch of each epoch is skipped: when N is not a multiple of "
            "batch_size, the last minibatch holds the samples that are left."
        )
    expect(
        len(steps) == epochs * per_epoch,
        f"train_softmax made {len(steps)} updates for {epochs} epochs of {n} samples in "
        f"minibatches of {batch_size}: expected one per minibatch, {per_epoch} per epoch.",
    )
    expect(
        all(step.reg == reg for step in steps),
        "pass reg on to softmax_loss_and_grad unchanged, so the penalty is trained too.",
    )
    expect(
        all(step.aligned for step in steps),
        "the labels of a minibatch do not belong to its samples: index X and y with the same "
        "indices, X[batch] and y[batch].",
    )
    epochs_rows = [  # the samples of each epoch, in the order they were used
        np.concatenate([step.rows for step in steps[e * per_epoch : (e + 1) * per_epoch]])
        for e in range(epochs)
    ]
    sizes = [len(step.rows) for step in steps]
    expect(
        all(
            size == batch_size
            for e in range(epochs)
            for size in sizes[e * per_epoch : (e + 1) * per_epoch - 1]
        ),
        f"the minibatches should hold batch_size = {batch_size} samples (only the last one of "
        "an epoch may be smaller).",
    )
    expect(
        all(np.array_equal(np.sort(rows), np.arange(n)) for rows in epochs_rows),
        "each epoch must use every sample exactly once: cut a permutation of the indices "
        "(rng.permutation(N)) into minibatches. Drawing indices with replacement "
        "(rng.choice(N, batch_size)) uses some samples twice and others never.",
    )
    expect(
        not np.array_equal(epochs_rows[0], np.arange(n)),
        "the minibatches follow the order of the data: shuffle the samples at the start of "
        "each epoch (rng.permutation(N)); data files are often sorted, by class for example.",
    )
    expect(
        not np.array_equal(epochs_rows[0], epochs_rows[1]),
        "every epoch visits the samples in the same order: draw a new permutation at the "
        "start of each epoch.",
    )
    W0, b0 = steps[0].W, steps[0].b
    expect(
        W0.shape == (d, c) and b0.shape == (c,),
        f"W should start with shape (D, C) = ({d}, {c}) and b with shape (C,) = ({c},), where "
        "C = y.max() + 1 is the number of classes; yours start with "
        f"{W0.shape} and {b0.shape}.",
    )
    expect(
        np.abs(W0).max() < 0.1,
        "start from small weights, e.g. W = 0.001 * rng.standard_normal((D, C)): large random "
        "weights make confident, wrong first predictions.",
    )
    expect_array(W_out, "W (first value)", shape=(d, c))
    expect_array(b_out, "b (second value)", shape=(c,))
    check_updates(steps, W_out, b_out, learning_rate)
    losses = np.asarray(history, dtype=np.float64)
    expect(
        losses.shape != (epochs,),
        "loss_history should hold the loss of every minibatch (one value per update), not one "
        "per epoch: the curve then shows how each step went.",
    )
    expect(
        losses.shape == (len(steps),) and close(losses, [step.loss for step in steps]),
        "loss_history should hold, in order, the loss softmax_loss_and_grad returned for each "
        "minibatch.",
    )

    (W_again, _, _), steps_again = run_training(
        train_softmax, X, y, learning_rate, reg, epochs, batch_size, seed
    )
    expect(
        len(steps_again) == len(steps)
        and all(np.array_equal(a.rows, b.rows) for a, b in zip(steps, steps_again))
        and close(W_again, W_out),
        "two runs with the same seed gave different results: make every random choice "
        "(initial weights, shuffles) with rng = np.random.default_rng(seed).",
    )
    _, steps_other = run_training(
        train_softmax, X, y, learning_rate, reg, epochs, batch_size, seed + 1
    )
    expect(
        not np.array_equal(steps_other[0].rows, steps[0].rows),
        "train_softmax ignores its seed: another seed should shuffle differently. Make the "
        "random choices with rng = np.random.default_rng(seed).",
    )


# --- predict_softmax -------------------------------------------------------------------------


@feedback_check("predict_softmax")
def test_predict_softmax(predict_softmax, rng):
    n, d, c = distinct_sizes(rng, 3, 13, 3)
    W = rng.normal(0, 1, size=(d, c))
    X = rng.normal(0, 1, size=(n, d))
    b = rng.normal(0, 2, size=c)
    while np.array_equal(np.argmax(X @ W + b, axis=1), np.argmax(X @ W, axis=1)):
        b = rng.normal(0, 2, size=c)  # a bias that changes some predictions
    scores = X @ W + b
    result = call(predict_softmax, W, b, X)
    expect_array(result, "predict_softmax's result")
    if result.shape == (c,):
        raise AssertionError(
            "predict_softmax returned one value per class: take the argmax over the classes "
            "(axis=1), one label per sample. np.argmax over axis 0 picks a sample per class."
        )
    if result.shape == (n, c):
        raise AssertionError(
            "predict_softmax returned scores or probabilities; return the labels: the index of "
            "the largest score of each row, np.argmax(..., axis=1)."
        )
    expect_array(result, "predict_softmax's result", shape=(n,))
    if close(result, scores.max(axis=1)):
        raise AssertionError(
            "np.max returns the largest score; the label is its position: np.argmax."
        )
    expect_array(result, "predict_softmax's result", kind="iu")
    if np.array_equal(result, np.argmax(X @ W, axis=1)):
        raise AssertionError("add the bias b to the scores before taking the argmax: X @ W + b.")
    if np.array_equal(result, np.argmin(scores, axis=1)):
        raise AssertionError("the predicted class has the largest score: np.argmax, not argmin.")
    expect(
        np.array_equal(result, np.argmax(scores, axis=1)),
        "predict_softmax: the labels are not the classes with the largest score X @ W + b.",
    )
