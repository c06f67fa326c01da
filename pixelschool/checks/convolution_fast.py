"""Feedback checks for notebook 06, parts 3 and 4: the fast convolution (``im2col`` and
``conv_forward_fast``, no Python loops) and the three-layer ConvNet's ``convnet_loss``.

All three are judged against the solution's recorded results, their usual mistakes named from
the recorded results of the wrong answers in ``pixelschool_admin/answers/convolution_fast.py``;
the rule on loops reads the student's source (``loops.py``).
"""

import numpy as np

from pixelschool.checks.compare import wrong_parts
from pixelschool.checks.convolution import (
    CONV_FORWARD_MESSAGES,
    FORWARD_HINT,
    conv_forward_inputs,
    judge_layer_forward,
    out_shape_problem,
)
from pixelschool.checks.framework import expect, expect_array, expect_tuple, feedback_check
from pixelschool.checks.loops import forbid_loops
from pixelschool.checks.mistakes import named
from pixelschool.checks.mlp_common import judge_part, scalar

__all__ = ["test_im2col", "test_conv_forward_fast", "test_convnet_loss"]

# --- im2col --------------------------------------------------------------------------------

IM2COL_HINT = (
    "Shapes: x (N, C, H, W); cols (N * H_out * W_out, C * HH * WW), one row per window, "
    "H_out = (H + 2 * pad - HH) // stride + 1."
)
IM2COL_MESSAGES = {
    "channels_last": "im2col: each row is its window flattened channel first, then row, then "
    "column (as w[f].reshape(-1) flattens a filter); yours puts the channel last.",
    "window_transposed": "im2col: flatten each window row by row (channel, row, column): yours "
    "goes column by column.",
    "one_column_per_window": "im2col: this notebook's cols has one ROW per window, shape "
    "(N * H_out * W_out, C * HH * WW); CS231n's has one column per window, its transpose.",
    "rows_by_position": "im2col: order the rows by image first, then output row, then output "
    "column (n, i, j), like out[n, :, i, j]: yours lists the positions first.",
    "stride_ignored": "im2col: the stride is ignored: keep every stride-th window in each "
    "direction ([:, :, ::stride, ::stride] of sliding_window_view's windows).",
    "no_padding": "im2col: pad x with pad zeros on every side before taking the windows.",
}


def im2col_inputs(rng):
    """(x, HH, WW, stride, pad) of the layers of conv_forward's check."""
    return [
        (x, w.shape[2], w.shape[3], param["stride"], param["pad"])
        for x, w, _, param in conv_forward_inputs(rng)
    ]


def judge_im2col(results, cases):
    for result in results:
        expect_array(result, "im2col's cols")
    judge_part(
        results,
        cases,
        lambda value: value,
        "im2col",
        IM2COL_MESSAGES,
        otherwise=lambda result, case: (
            f"im2col: cols is wrong for x {case.args[0].shape}, HH = {case.args[1]}, WW = "
            f"{case.args[2]}, stride {case.args[3]}, pad {case.args[4]}. {IM2COL_HINT}"
        ),
    )


@feedback_check("im2col", inputs=im2col_inputs, judge=judge_im2col)
def test_im2col(im2col, cases):
    forbid_loops(im2col)
    for case in cases:
        cases.call(im2col, case, hint=IM2COL_HINT)


# --- conv_forward_fast ---------------------------------------------------------------------

FAST_MESSAGES = {
    **CONV_FORWARD_MESSAGES,
    "reshaped_wrong": "conv_forward_fast: cols @ w.reshape(F, -1).T has one row per (n, i, j) "
    "and one column per filter: reshape it to (N, H_out, W_out, F), then transpose to "
    "(N, F, H_out, W_out); reshaping straight to (N, F, H_out, W_out) mixes the outputs up.",
}


def fast_otherwise(result, case):
    x, w, _, conv_param = case.args
    return out_shape_problem(result, case) or (
        f"conv_forward_fast: out is wrong for x {x.shape}, w {w.shape} and {conv_param}: it "
        "should be conv_forward's out, cols @ w.reshape(F, -1).T + b put back in the layout "
        "(N, F, H_out, W_out)."
    )


def judge_conv_forward_fast(results, cases):
    judge_layer_forward(results, cases, "conv_forward_fast", FAST_MESSAGES, fast_otherwise)


@feedback_check("conv_forward_fast", inputs=conv_forward_inputs, judge=judge_conv_forward_fast)
def test_conv_forward_fast(conv_forward_fast, cases):
    forbid_loops(conv_forward_fast, loop_versions=("conv_forward",))
    for case in cases:
        cases.call(conv_forward_fast, case, hint=FORWARD_HINT)


# --- convnet_loss ----------------------------------------------------------------------------

NAMES = ["w1", "b1", "w2", "b2"]
CONVNET_HINT = (
    "Shapes: params {'w1': (F, C, HH, WW), 'b1': (F,), 'w2': (F * H/2 * W/2, K), 'b2': (K,)}, "
    "x (N, C, H, W), y (N,); returns (loss, grads), grads a dict with the same keys."
)
LOSS_MESSAGES = {
    "summed": lambda result, case: (
        f"convnet_loss: the loss is N = {len(case.args[1])} times too large: take the mean of "
        "the cross-entropy over the batch, not its sum."
    ),
}
NOT_DIVIDED = lambda result, case: (  # noqa: E731
    f"convnet_loss: the gradients are N = {len(case.args[1])} times too large: the loss is "
    "a mean, so dL/dS = (softmax(S) - Y) / N."
)
GRADS_MESSAGES = {
    "summed": NOT_DIVIDED,  # the same gradients: its loss is told first
    "not_divided": NOT_DIVIDED,
    "no_relu_gate": "convnet_loss: the gradient of w1 and b1 skips ReLU's backward pass: "
    "multiply max_pool_backward's output by the mask (z1 > 0) before conv_backward.",
    "relu_gate_on_output": "convnet_loss: ReLU's mask is where the conv's output z1 > 0; you "
    "took it from the pooled output's gradient.",
}


def random_problem(rng, n, c, h, w, f, size, k):
    params = {
        "w1": rng.normal(0, 0.5, size=(f, c, size, size)),
        "b1": rng.normal(0, 0.3, size=f),
        "w2": rng.normal(0, 0.5, size=(f * h // 2 * w // 2, k)),
        "b2": rng.normal(0, 0.3, size=k),
    }
    return params, rng.normal(size=(n, c, h, w)), rng.integers(0, k, size=n)


def convnet_loss_inputs(rng):
    """(params, x, y): 3 x 3 filters on square and on wide images, 5 x 5 filters on one
    channel, then the first with every score around 1000 (b2 + 1000: the loss must stay
    finite, as the text's stable log-softmax keeps it)."""
    cases = [
        random_problem(rng, 3, 2, 4, 4, int(rng.integers(2, 4)), 3, 4),
        random_problem(rng, 2, 3, 6, 4, 2, 3, int(rng.integers(3, 5))),
        random_problem(rng, 4, 1, 4, 6, 2, 5, 5),
    ]
    params, x, y = cases[0]
    return [*cases, ({**params, "b2": params["b2"] + 1000}, x, y)]


def check_convnet_structure(result, case):
    params = case.args[0]
    expect_tuple(result, "convnet_loss", 2)
    scalar(result[0], "The loss (convnet_loss's first value)")
    grads = result[1]
    expect(
        isinstance(grads, dict) and sorted(grads) == sorted(NAMES),
        "convnet_loss: grads should be a dict with the keys of params: 'w1', 'b1', 'w2', 'b2'.",
        mistake="wrong_grads_keys",
    )
    for name in NAMES:
        expect_array(grads[name], f"convnet_loss's grads['{name}']")
        if name == "b2" and grads[name].shape == (len(case.args[1]), params["b2"].size):
            raise named(
                "convnet_loss: grads['b2'] has one row per image: b2 is added to every row of "
                "the scores, so sum its gradient over the rows, shape (K,).",
                "db_not_summed",
            )
        expect(
            grads[name].shape == params[name].shape,
            f"convnet_loss: grads['{name}'] has shape {grads[name].shape}, expected "
            f"{params[name].shape}, the shape of params['{name}'].",
        )


def gradients(value):
    return [value[1][name] for name in NAMES]


def judge_convnet_loss(results, cases):
    for result, case in zip(results, cases):
        check_convnet_structure(result, case)
    expect(
        all(np.isfinite(float(result[0])) for result in results)
        and all(np.all(np.isfinite(grad)) for result in results for grad in gradients(result)),
        "convnet_loss: the loss or a gradient is nan or inf for scores around 1000 (b2 + 1000): "
        "np.exp(1000) overflows. Compute the loss from the log-softmax, S minus each row's "
        "maximum (axis=1, keepdims=True) minus the log of the sum of its exps.",
        mistake="overflow",
    )
    judge_part(
        results,
        cases,
        lambda value: float(value[0]),
        "convnet_loss",
        LOSS_MESSAGES,
        otherwise="convnet_loss: the loss is wrong: the mean over the images of -log softmax(S)"
        "[y], with S the scores of conv - ReLU - max pool - affine.",
    )
    judge_part(
        results,
        cases,
        gradients,
        "convnet_loss",
        GRADS_MESSAGES,
        otherwise=lambda result, case: (
            "convnet_loss: the loss is right but "
            + ", ".join(f"grads['{name}']" for name in wrong_parts(NAMES, result, case.expected))
            + " wrong: go back through the layers in reverse (affine, reshape, "
            "max_pool_backward, ReLU's mask, conv_backward)."
        ),
    )


@feedback_check("convnet_loss", inputs=convnet_loss_inputs, judge=judge_convnet_loss)
def test_convnet_loss(convnet_loss, cases):
    for case in cases:
        cases.call(convnet_loss, case, hint=CONVNET_HINT)
