"""Wrong answers to notebook 05: minibatches, optimisers and regularisation.

The references are the solution notebook's own functions; the checks are in
coursekit/checks/mlp_optimisers.py."""

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


# --- minibatches ---------------------------------------------------------------------


def cut(data, labels, order, batch_size):
    return [
        (data[order[start : start + batch_size]], labels[order[start : start + batch_size]])
        for start in range(0, len(data), batch_size)
    ]


@wrong("minibatches", says="shuffle them first")
def minibatches_unshuffled(data, labels, batch_size, rng):
    return cut(data, labels, np.arange(len(data)), batch_size)


@wrong("minibatches", says="dropped the last")
def minibatches_drop_last(data, labels, batch_size, rng):
    order = rng.permutation(len(data))
    full = len(data) // batch_size * batch_size
    return cut(data[:full], labels[:full], order[order < full], batch_size)


@wrong("minibatches", says="no longer aligned")
def minibatches_two_permutations(data, labels, batch_size, rng):
    data, labels = data[rng.permutation(len(data))], labels[rng.permutation(len(data))]
    return cut(data, labels, np.arange(len(data)), batch_size)


@wrong("minibatches", says="with replacement")
def minibatches_with_replacement(data, labels, batch_size, rng):
    return cut(data, labels, rng.integers(0, len(data), size=len(data)), batch_size)


@wrong("minibatches", says="with the rng argument")
def minibatches_global_random(data, labels, batch_size, rng):
    return cut(data, labels, np.random.permutation(len(data)), batch_size)


@wrong("minibatches", says="whatever the generator")
def minibatches_fixed_generator(data, labels, batch_size, rng):
    return cut(data, labels, np.random.default_rng(0).permutation(len(data)), batch_size)


@wrong("minibatches", says="in place")
def minibatches_shuffle_in_place(data, labels, batch_size, rng):
    order = rng.permutation(len(data))
    data[:], labels[:] = data[order], labels[order]
    return cut(data, labels, np.arange(len(data)), batch_size)


# --- momentum_step -------------------------------------------------------------------


@wrong("momentum_step", says="momentum sign error")
def momentum_step_plus_gradient(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity + learning_rate * grad
    return param + velocity, velocity


@wrong("momentum_step", says="momentum sign error")
def momentum_step_minus_velocity(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity - learning_rate * grad
    return param - velocity, velocity


@wrong("momentum_step", says="by the new velocity")
def momentum_step_old_velocity(param, grad, velocity, learning_rate, beta):
    return param + velocity, beta * velocity - learning_rate * grad


@wrong("momentum_step", says="keep beta times the previous velocity")
def momentum_step_no_beta(param, grad, velocity, learning_rate, beta):
    velocity = -learning_rate * grad
    return param + velocity, velocity


@wrong("momentum_step", says="includes the learning rate")
def momentum_step_torch_convention(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity + grad
    return param - learning_rate * velocity, velocity


@wrong("momentum_step", says="param first")
def momentum_step_swapped(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity - learning_rate * grad
    return velocity, param + velocity


@wrong("momentum_step", says="in place")
def momentum_step_in_place(param, grad, velocity, learning_rate, beta):
    velocity *= beta
    velocity -= learning_rate * grad
    param += velocity
    return param, velocity


# --- adam_step -----------------------------------------------------------------------


@wrong("adam_step", says="without bias correction")
def adam_step_no_bias_correction(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return param - learning_rate * m / (np.sqrt(v) + eps), m, v


@wrong("adam_step", says="after the square root")
def adam_step_eps_in_sqrt(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - learning_rate * m_hat / np.sqrt(v_hat + eps), m, v


@wrong("adam_step", says="squared gradients")
def adam_step_grad_not_squared(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", says="not the corrected")
def adam_step_returns_corrected(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = (beta1 * m + (1 - beta1) * grad) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * grad**2) / (1 - beta2**t)
    return param - learning_rate * m / (np.sqrt(v) + eps), m, v


@wrong("adam_step", says="t is the step number")
def adam_step_t_from_zero(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", says="in place")
def adam_step_in_place(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad**2
    param -= learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return param, m, v


# --- decayed_learning_rate -----------------------------------------------------------


@wrong("decayed_learning_rate", says="exponential decay")
def decayed_learning_rate_exponential(eta0, t, d):
    return eta0 * np.exp(-d * t)


@wrong("decayed_learning_rate", says="decays exponentially")
def decayed_learning_rate_power(eta0, t, d):
    return eta0 / (1 + d) ** t


@wrong("decayed_learning_rate", says="at t = 0")
def decayed_learning_rate_parentheses(eta0, t, d):
    return eta0 / (1 + t) * d


@wrong("decayed_learning_rate", says="ZeroDivisionError")
def decayed_learning_rate_no_one(eta0, t, d):
    return eta0 / (t * d)


@wrong("decayed_learning_rate", says="linear decay")
def decayed_learning_rate_linear(eta0, t, d):
    return eta0 * (1 - t * d)


@wrong("decayed_learning_rate", says="array of step numbers")
def decayed_learning_rate_if(eta0, t, d):
    if t == 0:
        return eta0
    return eta0 / (1 + t * d)


# --- l2_regularisation and l1_regularisation ---------------------------------------------


@wrong("l2_regularisation", says="regularising the biases")
def l2_regularisation_biases(layers, reg):
    penalty = sum(reg * (np.sum(w**2) + np.sum(b**2)) for w, b in layers)
    return penalty, [(2 * reg * w, 2 * reg * b) for w, b in layers]


@wrong("l2_regularisation", says="regularising the biases")
def l2_regularisation_bias_gradient(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w, 2 * reg * b) for w, b in layers]


@wrong("l2_regularisation", says="2 * reg * w")
def l2_regularisation_no_two(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="without 1/2")
def l2_regularisation_half(layers, reg):
    penalty = sum(reg / 2 * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="do not average")
def l2_regularisation_mean(layers, reg):
    penalty = sum(reg * np.mean(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w / w.size, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="not None")
def l2_regularisation_none(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w, None) for w, _ in layers]


@wrong("l2_regularisation", says="every layer")
def l2_regularisation_last_layer(layers, reg):
    w, b = layers[-1]
    grads = [(np.zeros_like(w), np.zeros_like(b)) for w, b in layers[:-1]]
    return reg * np.sum(w**2), [*grads, (2 * reg * w, np.zeros_like(b))]


@wrong("l1_regularisation", says="regularising the biases")
def l1_regularisation_biases(layers, reg):
    penalty = sum(reg * (np.sum(np.abs(w)) + np.sum(np.abs(b))) for w, b in layers)
    return penalty, [(reg * np.sign(w), reg * np.sign(b)) for w, b in layers]


@wrong("l1_regularisation", says="sign(w) (np.sign), not w")
def l1_regularisation_gradient_w(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="not |w|")
def l1_regularisation_gradient_abs(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(reg * np.abs(w), np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="not w ** 2")
def l1_regularisation_squares(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * np.sign(w), np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="multiply the gradient by reg")
def l1_regularisation_no_reg(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(np.sign(w), np.zeros_like(b)) for w, b in layers]
