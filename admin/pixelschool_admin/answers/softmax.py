"""Wrong answers to notebook 03 (the references are the solution notebook's own functions).

Those with ``mistake=`` are recorded by ``make build``: their results on the checks' inputs
are how pixelschool/checks/softmax.py names the mistake (its ``*_MESSAGES``). The others are
caught by code (a shape, a dtype, nan or inf, an in-place change, a loop). train_softmax's
wrong answers are in ``softmax_training.py``, beside its check's name.
Correct variants (``@right``) are right answers written another way: they must pass.
"""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("03_softmax")

# --- softmax -------------------------------------------------------------------------------


@wrong("softmax", says="wrong axis", mistake="over_columns")
def softmax_over_columns(scores):
    exp_scores = np.exp(scores - scores.max(axis=0, keepdims=True))
    return exp_scores / exp_scores.sum(axis=0, keepdims=True)


@wrong("softmax", says="Subtract the row maximum")
def softmax_unstable(scores):
    exp_scores = np.exp(scores)
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)


@wrong("softmax", says="not the maximum of the whole array")
def softmax_global_max(scores):
    exp_scores = np.exp(scores - scores.max())
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)


@wrong("softmax", says="sum of the whole array", mistake="whole_sum")
def softmax_whole_array_sum(scores):
    exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp_scores / exp_scores.sum()


@wrong("softmax", says="keepdims=True")
def softmax_without_keepdims(scores):
    exp_scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp_scores / exp_scores.sum(axis=1)


@wrong("softmax", says="in place")
def softmax_shifts_input(scores):
    scores -= scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)


@wrong("softmax", says="must sum to 1", mistake="not_normalised")
def softmax_not_normalised(scores):
    return np.exp(scores - scores.max(axis=1, keepdims=True))


# --- cross_entropy_loss --------------------------------------------------------------------


def target_log_probs(probs, targets_one_hot):
    return np.log(np.sum(probs * targets_one_hot, axis=1))


@wrong("cross_entropy_loss", says="not averaged", mistake="summed")
def cross_entropy_summed(probs, targets_one_hot):
    return -np.sum(target_log_probs(probs, targets_one_hot))


@wrong("cross_entropy_loss", says="one loss per sample")
def cross_entropy_per_sample(probs, targets_one_hot):
    return -target_log_probs(probs, targets_one_hot)


@wrong("cross_entropy_loss", says="MINUS the log-probability", mistake="no_minus")
def cross_entropy_no_minus(probs, targets_one_hot):
    return np.mean(target_log_probs(probs, targets_one_hot))


@wrong("cross_entropy_loss", says="all N x C entries", mistake="all_entries")
def cross_entropy_mean_of_everything(probs, targets_one_hot):
    return -np.mean(targets_one_hot * np.log(probs))


@wrong("cross_entropy_loss", says="exactly 0")
def cross_entropy_zero_times_log_zero(probs, targets_one_hot):
    return -np.mean(np.sum(targets_one_hot * np.log(probs), axis=1))


@wrong("cross_entropy_loss", says="natural logarithm", mistake="log_base")
def cross_entropy_log10(probs, targets_one_hot):
    return -np.mean(np.log10(np.sum(probs * targets_one_hot, axis=1)))


@wrong("cross_entropy_loss", says="natural logarithm", mistake="log_base")
def cross_entropy_log2(probs, targets_one_hot):
    return -np.mean(np.log2(np.sum(probs * targets_one_hot, axis=1)))


@right("cross_entropy_loss")
def cross_entropy_by_index(probs, targets_one_hot):
    labels = np.argmax(targets_one_hot, axis=1)
    return -np.mean(np.log(probs[np.arange(len(probs)), labels]))


# --- softmax_loss_and_grad -----------------------------------------------------------------


def forward(W, b, X, y):
    """probs (N, C) and one-hot targets (N, C), as the solution computes them."""
    return solution.softmax(X @ W + b), np.eye(W.shape[1])[y]


def data_loss(W, b, X, y):
    """The mean cross-entropy through the log-softmax, finite however far the scores spread."""
    scores = X @ W + b
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_probs[np.arange(len(X)), y]))


@wrong("softmax_loss_and_grad", says="wrong sign", mistake="wrong_sign")
def loss_and_grad_wrong_sign(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + reg * np.sum(W * W)
    dscores = (targets - probs) / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong(
    "softmax_loss_and_grad",
    says="dW is missing the regularisation term",
    mistake="no_reg_gradient",
)
def loss_and_grad_no_reg_gradient(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="not reg * W", mistake="half_reg_gradient")
def loss_and_grad_half_reg_gradient(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + reg * W, dscores.sum(axis=0)


@wrong(
    "softmax_loss_and_grad",
    says="loss is missing the regularisation term",
    mistake="no_penalty",
)
def loss_and_grad_no_penalty(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    dscores = (probs - targets) / len(X)
    loss = data_loss(W, b, X, y)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="not averaged over the batch", mistake="summed_loss")
def loss_and_grad_summed_loss(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = -np.sum(np.log(np.sum(probs * targets, axis=1))) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="N times too large", mistake="grad_not_averaged")
def loss_and_grad_gradient_not_averaged(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + reg * np.sum(W * W)
    dscores = probs - targets
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="bias gradient is not summed over the batch")
def loss_and_grad_bias_per_sample(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores


@wrong(
    "softmax_loss_and_grad",
    says="Every sample adds to the bias gradient",
    mistake="bias_one_row",
)
def loss_and_grad_bias_first_row(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores[0]


@wrong("softmax_loss_and_grad", says="bias is not regularised", mistake="bias_regularised")
def loss_and_grad_regularised_bias(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + reg * (np.sum(W * W) + np.sum(b * b))
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0) + 2 * reg * b


@wrong("softmax_loss_and_grad", says="dW is transposed")
def loss_and_grad_transposed(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, dscores.T @ X + 2 * reg * W.T, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="overflows for large scores")
def loss_and_grad_unstable(W, b, X, y, reg):
    exp_scores = np.exp(X @ W + b)
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
    targets = np.eye(W.shape[1])[y]
    loss = solution.cross_entropy_loss(probs, targets) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="thousands above")
def loss_and_grad_global_max(W, b, X, y, reg):
    scores = X @ W + b
    exp_scores = np.exp(scores - np.max(scores))  # one maximum for the whole batch
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
    targets = np.eye(W.shape[1])[y]
    loss = solution.cross_entropy_loss(probs, targets) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="not 0.5 * reg", mistake="half_penalty")
def loss_and_grad_half_penalty(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)
    loss = data_loss(W, b, X, y) + 0.5 * reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="underflows to exactly 0")
def loss_and_grad_log_of_probs(W, b, X, y, reg):
    probs, targets = forward(W, b, X, y)  # the stable softmax, then the log of a probability
    loss = solution.cross_entropy_loss(probs, targets) + reg * np.sum(W * W)
    dscores = (probs - targets) / len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="underflows to exactly 0")
def loss_and_grad_log_of_picked_probs(W, b, X, y, reg):
    probs = solution.softmax(X @ W + b)
    rows = np.arange(len(X))
    loss = -np.mean(np.log(probs[rows, y])) + reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[rows, y] -= 1
    dscores /= len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@right("softmax_loss_and_grad")
def loss_and_grad_log_sum_exp(W, b, X, y, reg):
    scores = X @ W + b
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(X))
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    dscores /= len(X)
    return float(loss), X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="uses a `for` loop")
def loss_and_grad_loop(W, b, X, y, reg):
    loss, dW, db = reg * np.sum(W * W), 2 * reg * W, np.zeros_like(b)
    for x, label in zip(X, y):
        probs = solution.softmax((x @ W + b)[None, :])[0]
        loss -= np.log(probs[label]) / len(X)  # (and not finite when probs[label] underflows)
        probs[label] -= 1
        dW += np.outer(x, probs) / len(X)
        db += probs / len(X)
    return loss, dW, db


# --- predict_softmax -----------------------------------------------------------------------


@wrong("predict_softmax", says="one value per class")
def predict_over_samples(W, b, X):
    return np.argmax(X @ W + b, axis=0)


@wrong("predict_softmax", says="add the bias", mistake="no_bias")
def predict_without_bias(W, b, X):
    return np.argmax(X @ W, axis=1)


@wrong("predict_softmax", says="scores or probabilities")
def predict_probabilities(W, b, X):
    return solution.softmax(X @ W + b)


@wrong("predict_softmax", says="np.max returns the largest score", mistake="max_score")
def predict_max_score(W, b, X):
    return np.max(X @ W + b, axis=1)


@wrong("predict_softmax", says="not argmin", mistake="argmin")
def predict_argmin(W, b, X):
    return np.argmin(X @ W + b, axis=1)


@wrong("predict_softmax", says="expected integer")
def predict_float_labels(W, b, X):
    return np.argmax(X @ W + b, axis=1).astype(np.float64)


@right("softmax_loss_and_grad")
def loss_and_grad_scipy_logsumexp(W, b, X, y, reg):
    from scipy.special import logsumexp

    scores = X @ W + b
    rows = np.arange(len(X))
    row_lse = logsumexp(scores, axis=1)  # (N,), stable
    loss = np.mean(row_lse - scores[rows, y]) + reg * np.sum(W * W)
    dscores = np.exp(scores - row_lse[:, None])
    dscores[rows, y] -= 1
    dscores /= len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@right("softmax_loss_and_grad")
def loss_and_grad_take_along_tensordot(W, b, X, y, reg):
    scores = np.dot(X, W) + b
    row_max = np.max(scores, axis=1, keepdims=True)
    log_probs = scores - (row_max + np.log(np.sum(np.exp(scores - row_max), axis=1, keepdims=True)))
    loss = -np.take_along_axis(log_probs, y[:, None], axis=1).mean() + reg * np.sum(W * W)
    dscores = np.exp(log_probs)
    picked = np.take_along_axis(dscores, y[:, None], axis=1)
    np.put_along_axis(dscores, y[:, None], picked - 1, axis=1)
    dscores /= len(X)
    return loss, np.tensordot(X, dscores, axes=([0], [0])) + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="the loss is not the mean cross-entropy")
def loss_and_grad_log_plus_epsilon(W, b, X, y, reg):
    probs = solution.softmax(X @ W + b)
    rows = np.arange(len(X))
    loss = -np.mean(np.log(probs[rows, y] + 1e-12)) + reg * np.sum(W * W)  # finite, but 27.6
    dscores = probs.copy()
    dscores[rows, y] -= 1
    dscores /= len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="the loss is not the mean cross-entropy")
def loss_and_grad_clipped_probability(W, b, X, y, reg):
    probs = solution.softmax(X @ W + b)
    rows = np.arange(len(X))
    loss = -np.mean(np.log(np.clip(probs[rows, y], 1e-15, 1))) + reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[rows, y] -= 1
    dscores /= len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)


@wrong("softmax_loss_and_grad", says="overflows for large scores")
def loss_and_grad_log_softmax_unshifted(W, b, X, y, reg):
    scores = X @ W + b
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))  # inf - inf
    rows = np.arange(len(X))
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    dscores /= len(X)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)
