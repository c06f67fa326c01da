"""Wrong answers to notebook 03's svm_loss_and_grad (the reference is the solution's own).

Those with ``mistake=`` are recorded by ``make build``: their results on the check's inputs
are how pixelschool/checks/softmax_svm.py names the mistake (its ``SVM_MESSAGES``). The
others are caught by code or by a relation (a loss exactly 1 too large per sample, a shape,
a loop). Correct variants (``@right``) are right answers written another way: they must pass.
"""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("03_softmax")


def hinge(W, b, X, y, margin=1.0):
    """Margins (N, C), the correct class's set to 0, and the rows' indices."""
    scores = X @ W + b
    rows = np.arange(len(X))
    margins = np.maximum(0, scores - scores[rows, y][:, None] + margin)
    margins[rows, y] = 0
    return margins, rows


def gradients(X, y, rows, positive, W, reg, *, correct_term=True, average=True):
    """dW (D, C) and db (C,) from the (N, C) indicator of positive margins."""
    dscores = positive.astype(float)
    if correct_term:
        dscores[rows, y] -= positive.sum(axis=1)
    if average:
        dscores /= len(X)
    return X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("svm_loss_and_grad", says="correct class's own margin", mistake="own_margin")
def svm_counts_own_margin(W, b, X, y, reg):
    scores = X @ W + b
    rows = np.arange(len(X))
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)  # own margin: always 1
    loss = np.sum(margins) / len(X) + reg * np.sum(W * W)
    positive = (margins > 0).astype(float)
    positive[rows, y] = -positive.sum(axis=1)  # the sum counts the own margin as well
    dscores = positive / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("svm_loss_and_grad", says="correct class's own margin")
def svm_own_margin_in_loss_only(W, b, X, y, reg):
    scores = X @ W + b
    rows = np.arange(len(X))
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    loss = np.sum(margins) / len(X) + reg * np.sum(W * W)  # the own margin adds 1 per sample
    margins[rows, y] = 0
    return loss, *gradients(X, y, rows, margins > 0, W, reg)


@wrong("svm_loss_and_grad", says="the margin is 1", mistake="margin_zero")
def svm_margin_zero(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y, margin=0.0)
    loss = np.sum(margins) / len(X) + reg * np.sum(W * W)
    return loss, *gradients(X, y, rows, margins > 0, W, reg)


@wrong("svm_loss_and_grad", says="correct class's part", mistake="no_correct_class_grad")
def svm_no_correct_class_gradient(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    loss = np.sum(margins) / len(X) + reg * np.sum(W * W)
    return loss, *gradients(X, y, rows, margins > 0, W, reg, correct_term=False)


@wrong("svm_loss_and_grad", says="not reg * W", mistake="half_reg_gradient")
def svm_half_reg_gradient(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    loss = np.sum(margins) / len(X) + reg * np.sum(W * W)
    dW, db = gradients(X, y, rows, margins > 0, W, reg)
    return loss, dW - reg * W, db


@wrong("svm_loss_and_grad", says="missing the regularisation term", mistake="no_reg_gradient")
def svm_no_reg_gradient(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    loss = np.sum(margins) / len(X) + reg * np.sum(W * W)
    return loss, *gradients(X, y, rows, margins > 0, W, 0.0)


@wrong("svm_loss_and_grad", says="summed over the batch", mistake="summed")
def svm_summed(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    loss = np.sum(margins) + reg * np.sum(W * W)
    return loss, *gradients(X, y, rows, margins > 0, W, reg, average=False)


@wrong("svm_loss_and_grad", says="the loss is averaged", mistake="grad_not_averaged")
def svm_gradient_not_averaged(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    loss = np.mean(np.sum(margins, axis=1)) + reg * np.sum(W * W)
    return loss, *gradients(X, y, rows, margins > 0, W, reg, average=False)


@wrong("svm_loss_and_grad", says="bias is not regularised", mistake="bias_regularised")
def svm_regularised_bias(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    loss = np.sum(margins) / len(X) + reg * (np.sum(W * W) + np.sum(b * b))
    dW, db = gradients(X, y, rows, margins > 0, W, reg)
    return loss, dW, db + 2 * reg * b


@wrong("svm_loss_and_grad", says="dW is transposed")
def svm_transposed(W, b, X, y, reg):
    loss, dW, db = solution.svm_loss_and_grad(W, b, X, y, reg)
    return loss, dW.T, db


@wrong("svm_loss_and_grad", says="uses a `for` loop")
def svm_loop(W, b, X, y, reg):
    loss, dW, db = reg * np.sum(W * W), 2 * reg * W, np.zeros_like(b)
    for x, label in zip(X, y):
        scores = x @ W + b
        margins = np.maximum(0, scores - scores[label] + 1)
        margins[label] = 0
        loss += margins.sum() / len(X)
        positive = (margins > 0).astype(float)
        positive[label] = -positive.sum()
        dW += np.outer(x, positive) / len(X)
        db += positive / len(X)
    return loss, dW, db


@right("svm_loss_and_grad")
def svm_boolean_mask(W, b, X, y, reg):
    scores = X @ W + b
    num_samples = X.shape[0]
    is_correct = np.zeros(scores.shape, dtype=bool)
    is_correct[np.arange(num_samples), y] = True
    correct = scores[is_correct][:, np.newaxis]  # (N, 1), one True per row
    margins = np.where(is_correct, 0.0, np.maximum(0, scores - correct + 1))
    loss = margins.sum() / num_samples + reg * np.sum(W**2)
    counts = (margins > 0).sum(axis=1)
    dscores = (margins > 0) * 1.0 - is_correct * counts[:, np.newaxis]
    dscores /= num_samples
    return loss, X.T.dot(dscores) + reg * 2 * W, dscores.sum(axis=0)


@right("svm_loss_and_grad")
def svm_subtract_own_margin(W, b, X, y, reg):
    num_samples = len(y)
    scores = X.dot(W) + b
    margins = np.maximum(0, scores - scores[np.arange(num_samples), y].reshape(-1, 1) + 1)
    loss = (margins.sum() - num_samples) / num_samples  # each row's own margin is exactly 1
    loss += reg * (W * W).sum()
    binary = (margins > 0).astype(np.float64)
    binary[np.arange(num_samples), y] = 0
    binary[np.arange(num_samples), y] = -binary.sum(axis=1)
    dW = X.T @ binary / num_samples + 2 * reg * W
    return float(loss), dW, binary.sum(axis=0) / num_samples


@right("svm_loss_and_grad")
def svm_mean_of_row_sums(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    loss = np.mean(margins.sum(axis=1)) + reg * np.sum(np.square(W))
    return loss, *gradients(X, y, rows, margins > 0, W, reg)


@right("svm_loss_and_grad")
def svm_where_masks(W, b, X, y, reg):
    num_samples = len(y)
    scores = X @ W + b
    margins = scores - scores[np.arange(num_samples), y][:, None] + 1
    margins = np.where(margins > 0, margins, 0)
    margins[range(num_samples), y] = 0
    loss = margins.sum(axis=1).mean() + reg * (W**2).sum()
    dscores = np.where(margins > 0, 1.0, 0.0)
    dscores[range(num_samples), y] = -dscores.sum(1)
    dscores /= num_samples
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(0)


@right("svm_loss_and_grad")
def svm_indicator_matrices(W, b, X, y, reg):
    num_samples = X.shape[0]
    targets = np.eye(W.shape[1])[y]  # (N, C) one-hot
    scores = X @ W + b
    correct = np.sum(scores * targets, axis=1, keepdims=True)
    margins = np.maximum(0, scores - correct + 1) * (1 - targets)
    positive = (margins > 0).astype(np.float64)
    dscores = positive - targets * positive.sum(axis=1, keepdims=True)
    loss = margins.sum() / num_samples + reg * np.sum(W * W)
    return loss, X.T @ dscores / num_samples + 2 * reg * W, dscores.mean(axis=0)


@right("svm_loss_and_grad")
def svm_take_along_axis_einsum(W, b, X, y, reg):
    num_samples = X.shape[0]
    scores = np.einsum("nd,dc->nc", X, W) + b
    correct = np.take_along_axis(scores, y[:, None], axis=1)
    margins = np.clip(scores - correct + 1, 0, None)
    np.put_along_axis(margins, y[:, None], 0, axis=1)
    positive = margins > 0
    dscores = positive.astype(W.dtype)
    counts = positive.sum(axis=1, keepdims=True).astype(W.dtype)
    np.put_along_axis(dscores, y[:, None], -counts, axis=1)
    loss = margins.sum() / num_samples + reg * np.sum(W * W)
    dW = np.einsum("nd,nc->dc", X, dscores) / num_samples + 2 * reg * W
    return float(loss), dW, dscores.sum(axis=0) / num_samples


@wrong("svm_loss_and_grad", says="the loss is not the mean over the samples")
def svm_no_bias(W, b, X, y, reg):
    return solution.svm_loss_and_grad(W, np.zeros_like(b), X, y, reg)  # scores = X @ W only


@wrong("svm_loss_and_grad", says="dW is not its gradient")
def svm_correct_class_minus_one(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    dscores = (margins > 0).astype(float)
    dscores[rows, y] = -1  # -1 per sample, not -(its number of positive margins)
    dscores /= len(X)
    loss = np.sum(margins) / len(X) + reg * np.sum(W * W)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("svm_loss_and_grad", says="dW is not its gradient")
def svm_gradient_weighted_by_margins(W, b, X, y, reg):
    margins, rows = hinge(W, b, X, y)
    dscores = margins.copy()  # the margins' values, not the indicator of positive ones
    dscores[rows, y] = -margins.sum(axis=1)
    dscores /= len(X)
    loss = np.sum(margins) / len(X) + reg * np.sum(W * W)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("svm_loss_and_grad", says="db is not its gradient")
def svm_db_zero(W, b, X, y, reg):
    loss, dW, db = solution.svm_loss_and_grad(W, b, X, y, reg)
    return loss, dW, np.zeros_like(db)
