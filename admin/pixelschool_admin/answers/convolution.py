"""Wrong answers to notebook 06, part 1: the convolutional layer, forward and backward.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/convolution.py. A wrong answer with ``mistake=`` has its results recorded:
the check names that mistake when a student's results match them. The backward check's
gradient check finds the student's conv_forward beside conv_backward: here, the solution's."""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("06_convolution")
conv_forward = solution.conv_forward


def forward_with(
    x,
    w,
    b,
    conv_param,
    *,
    pad_width=None,
    mode="constant",
    stride=None,
    size_offset=1,
    kernel=None,
    bias_in_sum=False,
    channels="sum",
):
    """A loop version of the forward pass, with one thing changed (for the wrong answers)."""
    s = conv_param["stride"] if stride is None else stride
    p = conv_param["pad"]
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    kernel = w if kernel is None else kernel
    pad_width = pad_width or ((0, 0), (0, 0), (p, p), (p, p))
    xp = np.pad(x, pad_width, mode=mode)
    h_out = (xp.shape[2] - hh) // s + size_offset
    w_out = (xp.shape[3] - ww) // s + size_offset
    out = np.zeros((n, f, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * s : i * s + hh, j * s : j * s + ww]
            products = window[:, None] * kernel[None]  # (N, F, C, HH, WW)
            if bias_in_sum:
                products = products + b[None, :, None, None, None]
            if channels == "mean":
                total = products.sum(axis=(3, 4)).mean(axis=2)
            elif channels == "first":
                total = products[:, :, 0].sum(axis=(2, 3))
            else:
                total = products.sum(axis=(2, 3, 4))
            out[:, :, i, j] = total + (0 if bias_in_sum or b is None else b)
    return out, (x, w, b, conv_param)


@wrong("conv_forward", says="flipped the kernel", mistake="flipped")
def conv_forward_flipped(x, w, b, conv_param):
    return forward_with(x, w, b, conv_param, kernel=w[:, :, ::-1, ::-1])


@wrong("conv_forward", says="zeros go on every side", mistake="pad_one_side")
def conv_forward_pad_one_side(x, w, b, conv_param):
    p = conv_param["pad"]
    return forward_with(x, w, b, conv_param, pad_width=((0, 0), (0, 0), (p, 0), (p, 0)))


@wrong("conv_forward", says="stride is ignored", mistake="stride_ignored")
def conv_forward_stride_ignored(x, w, b, conv_param):
    return forward_with(x, w, b, conv_param, stride=1)


@wrong("conv_forward", says="once per output", mistake="bias_in_sum")
def conv_forward_bias_in_sum(x, w, b, conv_param):
    return forward_with(x, w, b, conv_param, bias_in_sum=True)


@wrong("conv_forward", says="add the bias", mistake="no_bias")
def conv_forward_no_bias(x, w, b, conv_param):
    out, _ = forward_with(x, w, np.zeros_like(b), conv_param)
    return out, (x, w, b, conv_param)


@wrong("conv_forward", says="averaged them", mistake="channels_mean")
def conv_forward_channels_mean(x, w, b, conv_param):
    return forward_with(x, w, b, conv_param, channels="mean")


@wrong("conv_forward", says="not over the first channel only", mistake="one_channel")
def conv_forward_one_channel(x, w, b, conv_param):
    return forward_with(x, w, b, conv_param, channels="first")


@wrong("conv_forward", says="one row and one column short", mistake="off_by_one")
def conv_forward_off_by_one(x, w, b, conv_param):
    return forward_with(x, w, b, conv_param, size_offset=0)


@wrong("conv_forward", says="not by repeating the edge", mistake="edge_padding")
def conv_forward_edge_padding(x, w, b, conv_param):
    return forward_with(x, w, b, conv_param, mode="edge")


@wrong("conv_forward", says="keep x as it was given (not padded)")
def conv_forward_caches_padded(x, w, b, conv_param):
    p = conv_param["pad"]
    out, _ = forward_with(x, w, b, conv_param)
    return out, (np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))), w, b, conv_param)


@wrong("conv_forward", says="should return 2 values")
def conv_forward_out_only(x, w, b, conv_param):
    return forward_with(x, w, b, conv_param)[0]


@right("conv_forward")
def conv_forward_four_loops(x, w, b, conv_param):
    """CS231n's naive version: a loop over every image, filter and position, in float64."""
    s, p = conv_param["stride"], conv_param["pad"]
    n, _, h, wd = x.shape
    f, _, hh, ww = w.shape
    h_out = 1 + (h + 2 * p - hh) // s
    w_out = 1 + (wd + 2 * p - ww) // s
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant", constant_values=0)
    out = np.zeros((n, f, h_out, w_out))
    for image in range(n):
        for k in range(f):
            for i in range(h_out):
                for j in range(w_out):
                    window = xp[image, :, i * s : i * s + hh, j * s : j * s + ww]
                    out[image, k, i, j] = np.sum(window * w[k]) + b[k]
    return out, (x, w, b, conv_param)


@right("conv_forward")
def conv_forward_einsum(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    hh, ww = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    h_out = int((x.shape[2] + 2 * p - hh) / s + 1)
    w_out = int((x.shape[3] + 2 * p - ww) / s + 1)
    out = np.empty((x.shape[0], w.shape[0], h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * s : i * s + hh, j * s : j * s + ww]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, w) + b
    return out, [x, w, b, conv_param]


# --- conv_backward -------------------------------------------------------------------------


def backward_with(
    dout, cache, *, crop="right", db_scale=1.0, dw_scale=1.0, last_image=False, kernel=None
):
    """A loop version of the backward pass, with one thing changed (for the wrong answers)."""
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    n, _, h, wd = x.shape
    _, _, hh, ww = w.shape
    kernel = w if kernel is None else kernel
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for image in range(n):
        dw_image = np.zeros_like(w)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                rows, cols = slice(i * s, i * s + hh), slice(j * s, j * s + ww)
                grad = dout[image, :, i, j]  # (F,)
                dw_image += grad[:, None, None, None] * xp[image, :, rows, cols][None]
                dxp[image, :, rows, cols] += np.tensordot(grad, kernel, axes=(0, 0))
        dw = dw_image if last_image else dw + dw_image
    crops = {
        "right": dxp[:, :, p : p + h, p : p + wd],
        "none": dxp,
        "start": dxp[:, :, :h, :wd],
        "negative": dxp[:, :, p:-p, p:-p],
    }
    return crops[crop], dw * dw_scale, dout.sum(axis=(0, 2, 3)) * db_scale


@wrong("conv_backward", says="crop the padding off, dx = dxp", mistake="uncropped")
def conv_backward_uncropped(dout, cache):
    return backward_with(dout, cache, crop="none")


@wrong("conv_backward", says="not dxp[:, :, :H, :W]", mistake="crop_start")
def conv_backward_crop_start(dout, cache):
    return backward_with(dout, cache, crop="start")


@wrong(
    "conv_backward", says="with pad = 0, dxp[:, :, p:-p, p:-p] is empty", mistake="crop_negative"
)
def conv_backward_crop_negative(dout, cache):
    return backward_with(dout, cache, crop="negative")


@wrong("conv_backward", says="db is N", mistake="db_divided")
def conv_backward_db_divided(dout, cache):
    return backward_with(dout, cache, db_scale=1 / len(dout))


@wrong("conv_backward", says="dw is N", mistake="dw_divided")
def conv_backward_dw_divided(dout, cache):
    return backward_with(dout, cache, dw_scale=1 / len(dout))


@wrong("conv_backward", says="last image's gradient only", mistake="dw_last_image")
def conv_backward_dw_last_image(dout, cache):
    return backward_with(dout, cache, last_image=True)


@wrong("conv_backward", says="not flipped", mistake="dx_flipped")
def conv_backward_dx_flipped(dout, cache):
    return backward_with(dout, cache, kernel=cache[1][:, :, ::-1, ::-1])


@wrong("conv_backward", says="sum dout over the batch too")
def conv_backward_db_per_image(dout, cache):
    dx, dw, _ = backward_with(dout, cache)
    return dx, dw, dout.sum(axis=(2, 3))


@wrong("conv_backward", says="sum dout over the positions too")
def conv_backward_db_per_position(dout, cache):
    dx, dw, _ = backward_with(dout, cache)
    return dx, dw, dout.sum(axis=0)


@right("conv_backward")
def conv_backward_four_loops(dout, cache):
    """CS231n's naive version: every image, filter and position in turn."""
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    _, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw, db = np.zeros_like(xp), np.zeros_like(w), np.zeros_like(b)
    n, f, h_out, w_out = dout.shape
    for image in range(n):
        for k in range(f):
            db[k] += dout[image, k].sum()
            for i in range(h_out):
                for j in range(w_out):
                    window = xp[image, :, i * s : i * s + hh, j * s : j * s + ww]
                    dw[k] += window * dout[image, k, i, j]
                    dxp[image, :, i * s : i * s + hh, j * s : j * s + ww] += (
                        w[k] * dout[image, k, i, j]
                    )
    h, wd = x.shape[2:]
    return dxp[:, :, p : p + h, p : p + wd], dw, db


@right("conv_forward")
def conv_forward_as_strided(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    n, c, h, width = x.shape
    f, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    h_out, w_out = (h + 2 * p - hh) // s + 1, (width + 2 * p - ww) // s + 1
    sn, sc, sh, sw = xp.strides
    windows = np.lib.stride_tricks.as_strided(
        xp, (n, c, h_out, w_out, hh, ww), (sn, sc, sh * s, sw * s, sh, sw)
    )
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    return out + b.reshape(1, -1, 1, 1), (x, w, b, conv_param)


@wrong("conv_forward", says="out is wrong")
def conv_forward_window_not_strided(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    _, _, hh, ww = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    h_out, w_out = (x.shape[2] + 2 * p - hh) // s + 1, (x.shape[3] + 2 * p - ww) // s + 1
    out = np.zeros((len(x), len(w), h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i : i + hh, j : j + ww]  # i, not i * s
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


@right("conv_backward")
def conv_backward_tensordot(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    h, width = x.shape[2:]
    hh, ww = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            d = dout[:, :, i, j]  # (N, F)
            dw += np.tensordot(d, xp[:, :, i * s : i * s + hh, j * s : j * s + ww], axes=(0, 0))
            dxp[:, :, i * s : i * s + hh, j * s : j * s + ww] += np.tensordot(d, w, axes=(1, 0))
    return dxp[:, :, p : p + h, p : p + width], dw, dout.sum(axis=(0, 2, 3))


@wrong("conv_backward", says="dw wrong")
def conv_backward_dw_overwritten(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    hh, ww = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dx, _, db = solution.conv_backward(dout, cache)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):  # = instead of +=: only the last position counts
            window = xp[:, :, i * s : i * s + hh, j * s : j * s + ww]
            dw = np.tensordot(dout[:, :, i, j], window, axes=(0, 0))
    return dx, dw, db
