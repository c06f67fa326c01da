"""Wrong answers to notebook 04 (the references are the solution notebook's own functions)."""

import numpy as np

from tests.answers.registry import solution_functions, wrong

solution = solution_functions("04_backprop")

# --- numerical_gradient ---------------------------------------------------------------


@wrong("numerical_gradient", says="one-sided difference")
def numerical_gradient_forward_difference(f, x, h=1e-5):
    grad = np.zeros_like(x)
    f_x = f()
    for index in np.ndindex(x.shape):
        old_value = x[index]
        x[index] = old_value + h
        grad[index] = (f() - f_x) / h
        x[index] = old_value
    return grad


@wrong("numerical_gradient", says="one-sided difference")
def numerical_gradient_backward_difference(f, x, h=1e-5):
    grad = np.zeros_like(x)
    f_x = f()
    for index in np.ndindex(x.shape):
        old_value = x[index]
        x[index] = old_value - h
        grad[index] = (f_x - f()) / h
        x[index] = old_value
    return grad


@wrong("numerical_gradient", says="perturbed all entries of x at once")
def numerical_gradient_all_at_once(f, x, h=1e-5):
    x += h
    f_plus = f()
    x -= 2 * h
    f_minus = f()
    x += h
    return np.full(x.shape, (f_plus - f_minus) / (2 * h))


@wrong("numerical_gradient", says="perturbed a whole row")
def numerical_gradient_rows(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(len(x)):
        old_value = x[i].copy()
        x[i] = old_value + h
        f_plus = f()
        x[i] = old_value - h
        f_minus = f()
        x[i] = old_value
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


@wrong("numerical_gradient", says="put the old value back")
def numerical_gradient_not_restored(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        f_plus = f()
        x[index] -= 2 * h
        f_minus = f()
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


@wrong("numerical_gradient", says="do not work on x.copy()")
def numerical_gradient_on_a_copy(f, x, h=1e-5):
    x = x.copy()
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old_value = x[index]
        x[index] = old_value + h
        f_plus = f()
        x[index] = old_value - h
        f_minus = f()
        x[index] = old_value
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


@wrong("numerical_gradient", says="ignored the argument h")
def numerical_gradient_fixed_step(f, x, h=1e-5):
    return solution.numerical_gradient(f, x, 1e-5)


@wrong("numerical_gradient", says="divides by 2h, not h")
def numerical_gradient_divides_by_h(f, x, h=1e-5):
    return 2 * solution.numerical_gradient(f, x, h)


@wrong("numerical_gradient", says="return an array shaped like x")
def numerical_gradient_flat(f, x, h=1e-5):
    grad = np.zeros(x.size)
    for i, index in enumerate(np.ndindex(x.shape)):
        old_value = x[index]
        x[index] = old_value + h
        f_plus = f()
        x[index] = old_value - h
        f_minus = f()
        x[index] = old_value
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


@wrong("numerical_gradient", says="Give h a default value")
def numerical_gradient_no_default(f, x, h):
    return solution.numerical_gradient(f, x, h)


# --- relative_error -------------------------------------------------------------------


@wrong("relative_error", says="Guard the denominator")
def relative_error_no_guard(a, b):
    return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))


@wrong("relative_error", says="mean of the entry-wise errors")
def relative_error_mean(a, b):
    return np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


@wrong("relative_error", says="numerator needs an absolute value")
def relative_error_signed(a, b):
    return np.max((a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


@wrong("relative_error", says="denominator needs absolute values")
def relative_error_signed_denominator(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, a + b))


@wrong("relative_error", says="missing abs")
def relative_error_no_abs(a, b):
    return np.max((a - b) / np.maximum(1e-8, a + b))


@wrong("relative_error", says="divided by |a| only")
def relative_error_by_a(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a)))


@wrong("relative_error", says="divide entry by entry")
def relative_error_of_maxima(a, b):
    return np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b)))


@wrong("relative_error", says="should return one number")
def relative_error_no_max(a, b):
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


@wrong("relative_error", says="`for` loop")
def relative_error_loop(a, b):
    worst = 0.0
    for x, y in zip(a.ravel(), b.ravel()):
        worst = max(worst, abs(x - y) / max(1e-8, abs(x) + abs(y)))
    return worst


# --- two_layer_backward_mse -----------------------------------------------------------


def forward_mse(w1, b1, w2, b2, data, targets):
    a1 = 1 / (1 + np.exp(-(data @ w1 + b1)))
    a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
    return a1, a2, float(np.mean((a2 - targets) ** 2))


def backward_from(grad_z2, a1, w2, data, *, hidden_slope=True, bias=None):
    """The layers' part of the backward pass, shared by the wrong answers below."""
    bias = bias or (lambda delta: np.sum(delta, axis=0, keepdims=True))
    grad_z1 = grad_z2 @ w2.T
    if hidden_slope:
        grad_z1 = grad_z1 * a1 * (1 - a1)
    return data.T @ grad_z1, bias(grad_z1), a1.T @ grad_z2, bias(grad_z2)


@wrong("two_layer_backward_mse", says="off by the batch size")
def two_layer_backward_mse_sum_over_samples(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    grad_z2 = 2 * (a2 - targets) / targets.shape[1] * a2 * (1 - a2)  # 1/d_out, but no 1/N
    return loss, *backward_from(grad_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="you divided by N only")
def two_layer_backward_mse_mean_over_samples(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    grad_z2 = 2 * (a2 - targets) / len(data) * a2 * (1 - a2)
    return loss, *backward_from(grad_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="N x d_out")
def two_layer_backward_mse_no_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    grad_z2 = 2 * (a2 - targets) * a2 * (1 - a2)
    return loss, *backward_from(grad_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="forgot the derivative of the hidden sigmoid")
def two_layer_backward_mse_no_hidden_derivative(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    grad_z2 = 2 * (a2 - targets) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(grad_z2, a1, w2, data, hidden_slope=False)


@wrong("two_layer_backward_mse", says="forgot the derivative of the output sigmoid")
def two_layer_backward_mse_no_output_derivative(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    grad_z2 = 2 * (a2 - targets) / targets.size
    return loss, *backward_from(grad_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="not summed")
def two_layer_backward_mse_bias_per_sample(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    grad_z2 = 2 * (a2 - targets) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(grad_z2, a1, w2, data, bias=lambda delta: delta)


@wrong("two_layer_backward_mse", says="wrong sign")
def two_layer_backward_mse_wrong_sign(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    grad_z2 = 2 * (targets - a2) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(grad_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="keep the 2")
def two_layer_backward_mse_no_two(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    grad_z2 = (a2 - targets) / targets.size * a2 * (1 - a2)
    return loss, *backward_from(grad_z2, a1, w2, data)


@wrong("two_layer_backward_mse", says="grad_w1 and grad_b1 do not match the numerical gradient")
def two_layer_backward_mse_slope_of_z1(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_mse(w1, b1, w2, b2, data, targets)
    z1 = data @ w1 + b1
    grad_z2 = 2 * (a2 - targets) / targets.size * a2 * (1 - a2)
    grad_z1 = grad_z2 @ w2.T * z1 * (1 - z1)  # z1 where a1 belongs
    grad_w2, grad_b2 = a1.T @ grad_z2, np.sum(grad_z2, axis=0, keepdims=True)
    return loss, data.T @ grad_z1, np.sum(grad_z1, axis=0, keepdims=True), grad_w2, grad_b2


@wrong("two_layer_backward_mse", says="the transpose of w1")
def two_layer_backward_mse_transposed(w1, b1, w2, b2, data, targets):
    loss, grad_w1, grad_b1, grad_w2, grad_b2 = solution.two_layer_backward_mse(
        w1, b1, w2, b2, data, targets
    )
    return loss, grad_w1.T, grad_b1, grad_w2, grad_b2


@wrong("two_layer_backward_mse", says="sum with keepdims=True")
def two_layer_backward_mse_flat_bias(w1, b1, w2, b2, data, targets):
    loss, grad_w1, grad_b1, grad_w2, grad_b2 = solution.two_layer_backward_mse(
        w1, b1, w2, b2, data, targets
    )
    return loss, grad_w1, grad_b1.ravel(), grad_w2, grad_b2.ravel()


@wrong("two_layer_backward_mse", says="generator expression")
def two_layer_backward_mse_bias_loop(w1, b1, w2, b2, data, targets):
    loss, grad_w1, grad_b1, grad_w2, grad_b2 = solution.two_layer_backward_mse(
        w1, b1, w2, b2, data, targets
    )
    grad_b2 = sum(grad_b2[:, k : k + 1] for k in range(grad_b2.shape[1]))  # a loop, and wrong
    return loss, grad_w1, grad_b1, grad_w2, grad_b2


# --- two_layer_backward_cross_entropy ---------------------------------------------------


def forward_cross_entropy(w1, b1, w2, b2, data, targets):
    a1 = 1 / (1 + np.exp(-(data @ w1 + b1)))
    z2 = a1 @ w2 + b2
    exps = np.exp(z2 - z2.max(axis=1, keepdims=True))
    a2 = exps / exps.sum(axis=1, keepdims=True)
    return a1, a2, float(-np.sum(targets * np.log(a2)) / len(data))


@wrong("two_layer_backward_cross_entropy", says="off by the batch size")
def two_layer_backward_cross_entropy_no_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    return loss, *backward_from(a2 - targets, a1, w2, data)


@wrong("two_layer_backward_cross_entropy", says="wrong sign")
def two_layer_backward_cross_entropy_wrong_sign(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    return loss, *backward_from((targets - a2) / len(data), a1, w2, data)


@wrong("two_layer_backward_cross_entropy", says="that is the sigmoid's derivative")
def two_layer_backward_cross_entropy_sigmoid_slope(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    grad_z2 = (a2 - targets) / len(data) * a2 * (1 - a2)
    return loss, *backward_from(grad_z2, a1, w2, data)


@wrong("two_layer_backward_cross_entropy", says="forgot the derivative of the hidden sigmoid")
def two_layer_backward_cross_entropy_no_hidden_derivative(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    return loss, *backward_from((a2 - targets) / len(data), a1, w2, data, hidden_slope=False)


@wrong("two_layer_backward_cross_entropy", says="averaged dL/dz over the batch")
def two_layer_backward_cross_entropy_bias_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    grad_z2 = (a2 - targets) / len(data)
    return loss, *backward_from(
        grad_z2, a1, w2, data, bias=lambda delta: np.mean(delta, axis=0, keepdims=True)
    )


@wrong("two_layer_backward_cross_entropy", says="divided by the batch size twice")
def two_layer_backward_cross_entropy_twice_mean(w1, b1, w2, b2, data, targets):
    a1, a2, loss = forward_cross_entropy(w1, b1, w2, b2, data, targets)
    grad_w1, grad_b1, grad_w2, grad_b2 = backward_from((a2 - targets) / len(data), a1, w2, data)
    n = len(data)
    return loss, grad_w1 / n, grad_b1 / n, grad_w2 / n, grad_b2 / n


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
    grad_z2 = (a2 - targets) / len(data)
    grad_z1 = grad_z2 @ w2.T * a1 * (1 - a1)
    grads = [np.zeros_like(p) for p in (w1, b1, w2, b2)]
    for n in range(len(data)):  # one sample at a time: right, but slow
        grads[0] += np.outer(data[n], grad_z1[n])
        grads[1] += grad_z1[n]
        grads[2] += np.outer(a1[n], grad_z2[n])
        grads[3] += grad_z2[n]
    return loss, *grads
