"""Wrong answers to notebook 04's two-layer backward passes (the references are the
solution notebook's own functions).

A ``mistake=`` key names the message of ``pixelschool/checks/backprop_network.py`` that a
student with that mistake gets: ``make build`` records the answer's results on the check's
inputs.
"""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("04_backprop")

# --- two_layer_backward_mse -----------------------------------------------------------


def forward_mse(w1, b1, w2, b2, data, targets):
    a1 = 1 / (1 + np.exp(-(data @ w1 + b1)))
    a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
    return a1, a2, float(np.mean((a2 - targets) ** 2))


def backward_from(d_z2, a1, w2, data, *, hidden_slope=True, bias=None):
    """The layers' part of the backward pass, shared by the wrong answers below."""
    bias = bias or (lambda delta: np.sum(delta, axis=0, keepdims=True))
    d_z1 = d_z2 @ w2.T
    if hidden_slope:
        d_z1 = d_z1 * a1 * (1 - a1)
    return data.T @ d_z1, bias(d_z1), a1.T @ d_z2, bias(d_z2)


@wrong("two_layer_backward_mse", says="off by the batch size", mistake="times_n")
def two_layer_backward_mse_sum_over_samples(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = 2 * (a2 - targets) / targets.shape[1] * a2 * (1 - a2)  # 1/d_out, but no 1/N
    return loss, *backward_from(d_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="you divided by N only", mistake="times_d_out")
def two_layer_backward_mse_mean_over_samples(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = 2 * (a2 - targets) / len(data) * a2 * (1 - a2)
    return loss, *backward_from(d_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="N x C", mistake="times_n_d_out")
def two_layer_backward_mse_no_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = 2 * (a2 - targets) * a2 * (1 - a2)
    return loss, *backward_from(d_z2, a1, w2, data)


@wrong(
    "two_layer_backward_mse",
    says="forgot the derivative of the hidden sigmoid",
    mistake="no_hidden_slope",
)
def two_layer_backward_mse_no_hidden_derivative(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = 2 * (a2 - targets) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(d_z2, a1, w2, data, hidden_slope=False)


@wrong(
    "two_layer_backward_mse",
    says="forgot the derivative of the output sigmoid",
    mistake="no_output_slope",
)
def two_layer_backward_mse_no_output_derivative(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = 2 * (a2 - targets) / targets.size
    return loss, *backward_from(d_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="not summed")
def two_layer_backward_mse_bias_per_sample(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = 2 * (a2 - targets) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(d_z2, a1, w2, data, bias=lambda delta: delta)


@wrong("two_layer_backward_mse", says="averaged d_z over the batch", mistake="bias_mean")
def two_layer_backward_mse_bias_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = 2 * (a2 - targets) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(
        d_z2, a1, w2, data, bias=lambda delta: np.mean(delta, axis=0, keepdims=True)
    )


@wrong("two_layer_backward_mse", says="wrong sign", mistake="sign")
def two_layer_backward_mse_wrong_sign(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = 2 * (targets - a2) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(d_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="keep the 2", mistake="half")
def two_layer_backward_mse_no_two(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    d_z2 = (a2 - targets) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(d_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="d_w1 and d_b1 do not match the gradient")
def two_layer_backward_mse_slope_of_z1(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    z1 = data @ w1 + b1
    d_z2 = 2 * (a2 - targets) / targets.size * a2 * (1 - a2)
    d_z1 = d_z2 @ w2.T * z1 * (1 - z1)  # z1 where a1 belongs
    d_w2, d_b2 = a1.T @ d_z2, np.sum(d_z2, axis=0, keepdims=True)
    return loss, data.T @ d_z1, np.sum(d_z1, axis=0, keepdims=True), d_w2, d_b2


@wrong("two_layer_backward_mse", says="the transpose of w1")
def two_layer_backward_mse_transposed(w1, b1, w2, b2, data, targets):
    loss, d_w1, d_b1, d_w2, d_b2 = solution.two_layer_backward_mse(w1, b1, w2, b2, data, targets)
    return loss, d_w1.T, d_b1, d_w2, d_b2


@wrong("two_layer_backward_mse", says="sum with keepdims=True")
def two_layer_backward_mse_flat_bias(w1, b1, w2, b2, data, targets):
    loss, d_w1, d_b1, d_w2, d_b2 = solution.two_layer_backward_mse(w1, b1, w2, b2, data, targets)
    return loss, d_w1, d_b1.ravel(), d_w2, d_b2.ravel()


@wrong("two_layer_backward_mse", says="generator expression")
def two_layer_backward_mse_bias_loop(w1, b1, w2, b2, data, targets):
    loss, d_w1, d_b1, d_w2, d_b2 = solution.two_layer_backward_mse(w1, b1, w2, b2, data, targets)
    d_b2 = sum(d_b2[:, k : k + 1] for k in range(d_b2.shape[1]))  # a loop, and wrong
    return loss, d_w1, d_b1, d_w2, d_b2


@right("two_layer_backward_mse")
def two_layer_backward_mse_ones_row(w1, b1, w2, b2, data, targets):
    """Bias gradients as a row of ones times d_z; the factor applied last."""
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    n, d_out = targets.shape
    delta2 = (a2 - targets) * a2 * (1 - a2)
    delta1 = (delta2 @ w2.T) * a1 * (1 - a1)
    ones = np.ones((1, n))
    scale = 2 / (n * d_out)
    return (
        loss,
        scale * (data.T @ delta1),
        scale * (ones @ delta1),
        scale * (a1.T @ delta2),
        (scale * (ones @ delta2)),
    )


# --- two_layer_backward_cross_entropy ---------------------------------------------------


def forward_cross_entropy(w1, b1, w2, b2, data, targets):
    a1 = 1 / (1 + np.exp(-(data @ w1 + b1)))
    z2 = a1 @ w2 + b2
    shifted = z2 - z2.max(axis=1, keepdims=True)
    log_a2 = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return a1, np.exp(log_a2), float(-np.sum(targets * log_a2) / len(data))


@wrong("two_layer_backward_cross_entropy", says="off by the batch size", mistake="times_n")
def two_layer_backward_cross_entropy_no_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    return loss, *backward_from(a2 - targets, a1, w2, data)


@wrong("two_layer_backward_cross_entropy", says="wrong sign", mistake="sign")
def two_layer_backward_cross_entropy_wrong_sign(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    return loss, *backward_from((targets - a2) / len(data), a1, w2, data)


@wrong(
    "two_layer_backward_cross_entropy",
    says="that is the sigmoid's derivative",
    mistake="sigmoid_slope",
)
def two_layer_backward_cross_entropy_sigmoid_slope(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    d_z2 = (a2 - targets) / len(data) * a2 * (1 - a2)
    return loss, *backward_from(d_z2, a1, w2, data)


@wrong(
    "two_layer_backward_cross_entropy",
    says="forgot the derivative of the hidden sigmoid",
    mistake="no_hidden_slope",
)
def two_layer_backward_cross_entropy_no_hidden_derivative(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    return loss, *backward_from((a2 - targets) / len(data), a1, w2, data, hidden_slope=False)


@wrong(
    "two_layer_backward_cross_entropy",
    says="averaged d_z over the batch",
    mistake="bias_mean",
)
def two_layer_backward_cross_entropy_bias_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    d_z2 = (a2 - targets) / len(data)
    return loss, *backward_from(
        d_z2, a1, w2, data, bias=lambda delta: np.mean(delta, axis=0, keepdims=True)
    )


@wrong(
    "two_layer_backward_cross_entropy",
    says="divided by the batch size twice",
    mistake="divided_twice",
)
def two_layer_backward_cross_entropy_twice_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    d_w1, d_b1, d_w2, d_b2 = backward_from((a2 - targets) / len(data), a1, w2, data)
    n = len(data)
    return loss, d_w1 / n, d_b1 / n, d_w2 / n, d_b2 / n


@wrong("two_layer_backward_cross_entropy", says="not summed")
def two_layer_backward_cross_entropy_bias_per_sample(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    return loss, *backward_from((a2 - targets) / len(data), a1, w2, data, bias=lambda delta: delta)


@wrong("two_layer_backward_cross_entropy", says="should return 5 values")
def two_layer_backward_cross_entropy_grads_only(w1, b1, w2, b2, data, targets):
    return solution.two_layer_backward_cross_entropy(w1, b1, w2, b2, data, targets)[1:]


@wrong("two_layer_backward_cross_entropy", says="`for` loop")
def two_layer_backward_cross_entropy_sample_loop(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    d_z2 = (a2 - targets) / len(data)
    d_z1 = d_z2 @ w2.T * a1 * (1 - a1)
    grads = [np.zeros_like(p) for p in (w1, b1, w2, b2)]
    for n in range(len(data)):  # one sample at a time: right, but slow
        grads[0] += np.outer(data[n], d_z1[n])
        grads[1] += d_z1[n]
        grads[2] += np.outer(a1[n], d_z2[n])
        grads[3] += d_z2[n]
    return loss, *grads


@right("two_layer_backward_cross_entropy")
def two_layer_backward_cross_entropy_bias_sum_then_reshape(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    delta2 = (a2 - targets) / data.shape[0]
    delta1 = delta2 @ w2.T * (a1 - a1**2)
    d_b1 = delta1.sum(axis=0).reshape(1, -1)
    d_b2 = delta2.sum(axis=0)[np.newaxis, :]
    return loss, data.T @ delta1, d_b1, a1.T @ delta2, d_b2
