"""Wrong answers to notebook 05: activations and the two-layer sigmoid network.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/mlp_two_layer.py. An answer registered with ``mistake=`` has its results
recorded (``make build``): the check names that mistake when a student's results match them.
"""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

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


@wrong("sigmoid", says="minus sign", mistake="minus_sign")
def sigmoid_sign(x):
    return 1 / (1 + np.exp(x))


@wrong("sigmoid", says="that is tanh", mistake="tanh")
def sigmoid_tanh(x):
    return np.tanh(x)


@wrong("sigmoid", says="the derivative", mistake="derivative")
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


@wrong("sigmoid", says="wrong for large |x|")
def sigmoid_clipped(x):
    return 1 / (1 + np.exp(-np.clip(x, -10, 10)))  # no overflow warning


@right("sigmoid")
def sigmoid_log_add_exp(x):
    return np.exp(-np.logaddexp(0, -x))


# --- relu ----------------------------------------------------------------------------


@wrong("relu", says="absolute value", mistake="abs")
def relu_abs(x):
    return np.abs(x)


@wrong("relu", says="does not stop at 1", mistake="clip")
def relu_clip(x):
    return np.clip(x, 0, 1)


@wrong("relu", says="derivative of ReLU", mistake="derivative")
def relu_derivative(x):
    return (x > 0).astype(x.dtype)


@wrong("relu", says="derivative of ReLU")
def relu_derivative_bool(x):
    return x > 0


@wrong("relu", says="leaky ReLU", mistake="leaky")
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


@right("relu")
def relu_times_mask(x):
    return x * (x > 0)


@right("relu")
def relu_where(x):
    return np.where(x > 0, x, 0)


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
        denominator = {
            "batch factor": a2.shape[1],
            "sum": 1,
            "per sample mean": n,
            "divided twice": a2.size * n,
        }.get(mistake, a2.size)
        d_a2 = (1 if mistake == "half" else 2) * (a2 - targets) / denominator
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
        denominator = {"batch factor": 1, "divided twice": n * n}.get(mistake, n)
        d_z2 = (a2 - targets) / denominator
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
    rate = {
        "ascent": -learning_rate,
        "no learning rate": 1,
        "learning rate twice": learning_rate**2,
    }.get(mistake, learning_rate)
    new = [p - rate * g for p, g in zip([w1, b1, w2, b2], [d_w1, d_b1, d_w2, d_b2])]
    if mistake == "loss after update":
        loss = two_layer_step(*new, data, last, learning_rate, output)[4]
    if mistake == "loss sum":
        loss = loss * n * (targets.shape[1] if output == "mse" else 1)
    if mistake == "loss row sums":
        loss = loss * targets.shape[1]
    return (*new, loss)


def key_of(mistake):
    return mistake.replace(" ", "_")


def mse_answer(mistake, says, recorded=True):
    def learn_once_mse(w1, b1, w2, b2, data, targets, learning_rate):
        return two_layer_step(w1, b1, w2, b2, data, targets, learning_rate, "mse", mistake)

    learn_once_mse.__name__ = f"learn_once_mse_{key_of(mistake)}"
    key = key_of(mistake) if recorded else None
    wrong("learn_once_mse", says=says, mistake=key)(learn_once_mse)


def cross_entropy_answer(mistake, says, recorded=True):
    def learn_once_cross_entropy(w1, b1, w2, b2, data, labels_train, learning_rate):
        return two_layer_step(w1, b1, w2, b2, data, labels_train, learning_rate, "ce", mistake)

    learn_once_cross_entropy.__name__ = f"learn_once_cross_entropy_{key_of(mistake)}"
    key = key_of(mistake) if recorded else None
    wrong("learn_once_cross_entropy", says=says, mistake=key)(learn_once_cross_entropy)


mse_answer("batch factor", says="batch-size factor")
mse_answer("divided twice", says="divided by the batch size N twice")
mse_answer("sum", says="N x d_out")
mse_answer("per sample mean", says="d_out = ")
mse_answer("half", says="half the right one")
mse_answer("output derivative", says="derivative of the output sigmoid")
mse_answer("hidden derivative", says="derivative of the hidden sigmoid")
mse_answer("z derivative", says="you used z * (1 - z)")
mse_answer("bias not summed", says="not summed over the batch", recorded=False)
mse_answer("bias mean", says="you averaged over the batch")
mse_answer("updated w2", says="backpropagated through the updated w2")
mse_answer("ascent", says="goes uphill")
mse_answer("no learning rate", says="ignores the learning rate")
mse_answer("learning rate twice", says="learning rate twice")
mse_answer("loss after update", says="loss after the update")
mse_answer("loss sum", says="a mean, not a sum")
mse_answer("loss row sums", says="not a mean over the samples of a sum")

cross_entropy_answer("batch factor", says="batch-size factor")
cross_entropy_answer("divided twice", says="divided by the batch size N twice")
cross_entropy_answer("hidden derivative", says="derivative of the hidden sigmoid")
cross_entropy_answer("z derivative", says="you used z * (1 - z)")
cross_entropy_answer("softmax derivative", says="do not multiply by a2 * (1 - a2)")
cross_entropy_answer("bias not summed", says="not summed over the batch", recorded=False)
cross_entropy_answer("bias mean", says="you averaged over the batch")
cross_entropy_answer("bias sum all", says="summed d_z2 over all its axes")
cross_entropy_answer("updated w2", says="backpropagated through the updated w2")
cross_entropy_answer("ascent", says="goes uphill")
cross_entropy_answer("unstable", says="np.exp(1000) overflows", recorded=False)
cross_entropy_answer("loss after update", says="loss after the update")
cross_entropy_answer("loss sum", says="a mean, not a sum")


@wrong("learn_once_mse", says="in place")
def learn_once_mse_in_place(w1, b1, w2, b2, data, targets, learning_rate):
    *new, loss = solution.learn_once_mse(w1, b1, w2, b2, data, targets, learning_rate)
    for old, value in zip([w1, b1, w2, b2], new):
        old -= old - value  # w1 -= learning_rate * d_w1
    return w1, b1, w2, b2, loss


@wrong("learn_once_mse", says="Start with the output layer")
def learn_once_mse_two_mistakes(w1, b1, w2, b2, data, targets, learning_rate):
    """Forgets the output sigmoid's derivative and averages the biases' gradients: no single
    recorded mistake explains it, so the check points at the layer where it starts."""
    *new, loss = two_layer_step(w1, b1, w2, b2, data, targets, learning_rate, "mse", "bias mean")
    wrong_output = two_layer_step(
        w1, b1, w2, b2, data, targets, learning_rate, "mse", "output derivative"
    )
    return (*wrong_output[:3], new[3], loss)


@wrong("learn_once_cross_entropy", says="look at the hidden layer")
def learn_once_cross_entropy_hidden_bias_mean(w1, b1, w2, b2, data, labels_train, learning_rate):
    """Averages the hidden bias's gradient only: no recorded mistake explains it, so the
    check points at the hidden layer."""
    step = solution.learn_once_cross_entropy(w1, b1, w2, b2, data, labels_train, learning_rate)
    averaged = two_layer_step(w1, b1, w2, b2, data, labels_train, learning_rate, "ce", "bias mean")
    return step[0], averaged[1], *step[2:]


@right("learn_once_cross_entropy")
def learn_once_cross_entropy_log_softmax(w1, b1, w2, b2, data, labels_train, learning_rate):
    """The loss from log-softmax scores, the one-hot targets by fancy indexing."""
    a1 = 1 / (1 + np.exp(-(data @ w1 + b1)))
    z2 = a1 @ w2 + b2
    shifted = z2 - z2.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(data)
    loss = -log_probs[np.arange(n), labels_train].mean()
    d_z2 = np.exp(log_probs)
    d_z2[np.arange(n), labels_train] -= 1
    d_z2 /= n
    d_z1 = (d_z2 @ w2.T) * a1 * (1 - a1)
    grads = [data.T @ d_z1, d_z1.sum(axis=0, keepdims=True), a1.T @ d_z2, d_z2.sum(axis=0)]
    params = [w1, b1, w2, b2]
    return (*[p - learning_rate * g for p, g in zip(params, grads)], loss)


# --- forward -------------------------------------------------------------------------


def hidden(w1, b1, data):
    return 1 / (1 + np.exp(-(data @ w1 + b1)))


@wrong("forward", says="not a sigmoid", mistake="sigmoid_output")
def forward_sigmoid_output(w1, b1, w2, b2, data):
    return 1 / (1 + np.exp(-(hidden(w1, b1, data) @ w2 + b2)))


@wrong("forward", says="you returned the scores z2", mistake="scores")
def forward_scores(w1, b1, w2, b2, data):
    return hidden(w1, b1, data) @ w2 + b2


@wrong("forward", says="each row (one sample) must sum to 1", mistake="softmax_columns")
def forward_softmax_columns(w1, b1, w2, b2, data):
    return softmax(hidden(w1, b1, data) @ w2 + b2, axis=0)


@wrong("forward", says="apply the sigmoid to the hidden layer", mistake="linear_hidden")
def forward_linear_hidden(w1, b1, w2, b2, data):
    return softmax((data @ w1 + b1) @ w2 + b2)


@wrong("forward", says="hidden layer is a sigmoid, not a ReLU", mistake="relu_hidden")
def forward_relu_hidden(w1, b1, w2, b2, data):
    return softmax(np.maximum(data @ w1 + b1, 0) @ w2 + b2)


@wrong("forward", says="np.exp(1000) overflows")
def forward_unstable(w1, b1, w2, b2, data):
    return softmax(hidden(w1, b1, data) @ w2 + b2, stable=False)


@wrong("forward", says="predicted classes")
def forward_labels(w1, b1, w2, b2, data):
    return np.argmax(hidden(w1, b1, data) @ w2 + b2, axis=1)
