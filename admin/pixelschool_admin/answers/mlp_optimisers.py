"""Wrong answers to notebook 05: minibatches and optimisers.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/mlp_optimisers.py. A wrong answer with ``mistake=`` has its results recorded:
the check names that mistake (its ``*_MESSAGES``) when a student's results match them."""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("05_mlp")


# --- minibatches ---------------------------------------------------------------------


def cut(data, labels, order, batch_size):
    return [
        (data[order[start : start + batch_size]], labels[order[start : start + batch_size]])
        for start in range(0, len(data), batch_size)
    ]


@wrong("minibatches", says="shuffle them first", mistake="not_shuffled")
def minibatches_unshuffled(data, labels, batch_size, rng):
    return cut(data, labels, np.arange(len(data)), batch_size)


@wrong("minibatches", says="dropped the last", mistake="last_batch_dropped")
def minibatches_drop_last(data, labels, batch_size, rng):
    order = rng.permutation(len(data))
    full = len(data) // batch_size * batch_size
    return cut(data[:full], labels[:full], order[order < full], batch_size)


@wrong("minibatches", says="no longer aligned", mistake="labels_misaligned")
def minibatches_two_permutations(data, labels, batch_size, rng):
    data, labels = data[rng.permutation(len(data))], labels[rng.permutation(len(data))]
    return cut(data, labels, np.arange(len(data)), batch_size)


@wrong("minibatches", says="with replacement", mistake="with_replacement")
def minibatches_with_replacement(data, labels, batch_size, rng):
    return cut(data, labels, rng.integers(0, len(data), size=len(data)), batch_size)


@wrong("minibatches", says="with the rng argument", mistake="rng_ignored")
def minibatches_global_random(data, labels, batch_size, rng):
    return cut(data, labels, np.random.permutation(len(data)), batch_size)


@wrong("minibatches", says="whatever the generator", mistake="rng_unused")
def minibatches_fixed_generator(data, labels, batch_size, rng):
    return cut(data, labels, np.random.default_rng(0).permutation(len(data)), batch_size)


@wrong("minibatches", says="in place")
def minibatches_shuffle_in_place(data, labels, batch_size, rng):
    order = rng.permutation(len(data))
    data[:], labels[:] = data[order], labels[order]
    return cut(data, labels, np.arange(len(data)), batch_size)


@right("minibatches")
def minibatches_shuffled_index(data, labels, batch_size, rng):
    index = np.arange(len(data))
    rng.shuffle(index)
    return [
        (data[index[start : start + batch_size]], labels[index[start : start + batch_size]])
        for start in range(0, len(data), batch_size)
    ]


# --- momentum_step -------------------------------------------------------------------


@wrong("momentum_step", says="momentum sign error", mistake="velocity_uphill")
def momentum_step_plus_gradient(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity + learning_rate * grad
    return param + velocity, velocity


@wrong("momentum_step", says="momentum sign error", mistake="param_minus_velocity")
def momentum_step_minus_velocity(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity - learning_rate * grad
    return param - velocity, velocity


@wrong("momentum_step", says="velocity is the step itself", mistake="step_minus_uphill_velocity")
def momentum_step_uphill_velocity_subtracted(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity + learning_rate * grad
    return param - velocity, velocity


@wrong("momentum_step", says="by the new velocity", mistake="old_velocity")
def momentum_step_old_velocity(param, grad, velocity, learning_rate, beta):
    return param + velocity, beta * velocity - learning_rate * grad


@wrong("momentum_step", says="keep beta times the previous velocity", mistake="no_beta")
def momentum_step_no_beta(param, grad, velocity, learning_rate, beta):
    velocity = -learning_rate * grad
    return param + velocity, velocity


@wrong("momentum_step", says="includes the learning rate", mistake="torch_convention")
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


@wrong(
    "momentum_step",
    says="in place",  # the visible check also says what is wrong (not the hidden ones)
)
def momentum_step_in_place_no_beta(param, grad, velocity, learning_rate, beta):
    velocity[:] = -learning_rate * grad
    param += velocity
    return param, velocity


@right("momentum_step")
def momentum_step_negated(param, grad, velocity, learning_rate, beta):
    new_velocity = -(learning_rate * grad - beta * velocity)
    return np.add(param, new_velocity), new_velocity


# --- rmsprop_step --------------------------------------------------------------------


@wrong("rmsprop_step", says="square root of v", mistake="no_sqrt")
def rmsprop_step_no_sqrt(param, grad, v, learning_rate, beta, eps):
    v = beta * v + (1 - beta) * grad**2
    return param - learning_rate * grad / (v + eps), v


@wrong("rmsprop_step", says="AdaGrad", mistake="not_decayed")
def rmsprop_step_not_decayed(param, grad, v, learning_rate, beta, eps):
    v = v + grad**2
    return param - learning_rate * grad / (np.sqrt(v) + eps), v


@wrong("rmsprop_step", says="running AVERAGE", mistake="no_one_minus_beta")
def rmsprop_step_no_one_minus_beta(param, grad, v, learning_rate, beta, eps):
    v = beta * v + grad**2
    return param - learning_rate * grad / (np.sqrt(v) + eps), v


@wrong("rmsprop_step", says="beta weighs the OLD v", mistake="beta_swapped")
def rmsprop_step_beta_swapped(param, grad, v, learning_rate, beta, eps):
    v = (1 - beta) * v + beta * grad**2
    return param - learning_rate * grad / (np.sqrt(v) + eps), v


@wrong("rmsprop_step", says="after the square root", mistake="eps_in_sqrt")
def rmsprop_step_eps_in_sqrt(param, grad, v, learning_rate, beta, eps):
    v = beta * v + (1 - beta) * grad**2
    return param - learning_rate * grad / np.sqrt(v + eps), v


@wrong("rmsprop_step", says="NEW v", mistake="old_v")
def rmsprop_step_old_v(param, grad, v, learning_rate, beta, eps):
    step = learning_rate * grad / (np.sqrt(v) + eps)
    return param - step, beta * v + (1 - beta) * grad**2


@wrong("rmsprop_step", says="goes uphill", mistake="uphill")
def rmsprop_step_uphill(param, grad, v, learning_rate, beta, eps):
    v = beta * v + (1 - beta) * grad**2
    return param + learning_rate * grad / (np.sqrt(v) + eps), v


@wrong("rmsprop_step", says="param first")
def rmsprop_step_swapped(param, grad, v, learning_rate, beta, eps):
    v = beta * v + (1 - beta) * grad**2
    return v, param - learning_rate * grad / (np.sqrt(v) + eps)


@wrong("rmsprop_step", says="in place")
def rmsprop_step_in_place(param, grad, v, learning_rate, beta, eps):
    v *= beta
    v += (1 - beta) * grad**2
    param -= learning_rate * grad / (np.sqrt(v) + eps)
    return param, v


@right("rmsprop_step")
def rmsprop_step_rms(param, grad, v, learning_rate, beta, eps):
    new_v = beta * v + (1.0 - beta) * np.square(grad)
    rms = np.sqrt(new_v)
    return param - learning_rate * (grad / (rms + eps)), new_v


# --- adam_step -----------------------------------------------------------------------


@wrong("adam_step", says="without bias correction", mistake="no_bias_correction")
def adam_step_no_bias_correction(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return param - learning_rate * m / (np.sqrt(v) + eps), m, v


@wrong("adam_step", says="after the square root", mistake="eps_in_sqrt")
def adam_step_eps_in_sqrt(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - learning_rate * m_hat / np.sqrt(v_hat + eps), m, v


@wrong("adam_step", says="squared gradients", mistake="grad_not_squared")
def adam_step_grad_not_squared(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", says="not the corrected", mistake="corrected_moments")
def adam_step_returns_corrected(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = (beta1 * m + (1 - beta1) * grad) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * grad**2) / (1 - beta2**t)
    return param - learning_rate * m / (np.sqrt(v) + eps), m, v


@wrong("adam_step", says="t is the step number", mistake="t_from_zero")
def adam_step_t_from_zero(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", says="your step goes uphill", mistake="uphill")
def adam_step_uphill(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param + learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", says="beta1 is for m", mistake="betas_swapped")
def adam_step_betas_swapped(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta2 * m + (1 - beta2) * grad
    v = beta1 * v + (1 - beta1) * grad**2
    m_hat, v_hat = m / (1 - beta2**t), v / (1 - beta1**t)
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", says="in place")
def adam_step_in_place(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad**2
    param -= learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return param, m, v


@wrong(
    "adam_step",
    says="in place",  # the visible check also says what is wrong (not the hidden ones)
)
def adam_step_in_place_no_bias_correction(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad**2
    param -= learning_rate * m / (np.sqrt(v) + eps)
    return param, m, v


@right("adam_step")
def adam_step_powers(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * np.square(grad)
    m_hat, v_hat = m / (1 - np.power(beta1, t)), v / (1 - np.power(beta2, t))
    return param - learning_rate * m_hat / (v_hat**0.5 + eps), m, v


# --- decayed_learning_rate -----------------------------------------------------------


@wrong("decayed_learning_rate", says="exponential decay", mistake="exponential")
def decayed_learning_rate_exponential(eta0, t, d):
    return eta0 * np.exp(-d * t)


@wrong("decayed_learning_rate", says="decays exponentially", mistake="power")
def decayed_learning_rate_power(eta0, t, d):
    return eta0 / (1 + d) ** t


@wrong("decayed_learning_rate", says="mind the parentheses", mistake="parentheses")
def decayed_learning_rate_parentheses(eta0, t, d):
    return eta0 / (1 + t) * d


@wrong("decayed_learning_rate", says="mind the parentheses", mistake="no_parentheses")
def decayed_learning_rate_no_parentheses(eta0, t, d):
    return eta0 / 1 + t * d


@wrong("decayed_learning_rate", says="at t = 0")
def decayed_learning_rate_from_one(eta0, t, d):
    return eta0 / (1 + (t + 1) * d)


@wrong("decayed_learning_rate", says="ZeroDivisionError")
def decayed_learning_rate_no_one(eta0, t, d):
    return eta0 / (t * d)


@wrong("decayed_learning_rate", says="linear decay", mistake="linear")
def decayed_learning_rate_linear(eta0, t, d):
    return eta0 * (1 - t * d)


@wrong("decayed_learning_rate", says="array of step numbers")
def decayed_learning_rate_if(eta0, t, d):
    if t == 0:
        return eta0
    return eta0 / (1 + t * d)


@right("decayed_learning_rate")
def decayed_learning_rate_numpy(eta0, t, d):
    return np.divide(eta0, 1 + np.multiply(t, d))


@right("rmsprop_step")
def rmsprop_step_interpolated(param, grad, v, learning_rate, beta, eps):
    v = v + (1 - beta) * (grad**2 - v)  # the same average, written as a step towards grad ** 2
    return param - learning_rate * np.divide(grad, np.sqrt(v) + eps), v


@right("rmsprop_step")
def rmsprop_step_augmented_copies(param, grad, v, learning_rate, beta, eps):
    param, v = param.copy(), v.copy()
    v *= beta
    v += (1 - beta) * np.square(grad)
    param -= learning_rate * grad / (v**0.5 + eps)
    return param, v


@wrong("rmsprop_step", says="the new values do not follow")
def rmsprop_step_absolute_gradient(param, grad, v, learning_rate, beta, eps):
    v = beta * v + (1 - beta) * np.abs(grad)  # |g| where g ** 2 belongs
    return param - learning_rate * grad / (np.sqrt(v) + eps), v


@wrong("rmsprop_step", says="the new values do not follow")
def rmsprop_step_eps_squared_in_root(param, grad, v, learning_rate, beta, eps):
    v = beta * v + (1 - beta) * grad**2
    return param - learning_rate * grad / np.sqrt(v + eps**2), v
