"""Feedback check for notebook 03's train_softmax (minibatch SGD), all code.

A stand-in for softmax_loss_and_grad records every call, and each minibatch, shuffle and
update is checked against what it returned: a right result depends on the order in which a
student draws random numbers, so there is nothing to record. Its wrong answers are in
``pixelschool_admin/answers/softmax_training.py``.
"""

import math
from collections import namedtuple

import numpy as np

from pixelschool.checks.compare import close
from pixelschool.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
    observed,
    replacing_global,
)
from pixelschool.checks.transcript import ReplayError

__all__ = ["test_train_softmax"]


# --- train_softmax ---------------------------------------------------------------------------

TRAIN_MESSAGES = {
    "no_call": "train_softmax never called softmax_loss_and_grad: compute each minibatch's "
    "loss and gradients with softmax_loss_and_grad(W, b, X_batch, y_batch, reg).",
    "per_epoch": "train_softmax made one update per epoch: make one per minibatch, "
    "ceil(N / batch_size) in each epoch.",
    "last_batch": "the last, smaller minibatch of each epoch is skipped: when N is not a "
    "multiple of batch_size, the last minibatch holds the samples that are left.",
    "reg": "pass reg on to softmax_loss_and_grad unchanged, so the penalty is trained too.",
    "labels": "the labels of a minibatch do not belong to its samples: index X and y with the "
    "same indices, X[batch] and y[batch].",
    "replacement": "each epoch must use every sample exactly once: cut a permutation of the "
    "indices (rng.permutation(N)) into minibatches. Drawing indices with replacement "
    "(rng.choice(N, batch_size)) uses some samples twice and others never.",
    "no_shuffle": "the minibatches follow the order of the data: shuffle the samples at the "
    "start of each epoch (rng.permutation(N)); data files are often sorted, by class for "
    "example.",
    "same_order": "every epoch visits the samples in the same order: draw a new permutation "
    "at the start of each epoch.",
    "large_init": "start from small weights, e.g. W = 0.001 * rng.standard_normal((D, C)): "
    "large random weights make confident, wrong first predictions.",
    "epoch_history": "loss_history should hold the loss of every minibatch (one value per "
    "update), not one per epoch: the curve then shows how each step went.",
    "history": "loss_history should hold, in order, the loss softmax_loss_and_grad returned "
    "for each minibatch.",
    "unseeded": "two runs with the same seed gave different results: make every random choice "
    "(initial weights, shuffles) with rng = np.random.default_rng(seed).",
    "fixed_seed": "train_softmax ignores its seed: another seed should shuffle differently. "
    "Make the random choices with rng = np.random.default_rng(seed).",
}
UPDATE_MESSAGES = {  # how an update of W or b ({0}) goes wrong
    "ascent": "{0} moves up the gradient, so the loss grows: gradient descent subtracts, "
    "{0} -= learning_rate * d{0}.",
    "frozen": "{0} never changes during training: update it after each minibatch with "
    "{0} -= learning_rate * d{0}.",
    "no_rate": "the step of {0} ignores the learning rate: {0} -= learning_rate * d{0}.",
    "other": "each update should be {0} -= learning_rate * d{0}, with the gradient "
    "softmax_loss_and_grad returned for the current minibatch (and the returned {0} should be "
    "the one after the last update).",
}

# One call of softmax_loss_and_grad during training: the minibatch's rows of the training
# set, whether y_batch are their labels, and what the stand-in got and returned.
Step = namedtuple("Step", "W b rows aligned reg loss dW db")


class LossStandIn:
    """Stands in for softmax_loss_and_grad during training and records every call.

    It returns the loss and gradients of a least-squares surrogate (the scores X @ W + b
    against one-hot labels, plus reg * sum(W**2)), not those of the softmax: train_softmax
    only has to apply them, so it is checked on its own, whatever the student's
    softmax_loss_and_grad does.
    """

    def __init__(self, X, y, log):
        self.data, self.labels, self.log = X, y, log  # log: an ``observed`` list of calls

    @property
    def steps(self):
        """Each call as a :class:`Step`, computed here from what the student's code passed (the
        log holds only that): in the grader too, whatever the kernel says it returned."""
        return [
            self.step(*self.minibatch(W, b, X, y, ReplayError), reg) for W, b, X, y, reg in self.log
        ]

    def __call__(self, W, b, X, y, reg):  # the exercise's parameter names: keywords work too
        W, b, X, y = self.minibatch(W, b, X, y, ValueError)
        self.log.append((W, b, X, y, reg))
        step = self.step(W, b, X, y, reg)
        return step.loss, step.dW.copy(), step.db.copy()

    def minibatch(self, W, b, X, y, error):
        """The arrays of one call, as float64 (and y as an array); ``error`` if their shapes
        are not those of a minibatch of the training set."""
        W, b = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        n, d, c = len(self.data), self.data.shape[1], int(self.labels.max()) + 1
        if X.ndim != 2 or X.shape[1] != d or W.shape != (d, c) or b.shape != (c,) or len(X) > n:
            raise error(
                f"softmax_loss_and_grad got X {X.shape}, W {W.shape} and b {b.shape}; a "
                f"minibatch X[indices] has shape (batch_size, {d}) with batch_size at most N = "
                f"{n}, W (D, C) = ({d}, {c}) and b (C,) = ({c},), where C = y.max() + 1 is the "
                "number of classes."
            )
        return W, b, X, y

    def step(self, W, b, X, y, reg):
        """The stand-in's answer to one call: the minibatch's rows of the training set, whether
        y are their labels, the surrogate's loss and gradients."""
        c = int(self.labels.max()) + 1
        distances = ((X[:, None, :] - self.data[None, :, :]) ** 2).sum(axis=2)
        rows = distances.argmin(axis=1)  # which training samples the minibatch holds
        aligned = y.shape == rows.shape and np.array_equal(y, self.labels[rows])
        residual = X @ W + b - np.eye(c)[self.labels[rows]]  # (n, C)
        loss = float(0.5 * np.mean(np.sum(residual**2, axis=1)) + reg * np.sum(W * W))
        dW, db = X.T @ residual / len(X) + 2 * reg * W, residual.mean(axis=0)
        return Step(W, b, rows, aligned, reg, loss, dW, db)


def run_training(fn, X, y, learning_rate, reg, epochs, batch_size, seed):
    """Call fn with a LossStandIn as its softmax_loss_and_grad; return (result, steps)."""
    with observed() as log:
        stand_in = LossStandIn(X, y, log)
        with replacing_global(fn, "softmax_loss_and_grad", stand_in):
            result = call(fn, X, y, learning_rate, reg, epochs, batch_size, seed)
    expect(stand_in.steps, TRAIN_MESSAGES["no_call"], mistake="loss_and_grad_not_called")
    expect_tuple(result, "train_softmax", 3)
    return result, stand_in.steps


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
            wrong_steps = [before + learning_rate * grad, before, before - grad]
            for mistake, instead in zip(["ascent", "frozen", "no_rate"], wrong_steps):
                expect(
                    not close(now, instead),
                    UPDATE_MESSAGES[mistake].format(name),
                    mistake="wrong_update",
                )
            raise AssertionError(UPDATE_MESSAGES["other"].format(name))


def check_minibatches(steps, n, epochs, batch_size, reg):
    """One call per minibatch, the right samples and labels, every sample once per epoch."""
    per_epoch = math.ceil(n / batch_size)
    expect(len(steps) != epochs, TRAIN_MESSAGES["per_epoch"])
    expect(
        len(steps) != epochs * (n // batch_size),
        TRAIN_MESSAGES["last_batch"],
        mistake="last_batch_dropped",
    )
    expect(
        len(steps) == epochs * per_epoch,
        f"train_softmax made {len(steps)} updates for {epochs} epochs of {n} samples in "
        f"minibatches of {batch_size}: expected one per minibatch, {per_epoch} per epoch.",
    )
    expect(all(step.reg == reg for step in steps), TRAIN_MESSAGES["reg"], mistake="reg_not_passed")
    expect(
        all(step.aligned for step in steps), TRAIN_MESSAGES["labels"], mistake="labels_misaligned"
    )
    epochs_steps = [steps[e * per_epoch : (e + 1) * per_epoch] for e in range(epochs)]
    expect(
        all(len(step.rows) == batch_size for epoch in epochs_steps for step in epoch[:-1]),
        f"the minibatches should hold batch_size = {batch_size} samples (only the last one of "
        "an epoch may be smaller).",
    )
    epochs_rows = [np.concatenate([step.rows for step in epoch]) for epoch in epochs_steps]
    expect(
        all(np.array_equal(np.sort(rows), np.arange(n)) for rows in epochs_rows),
        TRAIN_MESSAGES["replacement"],
        mistake="not_a_permutation",
    )
    expect(
        not np.array_equal(epochs_rows[0], np.arange(n)),
        TRAIN_MESSAGES["no_shuffle"],
        mistake="not_shuffled",
    )
    expect(
        not np.array_equal(epochs_rows[0], epochs_rows[1]),
        TRAIN_MESSAGES["same_order"],
        mistake="shuffled_once",
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
    training = (X, y, learning_rate, reg, epochs, batch_size)

    (W_out, b_out, history), steps = run_training(train_softmax, *training, seed)
    check_minibatches(steps, n, epochs, batch_size, reg)
    W0, b0 = steps[0].W, steps[0].b
    expect(
        W0.shape == (d, c) and b0.shape == (c,),
        f"W should start with shape (D, C) = ({d}, {c}) and b with shape (C,) = ({c},), where "
        f"C = y.max() + 1 is the number of classes; yours start with {W0.shape} and "
        f"{b0.shape}.",
    )
    expect(np.abs(W0).max() < 0.1, TRAIN_MESSAGES["large_init"], mistake="large_init")
    expect_array(W_out, "W (first value)", shape=(d, c))
    expect_array(b_out, "b (second value)", shape=(c,))
    check_updates(steps, W_out, b_out, learning_rate)
    losses = np.asarray(history, dtype=np.float64)
    expect(losses.shape != (epochs,), TRAIN_MESSAGES["epoch_history"], mistake="history_per_epoch")
    expect(
        losses.shape == (len(steps),) and close(losses, np.array([s.loss for s in steps])),
        TRAIN_MESSAGES["history"],
    )
    (W_again, _, _), steps_again = run_training(train_softmax, *training, seed)
    expect(
        len(steps_again) == len(steps)
        and all(np.array_equal(a.rows, b.rows) for a, b in zip(steps, steps_again))
        and close(W_again, W_out),
        TRAIN_MESSAGES["unseeded"],
        mistake="not_reproducible",
    )
    _, steps_other = run_training(train_softmax, *training, seed + 1)
    expect(
        not np.array_equal(steps_other[0].rows, steps[0].rows),
        TRAIN_MESSAGES["fixed_seed"],
        mistake="seed_ignored",
    )
