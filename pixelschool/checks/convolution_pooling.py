"""Feedback checks for notebook 06, part 2: max pooling, forward and backward
(x (N, C, H, W), pool_param {'pool_height', 'pool_width', 'stride'}).

Both are judged against the solution's recorded results, their usual mistakes named from the
recorded results of the wrong answers in ``pixelschool_admin/answers/convolution_pooling.py``.
Where a window's maximum is tied, no single dx is right: the backward check's inputs with ties
(small integers, windows that do not overlap) are judged by a property instead, computed from
the inputs: each dout goes whole to one of its window's maxima, any one. With the visible seed
the backward check then runs a gradient check of the student's own pair of functions.
"""

import numpy as np

from pixelschool.checks.compare import verdict
from pixelschool.checks.convolution import judge_layer_forward
from pixelschool.checks.framework import expect, expect_array, feedback_check
from pixelschool.checks.gradient_checks import check_own_gradients

__all__ = ["test_max_pool_forward", "test_max_pool_backward"]

HINT = (
    "Shapes: x (N, C, H, W), pool_param {'pool_height': PH, 'pool_width': PW, 'stride': s}; "
    "out (N, C, H_out, W_out) with H_out = (H - PH) // s + 1."
)


POOL_CACHE = ("x", "pool_param")


def pool(ph, pw, stride):
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


def output_shape(x_shape, pool_param):
    n, c, h, w = x_shape
    s = pool_param["stride"]
    return n, c, (h - pool_param["pool_height"]) // s + 1, (w - pool_param["pool_width"]) // s + 1


def pool_cases(rng):
    """(x, pool_param) without ties: windows of 2 x 2 stride 2, 2 x 2 stride 1 and 3 x 3
    stride 2 (overlapping, a peak shared by several windows), 2 x 3 stride 2 (not square)."""
    cases = [
        (rng.normal(size=(2, 3, 4, 2 * int(rng.integers(2, 4)))), pool(2, 2, 2)),
        (rng.normal(size=(2, 2, 4, 5)), pool(2, 2, 1)),
        (rng.normal(size=(1, 2, 7, 5)), pool(3, 3, 2)),
        (rng.normal(size=(1, 2, 4, 7)), pool(2, 3, 2)),
    ]
    for x, _ in cases[1:3]:
        x[0, 0, 2, 2] = 5.0  # the maximum of every window that covers it
    return cases


def tied(rng):
    """(x, pool_param) with ties: small integers, 2 x 2 windows with stride 2, one window of
    equal values."""
    x = rng.integers(0, 2, size=(2, 2, 4, 6)).astype(float)
    x[0, 0, :2, :2] = 1.0
    return x, pool(2, 2, 2)


# --- max_pool_forward --------------------------------------------------------------------

FORWARD_MESSAGES = {
    "average": "max_pool_forward: that is average pooling: keep the largest value of each "
    "window (window.max(axis=(2, 3))), not its mean.",
    "stride_ignored": "max_pool_forward: the stride is ignored: window (i, j) starts at row "
    "i * s and column j * s, and H_out = (H - PH) // s + 1.",
    "over_channels": "max_pool_forward: pool each channel on its own: the maximum is over the "
    "window's rows and columns (axis=(2, 3)), not over the channels too.",
    "off_by_one": "max_pool_forward: out is one row and one column short: H_out = (H - PH) // s "
    "+ 1.",
    "height_width_swapped": "max_pool_forward: pool_height counts rows (H) and pool_width "
    "columns (W): you swapped them.",
}


def max_pool_forward_inputs(rng):
    """(x, pool_param): the cases of pool_cases, then one with ties."""
    return [*pool_cases(rng), tied(rng)]


def forward_otherwise(result, case):
    x, pool_param = case.args
    expected = output_shape(x.shape, pool_param)
    if np.shape(result) != expected:
        return (
            f"max_pool_forward: out has shape {np.shape(result)} for x {x.shape} and "
            f"{pool_param}. {HINT}"
        )
    return (
        f"max_pool_forward: out is wrong for x {x.shape} and {pool_param}: out[n, c, i, j] is the "
        "largest value of x[n, c, i*s : i*s + PH, j*s : j*s + PW]."
    )


def judge_max_pool_forward(results, cases):
    judge_layer_forward(
        results, cases, "max_pool_forward", FORWARD_MESSAGES, forward_otherwise, POOL_CACHE
    )


@feedback_check("max_pool_forward", inputs=max_pool_forward_inputs, judge=judge_max_pool_forward)
def test_max_pool_forward(max_pool_forward, cases):
    for case in cases:
        cases.call(max_pool_forward, case, hint=HINT)


# --- max_pool_backward -------------------------------------------------------------------

BACKWARD_HINT = (
    "Shapes: dout (N, C, H_out, W_out), cache = (x (N, C, H, W), pool_param) as "
    "max_pool_forward returns it; dx (N, C, H, W)."
)
BACKWARD_MESSAGES = {
    "spread": "max_pool_backward: you spread dout evenly over the window (average pooling's "
    "gradient): the max lets only its winner through, so the whole dout goes to the position "
    "of the window's maximum and 0 to the others.",
    "overwritten": "max_pool_backward: where windows overlap, one position can be the maximum "
    "of several windows: add their gradients (dx[...] += ...), do not overwrite them.",
    "stride_ignored": "max_pool_backward: the stride is ignored: window (i, j) starts at row "
    "i * s and column j * s.",
    "no_dout": "max_pool_backward: multiply by the upstream gradient: the maximum's position "
    "gets dout[n, c, i, j], not 1 (chain rule).",
    "everywhere": "max_pool_backward: only the window's maximum gets dout: the other positions "
    "of the window did not change the output, their gradient is 0.",
}
ALL_TIED = (
    "max_pool_backward: where a window's maximum is tied (equal values), you sent dout to "
    "every tied position: that counts it twice. Send the whole dout to one of them (the first, "
    "as np.argmax of the flattened window gives it, or any single one)."
)


def max_pool_backward_inputs(rng):
    """(dout, (x, pool_param)): the cases of pool_cases, then one with ties (judged by a
    property: windows 2 x 2, stride 2, no dout near 0)."""
    cases = []
    for x, pool_param in [*pool_cases(rng), tied(rng)]:
        dout = rng.normal(size=output_shape(x.shape, pool_param))
        dout = np.where(np.abs(dout) < 0.1, 0.5, dout)
        cases.append((dout, (x, pool_param)))
    return cases


def has_ties(case):
    _, (x, pool_param) = case.args
    return pool_param["stride"] == pool_param["pool_height"] == pool_param["pool_width"] and (
        np.all(x == np.round(x))
    )


def windows(array, size):
    """(N, C, H/size, W/size, size * size): the non-overlapping windows of ``array``."""
    n, c, h, w = array.shape
    blocks = array.reshape(n, c, h // size, size, w // size, size)
    return blocks.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // size, w // size, size * size)


def tie_problem(dx, case):
    """What is wrong with dx where windows are tied, or None: each dout must go whole to one of
    its window's maxima."""
    dout, (x, pool_param) = case.args
    size = pool_param["stride"]
    xw, dxw, grad = windows(x, size), windows(dx, size), dout[..., None]
    maxima = xw == xw.max(axis=-1, keepdims=True)
    scale = 1e-9 * (1 + np.abs(dout).max())
    gets_dout = np.isclose(dxw, grad, rtol=1e-6, atol=scale)
    zero = np.abs(dxw) <= scale
    if np.all(np.where(maxima, gets_dout, zero)) and np.any(maxima.sum(axis=-1) > 1):
        return ALL_TIED
    single = (gets_dout & maxima).sum(axis=-1) == 1
    if np.all(single) and np.all(gets_dout & maxima | zero):
        return None
    return (
        "max_pool_backward: dx is wrong where a window's maximum is tied (equal values): each "
        "dout[n, c, i, j] must go whole to one of the tied positions, and 0 to the others."
    )


def judge_max_pool_backward(results, cases):
    for result, case in zip(results, cases):
        x = case.args[1][0]
        expect_array(result, "max_pool_backward's dx")
        expect(
            result.shape == x.shape,
            f"max_pool_backward: dx has shape {result.shape}, expected {x.shape}, the shape of x.",
        )
    plain = [(r, c) for r, c in zip(results, cases) if not has_ties(c)]
    verdict(
        [r for r, _ in plain],
        [c for _, c in plain],
        "max_pool_backward",
        BACKWARD_MESSAGES,
        otherwise=lambda result, case: (
            f"max_pool_backward: dx is wrong for x {case.args[1][0].shape} and {case.args[1][1]}: "
            "each dout[n, c, i, j] goes to the position of its window's maximum; overlapping "
            "windows add up."
        ),
    )
    for result, case in zip(results, cases):
        if has_ties(case):
            problem = tie_problem(result, case)
            expect(problem is None, problem, mistake="ties_all_get_dout")


def own_pool_problem(rng):
    """(x,) and dout for the gradient check of max_pool_backward: distinct values (0.1 apart:
    no tie within a step), overlapping 2 x 2 windows with stride 1."""
    x = rng.permutation(2 * 2 * 4 * 4).reshape(2, 2, 4, 4) * 0.1
    return (x,), rng.normal(size=(2, 2, 3, 3))


def check_own_pool_gradients(backward, cases):
    """The gradient check of the student's max_pool_backward with their own max_pool_forward."""
    check_own_gradients(
        backward, "max_pool_forward", ["x"], own_pool_problem, cases, lambda: pool(2, 2, 1)
    )


@feedback_check("max_pool_backward", inputs=max_pool_backward_inputs, judge=judge_max_pool_backward)
def test_max_pool_backward(max_pool_backward, cases):
    for case in cases:
        cases.call(max_pool_backward, case, hint=BACKWARD_HINT)
    check_own_pool_gradients(max_pool_backward, cases)
