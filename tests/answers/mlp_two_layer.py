"""Wrong answers to notebook 05: activations and the two-layer sigmoid network.

The references are the solution notebook's own functions; the checks are in
coursekit/checks/mlp_two_layer.py."""

import numpy as np

from tests.answers.registry import solution_functions, wrong

solution = solution_functions("05_mlp")

# What the answers below call by name, as a student's function calls the notebook's globals
# (the run_mlp_training check watches the call of train_mlp).
sigmoid = solution.sigmoid
forward = solution.forward
learn_once_cross_entropy = solution.learn_once_cross_entropy
train_mlp = solution.train_mlp
test_mlp = solution.test_mlp


def softmax(scores, axis=1, stable=True):
    if stable:
        scores = scores - scores.max(axis=axis, keepdims=True)
    exp_scores = np.exp(scores)
    return exp_scores / exp_scores.sum(axis=axis, keepdims=True)


# --- sigmoid -------------------------------------------------------------------------


@wrong("sigmoid", says="minus sign")
def sigmoid_sign(x):
    return 1 / (1 + np.exp(x))


@wrong("sigmoid", says="that is tanh")
def sigmoid_tanh(x):
    return np.tanh(x)


@wrong("sigmoid", says="the derivative")
def sigmoid_derivative(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


@wrong("sigmoid", says="NaN for large inputs")
def sigmoid_unstable(x):
    return np.exp(x) / (1 + np.exp(x))


@wrong("sigmoid", says="in place")
def sigmoid_in_place(x):
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1
    return 1 / x


@wrong("sigmoid", says="not 1 / (1 + exp(-x))")
def sigmoid_minus_one(x):
    return 1 / (1 - np.exp(-x))


# --- relu ----------------------------------------------------------------------------


@wrong("relu", says="absolute value")
def relu_abs(x):
    return np.abs(x)


@wrong("relu", says="does not stop at 1")
def relu_clip(x):
    return np.clip(x, 0, 1)


@wrong("relu", says="derivative of ReLU")
def relu_derivative(x):
    return (x > 0).astype(x.dtype)


@wrong("relu", says="leaky ReLU")
def relu_leaky(x):
    return np.where(x > 0, x, 0.01 * x)


@wrong("relu", says="np.maximum(x, 0) compares")
def relu_max(x):
    return np.max(x, 0)


@wrong("relu", says="in place")
def relu_in_place(x):
    x[x < 0] = 0
    return x


@wrong("relu", says="keep the input's dtype")
def relu_float64(x):
    return np.maximum(x, 0).astype(float)


# --- learn_once_mse and learn_once_cross_entropy ---------------------------------------


def two_layer_step(w1, b1, w2, b2, data, last, learning_rate, output, mistake=None):
    """One gradient step of the two-layer network with one of the mistakes below."""
    z1 = data @ w1 + b1
    a1 = 1 / (1 + np.exp(-z1))
    z2 = a1 @ w2 + b2
    n = len(data)
    if output == "mse":
        targets = last
        a2 = 1 / (1 + np.exp(-z2))
        loss = np.mean((a2 - targets) ** 2)
        d_a2 = 2 * (a2 - targets) / a2.size
        if mistake == "batch factor":
            d_a2 = 2 * (a2 - targets) / a2.shape[1]
        if mistake == "sum":
            d_a2 = 2 * (a2 - targets)
        if mistake == "output derivative":
            d_z2 = d_a2
        elif mistake == "z derivative":
            d_z2 = d_a2 * z2 * (1 - z2)
        else:
            d_z2 = d_a2 * a2 * (1 - a2)
    else:
        targets = np.eye(w2.shape[1])[last]
        a2 = softmax(z2, stable=mistake != "unstable")
        loss = -np.sum(targets * np.log(a2)) / n
        d_z2 = (a2 - targets) / (1 if mistake == "batch factor" else n)
        if mistake == "softmax derivative":
            d_z2 = d_z2 * a2 * (1 - a2)
    d_w2 = a1.T @ d_z2
    d_b2 = np.sum(d_z2, axis=0, keepdims=True)
    if mistake == "bias not summed":
        d_b2 = d_z2
    if mistake == "bias mean":
        d_b2 = np.mean(d_z2, axis=0, keepdims=True)
    if mistake == "bias sum all":
        d_b2 = np.sum(d_z2)
    backward_w2 = w2 - learning_rate * d_w2 if mistake == "updated w2" else w2
    d_a1 = d_z2 @ backward_w2.T
    if mistake == "hidden derivative":
        d_z1 = d_a1
    elif mistake == "z derivative":
        d_z1 = d_a1 * z1 * (1 - z1)
    else:
        d_z1 = d_a1 * a1 * (1 - a1)
    d_w1 = data.T @ d_z1
    d_b1 = np.sum(d_z1, axis=0, keepdims=True)
    if mistake == "bias not summed":
        d_b1 = d_z1
    if mistake == "bias mean":
        d_b1 = np.mean(d_z1, axis=0, keepdims=True)
    sign = -1 if mistake == "ascent" else 1
    new = [p - sign * learning_rate * g for p, g in zip([w1, b1, w2, b2], [d_w1, d_b1, d_w2, d_b2])]
    if mistake == "loss after update":
        loss = two_layer_step(*new, data, last, learning_rate, output)[4]
    if mistake == "loss sum":
        loss = loss * n * (targets.shape[1] if output == "mse" else 1)
    return (*new, loss)


def mse_answer(mistake, says):
    def learn_once_mse(w1, b1, w2, b2, data, targets, learning_rate):
        return two_layer_step(w1, b1, w2, b2, data, targets, learning_rate, "mse", mistake)

    learn_once_mse.__name__ = f"learn_once_mse_{mistake.replace(' ', '_')}"
    wrong("learn_once_mse", says=says)(learn_once_mse)


def cross_entropy_answer(mistake, says):
    def learn_once_cross_entropy(w1, b1, w2, b2, data, labels_train, learning_rate):
        return two_layer_step(w1, b1, w2, b2, data, labels_train, learning_rate, "ce", mistake)

    learn_once_cross_entropy.__name__ = f"learn_once_cross_entropy_{mistake.replace(' ', '_')}"
    wrong("learn_once_cross_entropy", says=says)(learn_once_cross_entropy)


mse_answer("batch factor", says="batch-size factor")
mse_answer("sum", says="N x d_out")
mse_answer("output derivative", says="derivative of the output sigmoid")
mse_answer("hidden derivative", says="derivative of the hidden sigmoid")
mse_answer("z derivative", says="you used z * (1 - z)")
mse_answer("bias not summed", says="not summed over the batch")
mse_answer("bias mean", says="you averaged over the batch")
mse_answer("updated w2", says="backpropagated through the updated w2")
mse_answer("ascent", says="goes uphill")
mse_answer("loss after update", says="loss after the update")
mse_answer("loss sum", says="a mean, not a sum")

cross_entropy_answer("batch factor", says="batch-size factor")
cross_entropy_answer("hidden derivative", says="derivative of the hidden sigmoid")
cross_entropy_answer("softmax derivative", says="do not multiply by a2 * (1 - a2)")
cross_entropy_answer("bias not summed", says="not summed over the batch")
cross_entropy_answer("bias sum all", says="summed d_z over all its axes")
cross_entropy_answer("unstable", says="np.exp(1000) overflows")
cross_entropy_answer("loss after update", says="loss after the update")


@wrong("learn_once_mse", says="in place")
def learn_once_mse_in_place(w1, b1, w2, b2, data, targets, learning_rate):
    *new, loss = solution.learn_once_mse(w1, b1, w2, b2, data, targets, learning_rate)
    for old, value in zip([w1, b1, w2, b2], new):
        old -= old - value  # w1 -= learning_rate * d_w1
    return w1, b1, w2, b2, loss


# --- forward -------------------------------------------------------------------------


def hidden(w1, b1, data):
    return 1 / (1 + np.exp(-(data @ w1 + b1)))


@wrong("forward", says="not a sigmoid")
def forward_sigmoid_output(w1, b1, w2, b2, data):
    return 1 / (1 + np.exp(-(hidden(w1, b1, data) @ w2 + b2)))


@wrong("forward", says="you returned the scores z2")
def forward_scores(w1, b1, w2, b2, data):
    return hidden(w1, b1, data) @ w2 + b2


@wrong("forward", says="each row (one sample) must sum to 1")
def forward_softmax_columns(w1, b1, w2, b2, data):
    return softmax(hidden(w1, b1, data) @ w2 + b2, axis=0)


@wrong("forward", says="apply the sigmoid to the hidden layer")
def forward_linear_hidden(w1, b1, w2, b2, data):
    return softmax((data @ w1 + b1) @ w2 + b2)


@wrong("forward", says="np.exp(1000) overflows")
def forward_unstable(w1, b1, w2, b2, data):
    return softmax(hidden(w1, b1, data) @ w2 + b2, stable=False)


@wrong("forward", says="predicted classes")
def forward_labels(w1, b1, w2, b2, data):
    return np.argmax(hidden(w1, b1, data) @ w2 + b2, axis=1)
