"""Wrong answers to notebook 05: the layers as modules (affine and ReLU, forward and backward,
with caches) and He initialisation.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/mlp_modular.py. A wrong answer with ``mistake=`` has its results recorded:
the check names that mistake (its ``*_MESSAGES``) when a student's results match them. The
backward checks' gradient check finds the student's forward function beside the backward one:
here, the solution's (``affine_forward`` and ``relu_forward`` of this module)."""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("05_mlp")
affine_forward, relu_forward = solution.affine_forward, solution.relu_forward


# --- affine_forward ----------------------------------------------------------------------


@wrong("affine_forward", says="add the bias", mistake="no_bias")
def affine_forward_no_bias(x, w, b):
    return x @ w, (x, w, b)


@wrong("affine_forward", says="w (D, M)")
def affine_forward_transposed(x, w, b):
    return x @ w.T + b, (x, w, b)


@wrong("affine_forward", says="in that order", mistake="cache_order")
def affine_forward_cache_order(x, w, b):
    return x @ w + b, (w, x, b)


@wrong("affine_forward", says="not its output", mistake="cache_output")
def affine_forward_cache_output(x, w, b):
    out = x @ w + b
    return out, (out, w, b)


@wrong("affine_forward", says="the tuple (x, w, b)")
def affine_forward_cache_without_b(x, w, b):
    return x @ w + b, (x, w)


@wrong("affine_forward", says="should return 2 values")
def affine_forward_out_only(x, w, b):
    return x @ w + b


@right("affine_forward")
def affine_forward_dot(x, w, b):
    out = np.dot(x, w)
    out += b
    return out, [x, w, b]


# --- affine_backward ---------------------------------------------------------------------


@wrong("affine_backward", says="dw = x.T @ dout")
def affine_backward_dw_transposed(dout, cache):
    x, w, b = cache
    return dout @ w.T, dout.T @ x, np.sum(dout, axis=0, keepdims=True)


@wrong("affine_backward", says="dx (N, D) = dout @ w.T")
def affine_backward_dx_not_transposed(dout, cache):
    x, w, b = cache
    return dout @ w, x.T @ dout, np.sum(dout, axis=0, keepdims=True)


@wrong("affine_backward", says="you averaged dout over the rows", mistake="db_mean")
def affine_backward_db_mean(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, np.mean(dout, axis=0, keepdims=True)


@wrong("affine_backward", says="do not divide by N again", mistake="divided_by_n")
def affine_backward_divided_by_n(dout, cache):
    x, w, b = cache
    n = len(x)
    return dout @ w.T, x.T @ dout / n, np.sum(dout, axis=0, keepdims=True) / n


@wrong("affine_backward", says="sum dout over the rows (axis 0)")
def affine_backward_db_not_summed(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout


@wrong("affine_backward", says="summed dout over all its axes")
def affine_backward_db_summed_over_all(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, np.sum(dout)


@wrong("affine_backward", says="keeps the row axis")
def affine_backward_db_flat(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, np.sum(dout, axis=0)


@wrong("affine_backward", says="sum dout over the rows (axis 0)")
def affine_backward_db_columns(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, np.sum(dout, axis=1)


@right("affine_backward")
def affine_backward_dot(dout, cache):
    x, w, _ = cache
    return np.dot(dout, w.T), np.dot(x.T, dout), dout.sum(axis=0)[None, :]


@right("affine_backward")
def affine_backward_einsum(dout, cache):
    x, w, b = cache
    dw = np.einsum("nd,nm->dm", x, dout)
    return np.einsum("nm,dm->nd", dout, w), dw, dout.sum(axis=0, keepdims=True)


# --- relu_forward ------------------------------------------------------------------------


@wrong("relu_forward", says="not its output", mistake="cache_output")
def relu_forward_cache_output(x):
    out = np.maximum(x, 0)
    return out, out


@wrong("relu_forward", says="not its derivative", mistake="derivative")
def relu_forward_derivative(x):
    return (x > 0).astype(float), x


@wrong("relu_forward", says="np.maximum(x, 0) compares")
def relu_forward_max(x):
    return np.max(x, 0), x


@wrong("relu_forward", says="in place")
def relu_forward_in_place(x):
    np.maximum(x, 0, out=x)
    return x, x


@wrong("relu_forward", says="should return 2 values")
def relu_forward_out_only(x):
    return np.maximum(x, 0)


@right("relu_forward")
def relu_forward_times_mask(x):
    return x * (x > 0), x


@right("relu_forward")
def relu_forward_where(x):
    return np.where(x > 0, x, 0), x.copy()


# --- relu_backward -----------------------------------------------------------------------


@wrong("relu_backward", says="not from dout", mistake="dout_mask")
def relu_backward_dout_mask(dout, cache):
    return dout * (dout > 0)


@wrong("relu_backward", says="not by x.", mistake="times_x")
def relu_backward_times_x(dout, cache):
    return dout * cache


@wrong("relu_backward", says="not by ReLU's output", mistake="times_output")
def relu_backward_times_output(dout, cache):
    return dout * np.maximum(cache, 0)


@wrong("relu_backward", says="multiply the upstream gradient dout", mistake="no_dout")
def relu_backward_no_dout(dout, cache):
    return (cache > 0).astype(float)


@wrong("relu_backward", says="where x <= 0", mistake="inverted_mask")
def relu_backward_inverted_mask(dout, cache):
    return dout * (cache < 0)


@wrong("relu_backward", says="x = 0 included", mistake="at_zero")
def relu_backward_at_zero(dout, cache):
    return (cache >= 0) * dout


@wrong("relu_backward", says="x = 0 included", mistake="at_zero")
def relu_backward_where_at_zero(dout, cache):
    return np.where(cache >= 0, dout, 0)


@wrong("relu_backward", says="changed its argument `dout` in place")
def relu_backward_in_place(dout, cache):
    dout[cache <= 0] = 0
    return dout


@right("relu_backward")
def relu_backward_copy(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0
    return dx


@right("relu_backward")
def relu_backward_where(dout, cache):
    return np.where(cache > 0, dout, 0.0)


# --- init_layers ---------------------------------------------------------------------


def pairs(sizes):
    return zip(sizes[:-1], sizes[1:])


def initialised(sizes, draw):
    """[(draw(fan_in, fan_out), zero bias), ...]."""
    return [(draw(i, o), np.zeros((1, o))) for i, o in pairs(sizes)]


def he(fan_in, fan_out, rng):
    return rng.normal(0, np.sqrt(2 / fan_in), size=(fan_in, fan_out))


@wrong("init_layers", says="Xavier's (Glorot's) initialisation", mistake="xavier_not_he")
def init_layers_xavier(sizes, rng):
    def xavier(i, o):
        limit = np.sqrt(6 / (i + o))
        return rng.uniform(-limit, limit, size=(i, o))

    return initialised(sizes, xavier)


@wrong("init_layers", says="Xavier's (Glorot's) initialisation", mistake="xavier_not_he")
def init_layers_glorot_normal(sizes, rng):
    return initialised(sizes, lambda i, o: rng.normal(0, np.sqrt(2 / (i + o)), size=(i, o)))


@wrong("init_layers", says="halves the variance", mistake="xavier_not_he")
def init_layers_lecun(sizes, rng):
    return initialised(sizes, lambda i, o: rng.normal(0, np.sqrt(1 / i), size=(i, o)))


@wrong("init_layers", says="not the variance", mistake="xavier_not_he")
def init_layers_variance_as_scale(sizes, rng):
    return initialised(sizes, lambda i, o: rng.normal(0, 2 / i, size=(i, o)))


@wrong("init_layers", says="fan_in is the number of inputs", mistake="xavier_not_he")
def init_layers_fan_out(sizes, rng):
    return initialised(sizes, lambda i, o: rng.normal(0, np.sqrt(2 / o), size=(i, o)))


@wrong("init_layers", says="standard deviation 1", mistake="xavier_not_he")
def init_layers_unscaled(sizes, rng):
    return initialised(sizes, lambda i, o: rng.normal(size=(i, o)))


@wrong("init_layers", says="with the rng argument (rng.normal)", mistake="rng_ignored")
def init_layers_global_random(sizes, rng):
    return initialised(sizes, lambda i, o: np.random.normal(0, np.sqrt(2 / i), size=(i, o)))


@wrong("init_layers", says="rows and columns are swapped", mistake="xavier_not_he")
def init_layers_transposed(sizes, rng):
    return initialised(sizes, lambda i, o: he(o, i, rng))


@wrong("init_layers", says="biases should start at zero", mistake="bias_not_zero")
def init_layers_random_biases(sizes, rng):
    return [(he(i, o, rng), he(1, o, rng)) for i, o in pairs(sizes)]


@wrong("init_layers", says="one row that is added to every sample", mistake="bias_shape")
def init_layers_flat_biases(sizes, rng):
    return [(he(i, o, rng), np.zeros(o)) for i, o in pairs(sizes)]


@wrong("init_layers", says="not centred on 0", mistake="xavier_not_he")
def init_layers_random(sizes, rng):
    return initialised(sizes, lambda i, o: np.sqrt(2 / i) * rng.random((i, o)))


@wrong("init_layers", says="pairs, one per layer", mistake="not_a_pair_per_layer")
def init_layers_hidden_only(sizes, rng):
    return initialised(sizes[:-1], lambda i, o: he(i, o, rng))


@right("init_layers")
def init_layers_standard_normal(sizes, rng):
    return [
        (rng.standard_normal((i, o)) * np.sqrt(2 / i), np.zeros((1, o))) for i, o in pairs(sizes)
    ]


@right("init_layers")
def init_layers_he_uniform(sizes, rng):
    """He's variance from a uniform distribution (Keras' he_uniform): the spread is right."""
    return initialised(
        sizes, lambda i, o: rng.uniform(-np.sqrt(6 / i), np.sqrt(6 / i), size=(i, o))
    )


@right("relu_backward")
def relu_backward_heaviside(dout, cache):
    return dout * np.heaviside(cache, 0)  # heaviside(0, 0) = 0: x = 0 passes nothing


@right("relu_backward")
def relu_backward_float_mask(dout, cache):
    return (cache > 0).astype(float) * dout


@right("relu_backward")
def relu_backward_zeros_then_copy(dout, cache):
    dx = np.zeros_like(dout)
    dx[cache > 0] = dout[cache > 0]
    return dx


@wrong("relu_backward", says="dx should be dout where x > 0")
def relu_backward_sign(dout, cache):
    return dout * np.sign(cache)  # -dout where x < 0


@wrong("relu_backward", says="dx should be dout where x > 0")
def relu_backward_positive_dout_only(dout, cache):
    return np.maximum(dout, 0) * (cache > 0)
