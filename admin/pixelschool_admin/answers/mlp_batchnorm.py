"""Wrong answers to notebook 05: batch normalisation, forward and backward.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/mlp_batchnorm.py. A wrong answer with ``mistake=`` has its results recorded:
the check names that mistake (its ``*_MESSAGES``) when a student's results match them; the
running statistics' mistakes change nothing in the results and are named by the check's own
code. The backward check's gradient check finds the student's forward function beside the
backward one: here, the solution's (``batchnorm_forward`` of this module)."""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("05_mlp")
batchnorm_forward = solution.batchnorm_forward


# --- batchnorm_forward ---------------------------------------------------------------------


def forward(x, gamma, beta, bn_param, mistake=None):
    """The batch-norm layer's forward pass, with one of the mistakes below."""
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d))
    running_var = bn_param.get("running_var", np.zeros(d))
    axis = 1 if mistake == "axis1" else 0
    if mode == "train" or mistake == "test batch statistics":
        mean = x.mean(axis=axis, keepdims=axis == 1)
        var = x.var(axis=axis, ddof=1 if mistake == "ddof1" else 0, keepdims=axis == 1)
    else:
        mean, var = running_mean, running_var
    if mode == "train" and mistake != "not updated":
        keep, new = (
            (1 - momentum, momentum) if mistake == "momentum swapped" else (momentum, 1 - momentum)
        )
        bn_param["running_mean"] = keep * running_mean + new * mean
        bn_param["running_var"] = keep * running_var + new * var
    if mistake == "updates in test" and mode == "test":
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * x.var(axis=0)
    if mistake == "eps outside":
        x_hat = (x - mean) / (np.sqrt(var) + eps)
    elif mistake == "no sqrt":
        x_hat = (x - mean) / (var + eps)
    else:
        x_hat = (x - mean) / np.sqrt(var + eps)
    out = x_hat if mistake == "no scale shift" else gamma * x_hat + beta
    cache = (x, gamma, var, mean, eps) if mistake == "cache order" else (x, gamma, mean, var, eps)
    return out, cache


def forward_answer(mistake, says, key=None):
    def batchnorm_forward(x, gamma, beta, bn_param):
        return forward(x, gamma, beta, bn_param, mistake)

    batchnorm_forward.__name__ = f"batchnorm_forward_{mistake.replace(' ', '_')}"
    wrong("batchnorm_forward", says=says, mistake=key)(batchnorm_forward)


forward_answer("ddof1", says="not the unbiased estimate", key="ddof1")
forward_answer("eps outside", says="eps goes inside the square root", key="eps_outside")
forward_answer("no sqrt", says="not by the variance", key="no_sqrt")
forward_answer(
    "test batch statistics",
    says="in test mode normalise with the running",
    key="test_batch_statistics",
)
forward_answer("no scale shift", says="scale and shift", key="no_scale_shift")
forward_answer("axis1", says="per feature, over the N samples", key="axis1")
forward_answer("cache order", says="in that order", key="cache_order")
forward_answer("not updated", says="running statistics were not updated")
forward_answer("momentum swapped", says="weighs the OLD running statistics")
forward_answer("updates in test", says="in test mode leave the running statistics")


@wrong("batchnorm_forward", says="store them in bn_param")
def batchnorm_forward_new_dict(x, gamma, beta, bn_param):
    bn_param = dict(bn_param)  # updates a copy: the caller's dict never changes
    return forward(x, gamma, beta, bn_param)


@right("batchnorm_forward")
def batchnorm_forward_in_place_arrays(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    bn_param.setdefault("running_mean", np.zeros(x.shape[1], dtype=x.dtype))
    bn_param.setdefault("running_var", np.zeros(x.shape[1], dtype=x.dtype))
    if mode == "train":
        mu = np.mean(x, axis=0)
        xmu = x - mu
        var = np.mean(xmu**2, axis=0)
        bn_param["running_mean"] *= momentum
        bn_param["running_mean"] += (1 - momentum) * mu
        bn_param["running_var"] *= momentum
        bn_param["running_var"] += (1 - momentum) * var
    else:
        mu, var = bn_param["running_mean"], bn_param["running_var"]
    std = np.sqrt(var + eps)
    return gamma * ((x - mu) / std) + beta, (x, gamma, mu, var, eps)


@right("batchnorm_forward")
def batchnorm_forward_float64(x, gamma, beta, bn_param):
    x64 = x.astype(np.float64)
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    zeros = np.zeros(x.shape[1])
    if bn_param["mode"] == "test":
        mean = bn_param.get("running_mean", zeros)
        var = bn_param.get("running_var", zeros)
    else:
        mean, var = x64.mean(axis=0), x64.var(axis=0)
        old_mean = bn_param.get("running_mean", zeros)
        old_var = bn_param.get("running_var", zeros)
        bn_param["running_mean"] = momentum * old_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * old_var + (1 - momentum) * var
    out = gamma * (x64 - mean) / np.sqrt(var + eps) + beta
    return out, (x, gamma, mean, var, eps)


# --- batchnorm_backward --------------------------------------------------------------------


def backward(dout, cache, mistake=None):
    """The batch-norm layer's backward pass on the computational graph, with a mistake."""
    x, gamma, mean, var, eps = cache
    n = len(x)
    axis = 1 if mistake == "sum over features" else 0
    if mistake == "ddof1":
        var = x.var(axis=0, ddof=1)
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * (x if mistake == "dgamma x" else x_hat), axis=0)
    dx_hat = dout if mistake == "no gamma" else dout * gamma
    dx = dx_hat / std
    if mistake not in ("no mean path", "constant statistics"):
        dx = dx - dx_hat.sum(axis=axis, keepdims=True) / (n * std)
    if mistake not in ("no var path", "constant statistics"):
        dx = dx - x_hat * np.sum(dx_hat * x_hat, axis=axis, keepdims=True) / (n * std)
    return dx, dgamma, dbeta


def backward_answer(mistake, says, key=None):
    def batchnorm_backward(dout, cache):
        return backward(dout, cache, mistake)

    batchnorm_backward.__name__ = f"batchnorm_backward_{mistake.replace(' ', '_')}"
    wrong("batchnorm_backward", says=says, mistake=key)(batchnorm_backward)


backward_answer("no mean path", says="path through the batch mean", key="no_mean_path")
backward_answer("no var path", says="path through the batch variance", key="no_var_path")
backward_answer("constant statistics", says="as constants", key="constant_statistics")
backward_answer("no gamma", says="missing the factor gamma", key="no_gamma")
backward_answer("dgamma x", says="not dout * x", key="dgamma_x")
backward_answer("ddof1", says="divided by N", key="ddof1")
backward_answer("sum over features", says="run over the samples", key="sum_over_features")


@wrong("batchnorm_backward", says="not summed over the batch")
def batchnorm_backward_not_summed(dout, cache):
    x, gamma, mean, var, eps = cache
    dx, _, _ = backward(dout, cache)
    return dx, dout * (x - mean) / np.sqrt(var + eps), dout


@wrong("batchnorm_backward", says="changed its argument `dout` in place")
def batchnorm_backward_in_place(dout, cache):
    result = backward(dout, cache)
    dout *= 0
    return result


@right("batchnorm_backward")
def batchnorm_backward_graph(dout, cache):
    """CS231n's step by step backward pass through the computational graph."""
    x, gamma, mu, var, eps = cache
    n = x.shape[0]
    xmu = x - mu
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / sqrtvar**2 * divar
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    dsq = 1.0 / n * np.ones_like(x) * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
    dx2 = 1.0 / n * np.ones_like(x) * dmu
    return dx1 + dx2, dgamma, dbeta


@right("batchnorm_backward")
def batchnorm_backward_compact_float64(dout, cache):
    """The compact formula, in float64."""
    x, gamma, mean, var, eps = (np.asarray(v, dtype=np.float64) for v in cache)
    dout = dout.astype(np.float64)
    n = x.shape[0]
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    dx = (gamma * inv_std / n) * (n * dout - dout.sum(0) - x_hat * (dout * x_hat).sum(0))
    return dx, (dout * x_hat).sum(0), dout.sum(0)


@right("batchnorm_forward")
def batchnorm_forward_mean_of_squares(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d))
    running_var = bn_param.get("running_var", np.zeros(d))
    if bn_param["mode"] == "train":
        mean = x.sum(axis=0) / len(x)
        var = (x**2).mean(axis=0) - mean**2  # E[x^2] - E[x]^2, not np.var
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    return (x - mean) * inv_std * gamma + beta, (x, gamma, mean, var, eps)


@right("batchnorm_forward")
def batchnorm_forward_setdefault_in_place(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.setdefault("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.setdefault("running_var", np.zeros(x.shape[1]))
    if bn_param["mode"] == "train":
        mean, var = x.mean(0), np.std(x, axis=0) ** 2
        running_mean *= momentum  # the arrays in the dict, updated in place
        running_mean += (1 - momentum) * mean
        running_var *= momentum
        running_var += (1 - momentum) * var
    else:
        mean, var = running_mean.copy(), running_var.copy()
    return gamma * ((x - mean) / np.sqrt(var + eps)) + beta, (x, gamma, mean, var, eps)


@wrong("batchnorm_forward", says="out should be gamma * (x - mean) / sqrt(var + eps) + beta")
def batchnorm_forward_gamma_beta_swapped(x, gamma, beta, bn_param):
    return forward(x, beta, gamma, bn_param)[0], forward(x, gamma, beta, dict(bn_param))[1]


@wrong("batchnorm_forward", says="the running statistics should be")
def batchnorm_forward_running_std(x, gamma, beta, bn_param):
    momentum = bn_param.get("momentum", 0.9)
    running_var = bn_param.get("running_var", np.zeros(x.shape[1]))
    out, cache = forward(x, gamma, beta, bn_param)
    if bn_param["mode"] == "train":  # the std where the variance belongs
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * np.sqrt(cache[3])
    return out, cache


@wrong("batchnorm_forward", says="the running statistics should be")
def batchnorm_forward_fixed_momentum(x, gamma, beta, bn_param):
    given = {**bn_param, "momentum": 0.9}  # bn_param's momentum ignored
    out, cache = forward(x, gamma, beta, given)
    for key in ("running_mean", "running_var"):
        if key in given:
            bn_param[key] = given[key]
    return out, cache


@right("batchnorm_backward")
def batchnorm_backward_cs231n_staged(dout, cache):
    x, gamma, mean, var, eps = cache
    n, d = x.shape
    x_mu = x - mean
    inv_var = 1.0 / np.sqrt(var + eps)
    x_hat = x_mu * inv_var
    dx_hat = dout * gamma
    d_inv_var = np.sum(dx_hat * x_mu, axis=0)
    d_sqrt_var = -1.0 / (np.sqrt(var + eps) ** 2) * d_inv_var
    d_var = 0.5 / np.sqrt(var + eps) * d_sqrt_var
    d_sq = np.ones((n, d)) / n * d_var
    d_x_mu = dx_hat * inv_var + 2 * x_mu * d_sq
    d_mu = -np.sum(d_x_mu, axis=0)
    dx = d_x_mu + np.ones((n, d)) / n * d_mu
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)


@right("batchnorm_backward")
def batchnorm_backward_paper(dout, cache):
    x, gamma, mean, var, eps = cache
    m = len(x)
    x_hat = (x - mean) / np.sqrt(var + eps)
    dx_hat = dout * gamma
    d_var = np.sum(dx_hat * (x - mean), axis=0) * -0.5 * (var + eps) ** -1.5
    d_mean = np.sum(-dx_hat / np.sqrt(var + eps), axis=0) + d_var * np.mean(-2 * (x - mean), 0)
    dx = dx_hat / np.sqrt(var + eps) + d_var * 2 * (x - mean) / m + d_mean / m
    return dx, np.einsum("nd,nd->d", dout, x_hat), np.einsum("nd->d", dout)


@right("batchnorm_backward")
def batchnorm_backward_means(dout, cache):
    x, gamma, mean, var, eps = cache
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, (dout * x_hat).sum(axis=0, keepdims=True).ravel(), dout.sum(axis=0)


@wrong("batchnorm_backward", says="dgamma, dbeta wrong")
def batchnorm_backward_dgamma_dbeta_swapped(dout, cache):
    dx, dgamma, dbeta = backward(dout, cache)
    return dx, dbeta, dgamma


@wrong("batchnorm_backward", says="dx wrong")
def batchnorm_backward_dvar_sign(dout, cache):
    x, gamma, mean, var, eps = cache
    m = len(x)
    x_hat = (x - mean) / np.sqrt(var + eps)
    dx_hat = dout * gamma
    d_var = np.sum(dx_hat * (x - mean), axis=0) * 0.5 * (var + eps) ** -1.5  # the sign of -1/2
    d_mean = np.sum(-dx_hat / np.sqrt(var + eps), axis=0)
    dx = dx_hat / np.sqrt(var + eps) + d_var * 2 * (x - mean) / m + d_mean / m
    return dx, np.sum(dout * x_hat, axis=0), dout.sum(axis=0)


@wrong("batchnorm_backward", says="dx wrong")
def batchnorm_backward_compact_without_n(dout, cache):
    x, gamma, mean, var, eps = cache
    n = len(x)
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (n * std)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
