"""Wrong answers to notebook 05: the ReLU network of any depth and dropout (the layers and
init_layers are in mlp_modular.py, train_network in mlp_network_training.py).

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/mlp_deep.py. A wrong answer with ``mistake=`` has its results recorded:
the check names that mistake (its ``*_MESSAGES``) when a student's results match them."""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("05_mlp")


def softmax(scores, axis=1, stable=True):
    if stable:
        scores = scores - scores.max(axis=axis, keepdims=True)
    exp_scores = np.exp(scores)
    return exp_scores / exp_scores.sum(axis=axis, keepdims=True)


# --- relu_network_forward ------------------------------------------------------------


def network_scores(layers, data, activation=lambda z: np.maximum(z, 0)):
    a = data
    for w, b in layers[:-1]:
        a = activation(a @ w + b)
    w, b = layers[-1]
    return a @ w + b


@wrong("relu_network_forward", says="no ReLU on the last layer", mistake="relu_output")
def relu_network_forward_relu_output(layers, data):
    return softmax(np.maximum(network_scores(layers, data), 0))


@wrong("relu_network_forward", says="use ReLU here, not the sigmoid", mistake="sigmoid_hidden")
def relu_network_forward_sigmoid(layers, data):
    return softmax(network_scores(layers, data, solution.sigmoid))


@wrong("relu_network_forward", says="apply relu after every hidden layer", mistake="linear_hidden")
def relu_network_forward_linear(layers, data):
    return softmax(network_scores(layers, data, lambda z: z))


@wrong("relu_network_forward", says="any number of (w, b) pairs")
def relu_network_forward_two_layers(layers, data):
    (w1, b1), (w2, b2) = layers
    return softmax(np.maximum(data @ w1 + b1, 0) @ w2 + b2)


@wrong("relu_network_forward", says="apply the softmax", mistake="no_softmax")
def relu_network_forward_scores(layers, data):
    return network_scores(layers, data)


@wrong("relu_network_forward", says="scores around 1000")
def relu_network_forward_unstable(layers, data):
    return softmax(network_scores(layers, data), stable=False)


@wrong("relu_network_forward", says="each row (one sample) must sum to 1", mistake="columns")
def relu_network_forward_columns(layers, data):
    return softmax(network_scores(layers, data), axis=0)


@right("relu_network_forward")
def relu_network_forward_log_sum_exp(layers, data):
    scores = network_scores(layers, data, lambda z: np.where(z > 0, z, 0.0))
    top = scores.max(axis=1, keepdims=True)
    log_total = top + np.log(np.sum(np.exp(scores - top), axis=1, keepdims=True))
    return np.exp(scores - log_total)


# --- dropout_forward -----------------------------------------------------------------


@wrong("dropout_forward", says="dropout not rescaled", mistake="not_rescaled")
def dropout_forward_not_rescaled(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    mask = (rng.random(a.shape) < keep_prob).astype(a.dtype)
    return a * mask, mask


@wrong("dropout_forward", says="dropout applied at test time", mistake="dropout_at_test")
def dropout_forward_always(a, keep_prob, rng, training):
    mask = (rng.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="inverted dropout does nothing", mistake="scaled_at_test")
def dropout_forward_scaled_at_test(a, keep_prob, rng, training):
    if not training:
        return a * keep_prob, np.full_like(a, keep_prob)
    mask = (rng.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="probability to KEEP", mistake="keep_prob_as_drop")
def dropout_forward_drop_probability(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    mask = (rng.random(a.shape) < 1 - keep_prob).astype(a.dtype) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="with the rng argument (rng.random)", mistake="rng_ignored")
def dropout_forward_global_random(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    mask = (np.random.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="float32", mistake="float64")
def dropout_forward_float64_mask(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    mask = (rng.random(a.shape) < keep_prob) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="return the mask that multiplies a", mistake="wrong_mask")
def dropout_forward_boolean_mask(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    keep = rng.random(a.shape) < keep_prob
    return a * keep / keep_prob, keep


@right("dropout_forward")
def dropout_forward_uniform(a, keep_prob, rng, training):
    if not training:
        return a.copy(), np.ones(a.shape, dtype=a.dtype)
    mask = np.where(rng.uniform(size=a.shape) < keep_prob, 1 / keep_prob, 0).astype(a.dtype)
    return a * mask, mask


# --- relu_network_loss_and_grads -----------------------------------------------------


def network_loss_and_grads(layers, data, labels, keep_prob, rng, mistake=None):
    """The ReLU network's loss and gradients, with one of the mistakes below."""
    if mistake == "dropout on the input" and keep_prob < 1:  # the pixels are no hidden layer
        data, _ = solution.dropout_forward(data, keep_prob, rng, True)
    a, caches = data, []
    for w, b in layers[:-1]:
        z = a @ w + b
        training = keep_prob < 1 and mistake != "no dropout"
        out, mask = solution.dropout_forward(np.maximum(z, 0), keep_prob, rng, training)
        caches.append((a, z, mask))
        a = out
    w, b = layers[-1]
    scores, score_mask = a @ w + b, 1.0
    if mistake == "dropout on the scores":  # nor is the output layer
        scores, score_mask = solution.dropout_forward(scores, keep_prob, rng, keep_prob < 1)
    probs = softmax(scores, stable=mistake != "unshifted")
    n = len(data)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    if mistake == "loss sum":
        loss = loss * n
    d_z = probs.copy()
    d_z[np.arange(n), labels] -= 1
    if mistake != "batch factor":
        d_z /= n * n if mistake == "divided twice" else n
    d_z = d_z * score_mask

    def bias(d_z):
        if mistake == "bias not summed":
            return d_z
        if mistake == "bias mean":
            return np.mean(d_z, axis=0, keepdims=True)
        return np.sum(d_z, axis=0, keepdims=True)

    grads = [(a.T @ d_z, bias(d_z))]
    for i in reversed(range(len(layers) - 1)):
        d_a = d_z @ layers[i + 1][0].T
        a_in, z, mask = caches[i]
        if mistake == "boolean mask in backward":
            d_a = d_a * (mask > 0)
        elif mistake != "mask not in backward":
            d_a = d_a * mask
        if mistake == "relu derivative":
            d_z = d_a
        elif mistake == "sigmoid derivative":
            d_z = d_a * np.maximum(z, 0) * (1 - np.maximum(z, 0))
        else:
            d_z = d_a * (z > 0)
        grads.insert(0, (a_in.T @ d_z, bias(d_z)))
    return loss, grads


def network_answer(mistake, says, key=None):
    def relu_network_loss_and_grads(layers, data, labels, keep_prob, rng):
        return network_loss_and_grads(layers, data, labels, keep_prob, rng, mistake)

    relu_network_loss_and_grads.__name__ = (
        f"relu_network_loss_and_grads_{mistake.replace(' ', '_')}"
    )
    wrong("relu_network_loss_and_grads", says=says, mistake=key)(relu_network_loss_and_grads)


network_answer("batch factor", says="batch-size factor", key="batch_factor")
network_answer("divided twice", says="divided by the batch size N twice", key="divided_twice")
network_answer("relu derivative", says="forgot ReLU's derivative", key="relu_derivative")
network_answer("sigmoid derivative", says="not a * (1 - a)", key="sigmoid_derivative")
network_answer("bias not summed", says="not summed over the batch")
network_answer("bias mean", says="you averaged over the batch", key="bias_mean")
network_answer("no dropout", says="ignores keep_prob")
network_answer("mask not in backward", says="multiply the gradient by the same mask")
network_answer("boolean mask in backward", says="multiply the gradient by the same mask")
network_answer("loss sum", says="not a sum", key="loss_sum")
network_answer("unshifted", says="scores around 1000", key="unshifted")
network_answer("dropout on the input", says="not to the input data")
network_answer("dropout on the scores", says="not to the scores")


@right("relu_network_loss_and_grads")
def relu_network_loss_and_grads_logsumexp(layers, data, labels, keep_prob, rng):
    from scipy.special import logsumexp, softmax

    a, caches = data, []
    for w, b in layers[:-1]:
        z = a @ w + b
        out, mask = solution.dropout_forward(np.maximum(z, 0), keep_prob, rng, keep_prob < 1)
        caches.append((a, z, mask))
        a = out
    w, b = layers[-1]
    scores = a @ w + b
    n = len(data)
    loss = np.mean(logsumexp(scores, axis=1) - scores[np.arange(n), labels])
    d_z = softmax(scores, axis=1)
    d_z[np.arange(n), labels] -= 1
    d_z /= n
    grads = [(a.T @ d_z, d_z.sum(axis=0, keepdims=True))]
    for i in reversed(range(len(layers) - 1)):
        a_in, z, mask = caches[i]
        d_z = (d_z @ layers[i + 1][0].T) * mask * (z > 0)
        grads.insert(0, (a_in.T @ d_z, d_z.sum(axis=0, keepdims=True)))
    return loss, grads


@right("relu_network_loss_and_grads")
def relu_network_loss_and_grads_target_probability(layers, data, labels, keep_prob, rng):
    """The stable softmax, then the log of each target's probability."""
    return network_loss_and_grads(layers, data, labels, keep_prob, rng)


@wrong("relu_network_loss_and_grads", says="any number of (w, b) pairs")
def relu_network_loss_and_grads_one_hidden_layer(layers, data, labels, keep_prob, rng):
    (w1, b1), (w2, b2) = layers
    return network_loss_and_grads([(w1, b1), (w2, b2)], data, labels, keep_prob, rng)


@right("relu_network_loss_and_grads")
def relu_network_loss_and_grads_log_softmax(layers, data, labels, keep_prob, rng):
    a, caches = data, []
    for w, b in layers[:-1]:
        z = a @ w + b
        out, mask = solution.dropout_forward(np.where(z > 0, z, 0.0), keep_prob, rng, keep_prob < 1)
        caches.append((a, z, mask))
        a = out
    w, b = layers[-1]
    scores = a @ w + b
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(data)
    one_hot = np.eye(scores.shape[1])[labels]
    loss = -np.sum(one_hot * log_probs) / n
    d_z = (np.exp(log_probs) - one_hot) / n
    grads = []
    for (a_in, z, mask), (w_next, _) in zip(reversed(caches), reversed(layers)):
        grads.append((a.T @ d_z, d_z.sum(axis=0)[None, :]))
        d_z = (d_z @ w_next.T) * mask * (z > 0).astype(float)
        a = a_in
    grads.append((a.T @ d_z, d_z.sum(axis=0)[None, :]))
    return loss, grads[::-1]


@right("relu_network_loss_and_grads")
def relu_network_loss_and_grads_dropout_before_relu(layers, data, labels, keep_prob, rng):
    """The mask is >= 0, so relu(mask * z) = mask * relu(z): dropout before the ReLU draws
    the same masks and gives the same loss and gradients."""
    a, caches = data, []
    for w, b in layers[:-1]:
        z = a @ w + b
        dropped, mask = solution.dropout_forward(z, keep_prob, rng, keep_prob < 1)
        caches.append((a, dropped, mask))
        a = np.maximum(dropped, 0)
    w, b = layers[-1]
    scores = a @ w + b
    n = len(data)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    d_z = np.exp(log_probs)
    d_z[np.arange(n), labels] -= 1
    d_z /= n
    grads = [(a.T @ d_z, d_z.sum(axis=0, keepdims=True))]
    for i in reversed(range(len(layers) - 1)):
        a_in, dropped, mask = caches[i]
        d_z = (d_z @ layers[i + 1][0].T) * (dropped > 0) * mask
        grads.insert(0, (a_in.T @ d_z, d_z.sum(axis=0, keepdims=True)))
    return float(loss), grads
