"""Feedback checks for notebook 06, part 1: the convolutional layer's forward and backward
passes (CS231n's layout: x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {'stride',
'pad'}).

``conv_forward`` and ``conv_backward`` are judged against the solution's recorded results, their
usual mistakes named from the recorded results of the wrong answers in
``pixelschool_admin/answers/convolution.py``; the cache is checked against the inputs. With the
visible seed, the backward check then runs a gradient check of the student's own pair of
functions (step, floor and tolerance from gradient_checks).
"""

import numpy as np

from pixelschool.checks.compare import close, wrong_parts
from pixelschool.checks.framework import expect, expect_array, expect_tuple, feedback_check
from pixelschool.checks.gradient_checks import check_own_gradients
from pixelschool.checks.mistakes import named
from pixelschool.checks.mlp_common import judge_part

__all__ = ["test_conv_forward", "test_conv_backward"]

FORWARD_HINT = (
    "Shapes: x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {'stride': s, 'pad': p}; "
    "out (N, F, H_out, W_out) with H_out = (H + 2 * p - HH) // s + 1."
)
# (N, C, H, W, F, HH, WW, stride, pad): every case of a seed has the same kind of layer, its
# sizes drawn; together they show every named mistake (a pad of 0 and of 2, a stride of 2,
# a filter that is not square, an image that is not square).
LAYERS = [
    lambda rng: (2, 3, 4, 5, int(rng.integers(2, 4)), 3, 3, 1, 1),
    lambda rng: (1, 2, 5, 7, int(rng.integers(2, 4)), 3, 3, 2, 1),
    lambda rng: (2, 2, 4, 5, 2, 2, 3, 1, 0),
    lambda rng: (1, 3, 7, 5, int(rng.integers(2, 4)), 3, 3, 2, 0),
    lambda rng: (1, 2, 3, 4, 2, 3, 3, 1, 2),
]


def output_size(size, kernel, stride, pad):
    return (size + 2 * pad - kernel) // stride + 1


def layer_case(rng, n, c, h, w, f, hh, ww, stride, pad):
    """(x, w, b, conv_param) of random values: no two filters alike, no symmetric kernel."""
    return (
        rng.normal(size=(n, c, h, w)),
        rng.normal(size=(f, c, hh, ww)),
        rng.normal(size=f),
        {"stride": stride, "pad": pad},
    )


def conv_forward_inputs(rng):
    """(x, w, b, conv_param): one layer of each kind of LAYERS, sizes drawn."""
    return [layer_case(rng, *layer(rng)) for layer in LAYERS]


def expected_shape(case):
    x, w, _, conv_param = case[:4]
    s, p = conv_param["stride"], conv_param["pad"]
    return (
        x.shape[0],
        w.shape[0],
        output_size(x.shape[2], w.shape[2], s, p),
        output_size(x.shape[3], w.shape[3], s, p),
    )


CONV_FORWARD_MESSAGES = {
    "flipped": "conv_forward: you flipped the kernel (a true convolution). Deep-learning layers "
    "compute a cross-correlation: multiply each window by w[f] as it is, not by "
    "w[f, :, ::-1, ::-1].",
    "pad_one_side": "conv_forward: the zeros go on every side: p rows above and below, p columns "
    "left and right, np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))).",
    "stride_ignored": "conv_forward: the stride is ignored: window (i, j) starts at row i * s and "
    "column j * s, and H_out = (H + 2p - HH) // s + 1.",
    "bias_in_sum": "conv_forward: the bias is added once per output, b[f] + sum(window * w[f]), "
    "not to every product inside the sum.",
    "no_bias": "conv_forward: add the bias b[f] to every output of filter f.",
    "channels_mean": "conv_forward: a filter sums over all C channels of its window; you "
    "averaged them.",
    "one_channel": "conv_forward: a filter spans all C channels: sum window * w[f] over the "
    "channel axis too, not over the first channel only.",
    "off_by_one": "conv_forward: out is one row and one column short: H_out = (H + 2p - HH) // s "
    "+ 1 (a 3 x 3 filter fits 3 times in 5 columns).",
    "edge_padding": "conv_forward: pad with zeros (np.pad's default, mode='constant'), not by "
    "repeating the edge pixels.",
}


def out_shape_problem(result, case):
    """What the shape of a wrong out tells, or None."""
    x, w, _, conv_param = case.args
    n, f, h_out, w_out = expected_shape(case.args)
    s, p = conv_param["stride"], conv_param["pad"]
    shape = np.shape(result)
    if shape == (n, f, h_out, w_out):
        return None
    if len(shape) == 5 and shape[:2] == (n, f):
        return (
            f"conv_forward: out has shape {shape}, one more axis than (N, F, H_out, W_out): "
            "sum each window times its filter over the channels too."
        )
    if s > 1 and shape == (
        n,
        f,
        output_size(x.shape[2], w.shape[2], 1, p),
        output_size(x.shape[3], w.shape[3], 1, p),
    ):
        return CONV_FORWARD_MESSAGES["stride_ignored"]
    if p > 0 and shape == (
        n,
        f,
        output_size(x.shape[2], w.shape[2], s, 0),
        output_size(x.shape[3], w.shape[3], s, 0),
    ):
        return (
            f"conv_forward: out has shape {shape}, the size without padding: pad x with "
            f"p = {p} rows and columns of zeros on every side first."
        )
    return (
        f"conv_forward: out has shape {shape} for x {x.shape}, w {w.shape} and "
        f"{conv_param}. {FORWARD_HINT}"
    )


def conv_forward_otherwise(result, case):
    x, w, _, conv_param = case.args
    return out_shape_problem(result, case) or (
        f"conv_forward: out is wrong for x {x.shape}, w {w.shape} and {conv_param}: "
        "out[n, f, i, j] = b[f] + the sum over c, k, l of w[f, c, k, l] * "
        "xp[n, c, i*s + k, j*s + l]."
    )


CONV_CACHE = ("x", "w", "b", "conv_param")


def check_cache(cache, case, name, names=CONV_CACHE):
    """The cache holds the layer's inputs as given, in order."""
    expect(
        isinstance(cache, (tuple, list)) and len(cache) == len(names),
        f"{name}'s cache (second value) should be the tuple ({', '.join(names)}): the backward "
        "pass reads it so.",
        mistake="wrong_cache",
    )
    for value, given, what in zip(cache, case.args, names):
        if isinstance(given, dict):
            expect(value == given, f"{name}: the cache's {what} should be the {what} given.")
            continue
        if what == "x" and np.shape(value) != given.shape and np.ndim(value) == 4:
            raise named(
                f"{name}: the cache's x has shape {np.shape(value)}, x has shape {given.shape}: "
                "keep x as it was given (not padded): the backward pass pads it again.",
                "cache_padded",
            )
        expect(
            close(value, given),
            f"{name}: the cache should hold ({', '.join(names)}) as they were given, in that "
            f"order; its {what} is not the {what} given.",
        )


def judge_layer_forward(results, cases, name, messages, otherwise, cached=CONV_CACHE):
    """A layer's forward pass: (out, cache), out judged against the recordings, the cache
    holding the inputs named ``cached`` as they were given."""
    for result in results:
        expect_tuple(result, name, 2)
        expect_array(result[0], f"{name}'s out (first value)")
    judge_part(results, cases, lambda value: value[0], name, messages, otherwise=otherwise)
    for result, case in zip(results, cases):
        check_cache(result[1], case, name, cached)


def judge_conv_forward(results, cases):
    judge_layer_forward(
        results, cases, "conv_forward", CONV_FORWARD_MESSAGES, conv_forward_otherwise
    )


@feedback_check("conv_forward", inputs=conv_forward_inputs, judge=judge_conv_forward)
def test_conv_forward(conv_forward, cases):
    for case in cases:
        cases.call(conv_forward, case, hint=FORWARD_HINT)


# --- conv_backward -----------------------------------------------------------------------

BACKWARD_HINT = (
    "Shapes: dout (N, F, H_out, W_out), cache = (x (N, C, H, W), w (F, C, HH, WW), b (F,), "
    "conv_param) as conv_forward returns it; dx (N, C, H, W), dw (F, C, HH, WW), db (F,)."
)
CONV_BACKWARD_MESSAGES = {
    "uncropped": "conv_backward: dx is the gradient of the padded input: crop the padding off, "
    "dx = dxp[:, :, p:p + H, p:p + W] (the zeros are no input of the layer).",
    "crop_start": "conv_backward: crop the padding off both sides: dx = dxp[:, :, p:p + H, "
    "p:p + W], not dxp[:, :, :H, :W].",
    "crop_negative": "conv_backward: with pad = 0, dxp[:, :, p:-p, p:-p] is empty (-0 is 0): "
    "crop with dxp[:, :, p:p + H, p:p + W].",
    "db_divided": lambda result, case: (
        f"conv_backward: db is N = {len(case.args[1][0])} times too small: dout already holds "
        "the 1 / N of a mean loss; sum it over the batch and the positions, do not divide."
    ),
    "dw_divided": lambda result, case: (
        f"conv_backward: dw is N = {len(case.args[1][0])} times too small: dout already holds "
        "the 1 / N of a mean loss; do not divide by N again."
    ),
    "dw_last_image": "conv_backward: dw holds the last image's gradient only: the filters are "
    "shared by every image of the batch, so add up (+=) every image's contribution.",
    "dx_flipped": "conv_backward: dx gets dout[n, f, i, j] * w[f] with the filter as it is (the "
    "forward pass does not flip it), not flipped.",
}


def conv_backward_inputs(rng):
    """(dout, (x, w, b, conv_param)): one layer of each kind of LAYERS, sizes drawn."""
    cases = []
    for layer in LAYERS:
        args = layer_case(rng, *layer(rng))
        cases.append((rng.normal(size=expected_shape(args)), args))
    return cases


def check_backward_shapes(result, case):
    dout, (x, w, b, _) = case.args
    n, f = dout.shape[:2]
    expect_tuple(result, "conv_backward", 3)
    for value, what in zip(result, ["dx", "dw", "db"]):
        expect_array(value, f"conv_backward's {what}")
    dx, dw, db = result
    if db.shape == (n, f):
        raise named(
            f"conv_backward: db has shape {db.shape}: sum dout over the batch too, "
            "db = dout.sum(axis=(0, 2, 3)) of shape (F,).",
            "db_not_summed",
        )
    if db.shape == dout.shape[1:]:
        raise named(
            f"conv_backward: db has shape {db.shape}: b[f] is added at every position, so sum "
            "dout over the positions too, db = dout.sum(axis=(0, 2, 3)) of shape (F,).",
            "db_not_summed",
        )
    expect(db.shape == b.shape, f"conv_backward: db has shape {db.shape}, expected {b.shape}.")
    expect(dw.shape == w.shape, f"conv_backward: dw has shape {dw.shape}, expected {w.shape}.")


def conv_backward_otherwise(result, case):
    dout, (x, w, _, conv_param) = case.args
    if np.shape(result[0]) != x.shape:
        return (
            f"conv_backward: dx has shape {np.shape(result[0])}, expected {x.shape}, the shape "
            "of x: crop the padding off the gradient of the padded input."
        )
    wrong = wrong_parts(["dx", "dw", "db"], result, case.expected)
    return (
        f"conv_backward: {', '.join(wrong)} wrong for x {x.shape}, w {w.shape} and "
        f"{conv_param}. Every output's dout[n, f, i, j] goes to b[f], to w[f] (times its "
        "window) and to its window of xp (times w[f]); windows overlap: add."
    )


def judge_conv_backward(results, cases):
    for result, case in zip(results, cases):
        check_backward_shapes(result, case)
    judge_part(
        results,
        cases,
        lambda value: value,
        "conv_backward",
        CONV_BACKWARD_MESSAGES,
        otherwise=conv_backward_otherwise,
    )


def own_conv_problem(rng):
    """(x, w, b) and dout for the gradient check of conv_backward (stride 2, pad 1)."""
    inputs = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    return inputs, rng.normal(size=(2, 3, 3, 3))


def check_own_conv_gradients(backward, cases):
    """The gradient check of the student's conv_backward with their own conv_forward."""
    check_own_gradients(
        backward, "conv_forward", "xwb", own_conv_problem, cases, lambda: {"stride": 2, "pad": 1}
    )


@feedback_check("conv_backward", inputs=conv_backward_inputs, judge=judge_conv_backward)
def test_conv_backward(conv_backward, cases):
    for case in cases:
        cases.call(conv_backward, case, hint=BACKWARD_HINT)
    check_own_conv_gradients(conv_backward, cases)
