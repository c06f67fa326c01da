"""Wrong answers to notebook 03's ``train_softmax`` (minibatch SGD), caught by the check's
code: its stand-in for softmax_loss_and_grad sees every minibatch, shuffle and update.
"""

import numpy as np

from pixelschool_admin.answers.registry import solution_functions, wrong

solution = solution_functions("03_softmax")

# The answers call it by this global name, as a student's notebook does; the train_softmax
# check stands in for it while it runs.
softmax_loss_and_grad = solution.softmax_loss_and_grad

# --- train_softmax -------------------------------------------------------------------------


def sgd(X, y, learning_rate, reg, epochs, batch_size, seed, *, step=None, orders=None):
    """The solution's loop, with the update and the epoch orders replaceable."""
    rng = np.random.default_rng(seed)
    W = 0.001 * rng.standard_normal((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    history = []
    for epoch in range(epochs):
        order = rng.permutation(len(X)) if orders is None else orders(rng, epoch)
        for start in range(0, len(X), batch_size):
            batch = order[start : start + batch_size]
            loss, dW, db = softmax_loss_and_grad(W, b, X[batch], y[batch], reg)
            if step is None:
                W, b = W - learning_rate * dW, b - learning_rate * db
            else:
                W, b = step(W, b, dW, db, learning_rate)
            history.append(loss)
    return W, b, history


@wrong("train_softmax", says="moves up the gradient", mistake="wrong_update")
def train_gradient_ascent(X, y, learning_rate, reg, epochs, batch_size, seed):
    step = lambda W, b, dW, db, lr: (W + lr * dW, b + lr * db)  # noqa: E731
    return sgd(X, y, learning_rate, reg, epochs, batch_size, seed, step=step)


@wrong("train_softmax", says="b never changes", mistake="wrong_update")
def train_bias_frozen(X, y, learning_rate, reg, epochs, batch_size, seed):
    step = lambda W, b, dW, db, lr: (W - lr * dW, b)  # noqa: E731
    return sgd(X, y, learning_rate, reg, epochs, batch_size, seed, step=step)


@wrong("train_softmax", says="ignores the learning rate", mistake="wrong_update")
def train_without_learning_rate(X, y, learning_rate, reg, epochs, batch_size, seed):
    step = lambda W, b, dW, db, lr: (W - dW, b - db)  # noqa: E731
    return sgd(X, y, learning_rate, reg, epochs, batch_size, seed, step=step)


@wrong("train_softmax", says="follow the order of the data", mistake="not_shuffled")
def train_without_shuffle(X, y, learning_rate, reg, epochs, batch_size, seed):
    orders = lambda rng, epoch: np.arange(len(X))  # noqa: E731
    return sgd(X, y, learning_rate, reg, epochs, batch_size, seed, orders=orders)


@wrong("train_softmax", says="same order", mistake="shuffled_once")
def train_shuffled_once(X, y, learning_rate, reg, epochs, batch_size, seed):
    order = np.random.default_rng(seed).permutation(len(X))
    return sgd(X, y, learning_rate, reg, epochs, batch_size, seed, orders=lambda *_: order)


@wrong("train_softmax", says="exactly once", mistake="not_a_permutation")
def train_with_replacement(X, y, learning_rate, reg, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    W = 0.001 * rng.standard_normal((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    history = []
    for _ in range(epochs * int(np.ceil(len(X) / batch_size))):
        batch = rng.choice(len(X), batch_size)  # CS231n's sampling, with replacement
        loss, dW, db = softmax_loss_and_grad(W, b, X[batch], y[batch], reg)
        W, b = W - learning_rate * dW, b - learning_rate * db
        history.append(loss)
    return W, b, history


@wrong("train_softmax", says="last, smaller minibatch", mistake="last_batch_dropped")
def train_drops_last_batch(X, y, learning_rate, reg, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    W = 0.001 * rng.standard_normal((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X) - batch_size + 1, batch_size):
            batch = order[start : start + batch_size]
            loss, dW, db = softmax_loss_and_grad(W, b, X[batch], y[batch], reg)
            W, b = W - learning_rate * dW, b - learning_rate * db
            history.append(loss)
    return W, b, history


@wrong("train_softmax", says="do not belong to its samples", mistake="labels_misaligned")
def train_labels_not_shuffled(X, y, learning_rate, reg, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    W = 0.001 * rng.standard_normal((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    history = []
    for _ in range(epochs):
        X_shuffled = rng.permutation(X)
        for start in range(0, len(X), batch_size):
            end = start + batch_size
            loss, dW, db = softmax_loss_and_grad(W, b, X_shuffled[start:end], y[start:end], reg)
            W, b = W - learning_rate * dW, b - learning_rate * db
            history.append(loss)
    return W, b, history


@wrong("train_softmax", says="pass reg on", mistake="reg_not_passed")
def train_without_reg(X, y, learning_rate, reg, epochs, batch_size, seed):
    return sgd(X, y, learning_rate, 0.0, epochs, batch_size, seed)


@wrong("train_softmax", says="same seed gave different results", mistake="not_reproducible")
def train_unseeded(X, y, learning_rate, reg, epochs, batch_size, seed):
    return sgd(X, y, learning_rate, reg, epochs, batch_size, None)


@wrong("train_softmax", says="ignores its seed", mistake="seed_ignored")
def train_fixed_seed(X, y, learning_rate, reg, epochs, batch_size, seed):
    return sgd(X, y, learning_rate, reg, epochs, batch_size, 0)


@wrong("train_softmax", says="not one per epoch", mistake="history_per_epoch")
def train_epoch_history(X, y, learning_rate, reg, epochs, batch_size, seed):
    W, b, history = sgd(X, y, learning_rate, reg, epochs, batch_size, seed)
    return W, b, np.reshape(history, (epochs, -1)).mean(axis=1)


@wrong("train_softmax", says="start from small weights", mistake="large_init")
def train_large_init(X, y, learning_rate, reg, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((X.shape[1], int(y.max()) + 1))
    b = np.zeros(W.shape[1])
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start : start + batch_size]
            loss, dW, db = softmax_loss_and_grad(W, b, X[batch], y[batch], reg)
            W, b = W - learning_rate * dW, b - learning_rate * db
            history.append(loss)
    return W, b, history


@wrong(
    "train_softmax", says="never called softmax_loss_and_grad", mistake="loss_and_grad_not_called"
)
def train_inline_gradient(X, y, learning_rate, reg, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    num_classes = int(y.max()) + 1
    W = 0.001 * rng.standard_normal((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start : start + batch_size]
            probs = solution.softmax(X[batch] @ W + b)
            dscores = (probs - np.eye(num_classes)[y[batch]]) / len(batch)
            W = W - learning_rate * (X[batch].T @ dscores + 2 * reg * W)
            b = b - learning_rate * dscores.sum(axis=0)
            history.append(-np.mean(np.log(probs[np.arange(len(batch)), y[batch]])))
    return W, b, history
