"""Feedback checks for notebook 05, part 5: batch normalisation (CS231n's layer, forward and
backward, with a cache of a fixed form).

``batchnorm_forward`` and ``batchnorm_backward`` are judged against the solution's recorded
results; their usual mistakes are named from the recorded results of the wrong answers in
``pixelschool_admin/answers/mlp_batchnorm.py``. ``batchnorm_forward`` also updates the running
statistics in its ``bn_param`` dict: the check calls it on a copy of the dict and judges the
running statistics it leaves there against the update the text states, computed from the
recorded batch statistics (the cache's mean and var) alone. With the visible seed,
``batchnorm_backward``'s check then runs a gradient check of the student's own pair of functions
(step, floor and tolerance from gradient_checks).
"""

import copy

import numpy as np

from pixelschool.checks.compare import close, verdict, wrong_parts
from pixelschool.checks.framework import expect, expect_array, expect_tuple, feedback_check
from pixelschool.checks.gradient_checks import check_own_gradients
from pixelschool.checks.mistakes import named
from pixelschool.checks.mlp_common import judge_part

__all__ = ["test_batchnorm_forward", "test_batchnorm_backward"]

RUNNING = ("running_mean", "running_var")
DEFAULTS = {"eps": 1e-5, "momentum": 0.9}  # what the text states when bn_param lacks them
CACHE = "cache = (x, gamma, mean, var, eps)"


def batch(rng, n, d):
    """x (n, d) with columns of other means and spreads, gamma and beta (d,)."""
    x = rng.normal(rng.normal(0, 2, size=d), rng.uniform(0.5, 3, size=d), size=(n, d))
    return x, rng.uniform(0.5, 2, size=d) * rng.choice([-1, 1], size=d), rng.normal(size=d)


def running(rng, d):
    """Running statistics far from a batch's: mean (d,) and positive var (d,)."""
    return {"running_mean": rng.normal(0, 2, size=d), "running_var": rng.uniform(0.2, 4, size=d)}


# --- batchnorm_forward -------------------------------------------------------------------

FORWARD_MESSAGES = {
    "ddof1": "batchnorm_forward: use the batch's own variance, np.var(x, axis=0) (divide by N, "
    "ddof=0), not the unbiased estimate (ddof=1, divide by N - 1).",
    "eps_outside": "batchnorm_forward: eps goes inside the square root: (x - mean) / "
    "np.sqrt(var + eps), not / (np.sqrt(var) + eps).",
    "no_sqrt": "batchnorm_forward: divide by the standard deviation, np.sqrt(var + eps), not by "
    "the variance.",
    "test_batch_statistics": "batchnorm_forward: in test mode normalise with the running "
    "statistics (bn_param['running_mean'], bn_param['running_var']), not with the batch's own: "
    "at test time the output of a sample must not depend on the other samples of its batch.",
    "no_scale_shift": "batchnorm_forward: after normalising, scale and shift: out = gamma * "
    "x_hat + beta.",
    "axis1": "batchnorm_forward: the statistics are per feature, over the N samples: "
    "np.mean(x, axis=0), np.var(x, axis=0) (shape (D,)), not per sample.",
    "cache_order": f"batchnorm_forward: the cache must be {CACHE}, in that order: "
    "batchnorm_backward reads it so.",
}


def forward_inputs(rng):
    """(x, gamma, beta, bn_param): a worked example in train mode without eps, momentum or
    running statistics (the defaults), random batches in train mode (momentum 0.8, then a large
    eps and momentum 0.6), and in test mode (eps 1e-5, then 0.1)."""
    example = (
        np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]]),
        np.array([1.0, 2.0]),
        np.array([0.0, -1.0]),
        {"mode": "train"},
    )
    n, d = int(rng.integers(4, 9)), int(rng.integers(3, 6))
    cases = [example]
    for mode, extra in [
        ("train", {"momentum": 0.8}),
        ("train", {"momentum": 0.6, "eps": 0.5}),
        ("test", {}),
        ("test", {"eps": 0.1}),
    ]:
        cases.append((*batch(rng, n, d), {"mode": mode, **extra, **running(rng, d)}))
    return cases


def student_call(batchnorm_forward):
    """``batchnorm_forward`` as the check calls it: on a copy of bn_param, returning (its result,
    {running statistics it left in the copy}), so that updating bn_param in place, as asked, is
    not reported as a changed input."""

    def batchnorm_forward_(x, gamma, beta, bn_param):
        own = copy.deepcopy(bn_param)
        result = batchnorm_forward(x, gamma, beta, own)
        return result, {key: own[key] for key in RUNNING if key in own}

    batchnorm_forward_.__name__ = batchnorm_forward.__name__
    return batchnorm_forward_


def check_forward_structure(result, case):
    x = case.args[0]
    expect_tuple(result, "batchnorm_forward", 2)
    out, cache = result
    expect_array(out, "batchnorm_forward's out (first value)")
    if out.shape in [(x.shape[0],), (x.shape[0], 1)]:
        raise AssertionError(
            "batchnorm_forward: out has one value per sample: the statistics are per feature, "
            "over the samples (axis=0)."
        )
    expect(
        out.shape == x.shape,
        f"batchnorm_forward's out has shape {out.shape}, expected {x.shape}, the shape of x.",
    )
    expect(
        isinstance(cache, (tuple, list)) and len(cache) == 5,
        f"batchnorm_forward's cache (second value) should be the tuple {CACHE}: "
        "batchnorm_backward reads it so.",
    )


def out_otherwise(result, case):
    mode = case.args[3]["mode"]
    statistics = "the batch's mean and var" if mode == "train" else "the running statistics"
    return (
        f"batchnorm_forward ({mode} mode): out should be gamma * (x - mean) / sqrt(var + eps) + "
        f"beta, with {statistics}."
    )


def cache_otherwise(result, case):
    return (
        f"batchnorm_forward ({case.args[3]['mode']} mode): the cache should be {CACHE}: x, gamma "
        "and eps as given, mean and var the statistics out was normalised with."
    )


def expected_running(case):
    """The running statistics the text's update gives: momentum * old + (1 - momentum) * the
    batch's, from the recorded cache's mean and var."""
    param = case.args[3]
    d = case.args[0].shape[1]
    momentum = param.get("momentum", DEFAULTS["momentum"])
    old = [param.get(key, np.zeros(d)) for key in RUNNING]
    if param["mode"] == "test":
        return old, old, momentum
    batch_stats = case.expected[1][2:4]
    return (
        [momentum * o + (1 - momentum) * s for o, s in zip(old, batch_stats)],
        old,
        momentum,
    )


def judge_running(left, case):
    """The running statistics left in bn_param against the text's update."""
    param = case.args[3]
    expected, old, momentum = expected_running(case)
    found = [left.get(key) for key in RUNNING]
    if param["mode"] == "test":
        expect(
            all(f is not None for f in found) and close(found, expected),
            "batchnorm_forward: in test mode leave the running statistics as they are: only "
            "training batches update them.",
            mistake="running_updated_in_test",
        )
        return
    if any(f is None for f in found):
        raise named(
            "batchnorm_forward: the running statistics were not updated: in train mode store "
            "them in bn_param "
            "(bn_param['running_mean'] = ..., bn_param['running_var'] = ...); when bn_param has "
            "none yet, start from zeros of shape (D,).",
            "running_not_updated",
        )
    if close(found, expected):
        return
    if close(found, old):
        raise AssertionError(
            "batchnorm_forward: the running statistics were not updated: in train mode set "
            "bn_param['running_mean'] = momentum * running_mean + (1 - momentum) * mean (the "
            "same for running_var), or test mode has nothing to normalise with."
        )
    batch_stats = case.expected[1][2:4]
    swapped = [(1 - momentum) * o + momentum * s for o, s in zip(old, batch_stats)]
    if close(found, swapped):
        raise named(
            f"batchnorm_forward: momentum (here {momentum}) weighs the OLD running statistics: "
            "running = momentum * running + (1 - momentum) * batch statistic, not the other way "
            "round.",
            "momentum_swapped",
        )
    raise named(
        f"batchnorm_forward (momentum {momentum}): the running statistics should be momentum * "
        "running + (1 - momentum) * the batch's mean (var), with the batch's var divided by N.",
        "wrong_running_update",
    )


def judge_forward(results, cases):
    for (result, _), case in zip(results, cases):
        check_forward_structure(result, case)
    returned = [result for result, _ in results]
    name, messages = "batchnorm_forward", FORWARD_MESSAGES
    judge_part(returned, cases, lambda r: r[0], name, messages, otherwise=out_otherwise)
    judge_part(returned, cases, lambda r: tuple(r[1]), name, messages, otherwise=cache_otherwise)
    for (_, left), case in zip(results, cases):
        judge_running(left, case)


@feedback_check("batchnorm_forward", inputs=forward_inputs, judge=judge_forward)
def test_batchnorm_forward(batchnorm_forward, cases):
    hint = "bn_param['mode'] is 'train' or 'test'; eps and momentum may be missing (defaults)."
    with np.errstate(all="ignore"):
        for case in cases:
            cases.call(student_call(batchnorm_forward), case, hint=hint)


# --- batchnorm_backward ------------------------------------------------------------------

BACKWARD_MESSAGES = {
    "no_mean_path": "batchnorm_backward: dx misses the path through the batch mean: mean "
    "depends on every x, so dx gets a term -sum(dx_hat) / (N std) (with dx_hat = dout * "
    "gamma). Derive it on the computational graph, or use the compact formula.",
    "no_var_path": "batchnorm_backward: dx misses the path through the batch variance: var "
    "depends on every x, so dx gets a term -x_hat * sum(dx_hat * x_hat) / (N std) (with "
    "dx_hat = dout * gamma).",
    "constant_statistics": "batchnorm_backward: dx treats the batch mean and variance as "
    "constants (dx = dout * gamma / std): both depend on x, and their paths add two terms.",
    "no_gamma": "batchnorm_backward: out = gamma * x_hat + beta, so the gradient reaching x_hat "
    "is dout * gamma: dx is missing the factor gamma.",
    "dgamma_x": "batchnorm_backward: out = gamma * x_hat + beta, so dgamma sums dout * x_hat "
    "(the normalised input), not dout * x.",
    "ddof1": "batchnorm_backward: the cache's var is the batch's variance divided by N; "
    "compute x_hat with it as the forward pass did.",
    "sum_over_features": "batchnorm_backward: the sums of the backward pass run over the "
    "samples (axis=0), one per feature, not over the features.",
}


def backward_inputs(rng):
    """(dout, cache) with cache = (x, gamma, mean, var, eps) as batchnorm_forward makes it in
    train mode: a worked example, then random batches (one with eps 0.1, one of 2 samples)."""
    cases = []
    for n, d, eps in [
        (3, 2, 1e-5),
        (int(rng.integers(4, 9)), int(rng.integers(3, 6)), 1e-5),
        (int(rng.integers(4, 9)), int(rng.integers(3, 6)), 0.1),
        (2, int(rng.integers(2, 5)), 1e-5),
    ]:
        x, gamma, _ = batch(rng, n, d)
        dout = rng.normal(size=(n, d))
        cases.append((dout, (x, gamma, x.mean(axis=0), x.var(axis=0), eps)))
    return cases


def check_backward_structure(result, case):
    dout, (x, gamma, *_) = case.args
    n, d = x.shape
    expect_tuple(result, "batchnorm_backward", 3)
    for value, what in zip(result, ["dx", "dgamma", "dbeta"]):
        expect_array(value, f"batchnorm_backward's {what}")
    dx, dgamma, dbeta = result
    expect(dx.shape == x.shape, f"batchnorm_backward: dx has shape {dx.shape}, expected {x.shape}.")
    for value, what in [(dgamma, "dgamma"), (dbeta, "dbeta")]:
        if value.shape == (n, d) and n > 1:
            raise named(
                f"batchnorm_backward: {what} has shape {value.shape}: it was not summed over the "
                "batch. gamma and beta act on every sample, so their gradients sum the N rows: "
                "np.sum(..., axis=0).",
                "not_summed",
            )
        expect(
            value.shape == gamma.shape,
            f"batchnorm_backward: {what} has shape {value.shape}, expected {gamma.shape}, the "
            "shape of gamma (np.sum(..., axis=0) without keepdims).",
        )


def backward_otherwise(result, case):
    wrong = wrong_parts(["dx", "dgamma", "dbeta"], result, case.expected)
    x = case.args[1][0]
    return (
        f"batchnorm_backward: {', '.join(wrong)} wrong for x of shape {x.shape}. dbeta sums dout, "
        "dgamma sums dout * x_hat, and dx has three paths: through x_hat, the mean and the var."
    )


def judge_backward(results, cases):
    for result, case in zip(results, cases):
        check_backward_structure(result, case)
    verdict(results, cases, "batchnorm_backward", BACKWARD_MESSAGES, otherwise=backward_otherwise)


def gradient_problem(rng):
    """The batch-norm layer's gradient check: ((x, gamma, beta), dout), x (N, D) N, D 3 to 6."""
    n, d = (int(k) for k in rng.integers(3, 7, size=2))
    return batch(rng, n, d), rng.normal(size=(n, d))


def check_own_batchnorm_gradients(batchnorm_backward, cases):
    """The gradient check of the student's backward with their own forward in train mode (a
    fresh bn_param for every call)."""
    check_own_gradients(
        batchnorm_backward,
        "batchnorm_forward",
        ["x", "gamma", "beta"],
        gradient_problem,
        cases,
        lambda: {"mode": "train"},
    )


@feedback_check("batchnorm_backward", inputs=backward_inputs, judge=judge_backward)
def test_batchnorm_backward(batchnorm_backward, cases):
    hint = f"dout (N, D); {CACHE} as batchnorm_forward returns it in train mode."
    with np.errstate(all="ignore"):
        for case in cases:
            cases.call(batchnorm_backward, case, hint=hint)
    check_own_batchnorm_gradients(batchnorm_backward, cases)
