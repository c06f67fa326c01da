"""Wrong answers to notebook 06, parts 3 and 4: im2col, conv_forward_fast (no loops) and the
three-layer ConvNet's convnet_loss.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/convolution_fast.py. The wrong answers of conv_forward_fast and convnet_loss
use the solution's other layers (module globals), as a student's use their own."""

import numpy as np
from scipy.special import log_softmax

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("06_convolution")
im2col = solution.im2col
conv_forward = solution.conv_forward
conv_forward_fast = solution.conv_forward_fast
conv_backward = solution.conv_backward
max_pool_forward = solution.max_pool_forward
max_pool_backward = solution.max_pool_backward


def windows_of(x, HH, WW, stride, pad):
    """(N, C, H_out, W_out, HH, WW): every window of the zero-padded x."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    view = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))
    return view[:, :, ::stride, ::stride]


@wrong("im2col", says="yours puts the channel last", mistake="channels_last")
def im2col_channels_last(x, HH, WW, stride, pad):
    windows = windows_of(x, HH, WW, stride, pad)
    return windows.transpose(0, 2, 3, 4, 5, 1).reshape(-1, x.shape[1] * HH * WW)


@wrong("im2col", says="goes column by column", mistake="window_transposed")
def im2col_window_transposed(x, HH, WW, stride, pad):
    windows = windows_of(x, HH, WW, stride, pad)
    return windows.transpose(0, 2, 3, 1, 5, 4).reshape(-1, x.shape[1] * HH * WW)


@wrong("im2col", says="one ROW per window", mistake="one_column_per_window")
def im2col_columns(x, HH, WW, stride, pad):
    windows = windows_of(x, HH, WW, stride, pad)
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(x.shape[1] * HH * WW, -1)


@wrong("im2col", says="yours lists the positions first", mistake="rows_by_position")
def im2col_rows_by_position(x, HH, WW, stride, pad):
    windows = windows_of(x, HH, WW, stride, pad)
    return windows.transpose(2, 3, 0, 1, 4, 5).reshape(-1, x.shape[1] * HH * WW)


@wrong("im2col", says="stride is ignored", mistake="stride_ignored")
def im2col_stride_ignored(x, HH, WW, stride, pad):
    windows = windows_of(x, HH, WW, 1, pad)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, x.shape[1] * HH * WW)


@wrong("im2col", says="pad x with pad zeros", mistake="no_padding")
def im2col_no_padding(x, HH, WW, stride, pad):
    windows = windows_of(x, HH, WW, stride, 0)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, x.shape[1] * HH * WW)


@wrong("im2col", says="uses a `for` loop")
def im2col_loops(x, HH, WW, stride, pad):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows = []
    for image in range(n):
        for i in range(0, h + 2 * pad - HH + 1, stride):
            for j in range(0, w + 2 * pad - WW + 1, stride):
                rows.append(xp[image, :, i : i + HH, j : j + WW].reshape(-1))
    return np.array(rows)


@right("im2col")
def im2col_fancy_indexing(x, HH, WW, stride, pad):
    """Index arrays instead of sliding_window_view."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    h_out, w_out = (h + 2 * pad - HH) // stride + 1, (w + 2 * pad - WW) // stride + 1
    rows = (np.arange(h_out) * stride)[:, None, None, None] + np.arange(HH)[None, None, :, None]
    cols = (np.arange(w_out) * stride)[None, :, None, None] + np.arange(WW)[None, None, None, :]
    patches = xp[:, :, rows, cols]  # (N, C, H_out, W_out, HH, WW)
    return patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c * HH * WW)


# --- conv_forward_fast ------------------------------------------------------------------------


def layout(x, w, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    f, _, hh, ww = w.shape
    h_out = (x.shape[2] + 2 * p - hh) // s + 1
    w_out = (x.shape[3] + 2 * p - ww) // s + 1
    return s, p, f, hh, ww, h_out, w_out


@wrong("conv_forward_fast", says="mixes the outputs up", mistake="reshaped_wrong")
def conv_forward_fast_reshaped(x, w, b, conv_param):
    s, p, f, hh, ww, h_out, w_out = layout(x, w, conv_param)
    out = im2col(x, hh, ww, s, p) @ w.reshape(f, -1).T + b
    return out.reshape(len(x), f, h_out, w_out), (x, w, b, conv_param)


@wrong("conv_forward_fast", says="add the bias", mistake="no_bias")
def conv_forward_fast_no_bias(x, w, b, conv_param):
    s, p, f, hh, ww, h_out, w_out = layout(x, w, conv_param)
    out = im2col(x, hh, ww, s, p) @ w.reshape(f, -1).T
    return out.reshape(len(x), h_out, w_out, f).transpose(0, 3, 1, 2), (x, w, b, conv_param)


@wrong("conv_forward_fast", says="flipped the kernel", mistake="flipped")
def conv_forward_fast_flipped(x, w, b, conv_param):
    s, p, f, hh, ww, h_out, w_out = layout(x, w, conv_param)
    out = im2col(x, hh, ww, s, p) @ w[:, :, ::-1, ::-1].reshape(f, -1).T + b
    return out.reshape(len(x), h_out, w_out, f).transpose(0, 3, 1, 2), (x, w, b, conv_param)


@wrong("conv_forward_fast", says="uses a list comprehension")
def conv_forward_fast_loops(x, w, b, conv_param):
    out = np.stack([conv_forward(x[i : i + 1], w, b, conv_param)[0][0] for i in range(len(x))])
    return out, (x, w, b, conv_param)


@wrong("conv_forward_fast", says="should return 2 values")
def conv_forward_fast_out_only(x, w, b, conv_param):
    return conv_forward_fast(x, w, b, conv_param)[0]


@right("conv_forward_fast")
def conv_forward_fast_tensordot(x, w, b, conv_param):
    s, p, f, hh, ww, h_out, w_out = layout(x, w, conv_param)
    cols = im2col(x, hh, ww, s, p).reshape(len(x), h_out, w_out, -1)
    out = np.tensordot(w.reshape(f, -1), cols, axes=([1], [3]))  # (F, N, H_out, W_out)
    return out.transpose(1, 0, 2, 3) + b[None, :, None, None], (x, w, b, conv_param)


# --- convnet_loss --------------------------------------------------------------------------


def convnet_with(params, x, y, *, mean=True, divide=True, gate="z1"):
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]
    conv_param = {"stride": 1, "pad": (w1.shape[2] - 1) // 2}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    n = len(x)
    z1, conv_cache = conv_forward_fast(x, w1, b1, conv_param)
    pooled, pool_cache = max_pool_forward(np.maximum(z1, 0), pool_param)
    flat = pooled.reshape(n, -1)
    scores = flat @ w2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].sum() / (n if mean else 1)
    d_scores = np.exp(log_probs)
    d_scores[np.arange(n), y] -= 1
    if divide and mean:
        d_scores /= n
    d_pooled = (d_scores @ w2.T).reshape(pooled.shape)
    d_a1 = max_pool_backward(d_pooled, pool_cache)
    if gate == "z1":
        d_z1 = d_a1 * (z1 > 0)
    elif gate == "dout":
        d_z1 = d_a1 * (d_a1 > 0)
    else:
        d_z1 = d_a1
    _, d_w1, d_b1 = conv_backward(d_z1, conv_cache)
    grads = {"w1": d_w1, "b1": d_b1, "w2": flat.T @ d_scores, "b2": d_scores.sum(axis=0)}
    return float(loss), grads


@wrong("convnet_loss", says="not its sum", mistake="summed")
def convnet_loss_summed(params, x, y):
    return convnet_with(params, x, y, mean=False)


@wrong("convnet_loss", says="(softmax(S) - Y) / N", mistake="not_divided")
def convnet_loss_not_divided(params, x, y):
    return convnet_with(params, x, y, divide=False)


@wrong("convnet_loss", says="skips ReLU's backward pass", mistake="no_relu_gate")
def convnet_loss_no_relu_gate(params, x, y):
    return convnet_with(params, x, y, gate="none")


@wrong("convnet_loss", says="ReLU's mask is where the conv's output", mistake="relu_gate_on_output")
def convnet_loss_gate_from_gradient(params, x, y):
    return convnet_with(params, x, y, gate="dout")


@wrong("convnet_loss", says="sum its gradient over the rows")
def convnet_loss_b2_rows(params, x, y):
    loss, grads = convnet_with(params, x, y)
    n = len(x)
    grads["b2"] = np.tile(grads["b2"] / n, (n, 1))
    return loss, grads


@wrong("convnet_loss", says="a dict with the keys of params")
def convnet_loss_grads_list(params, x, y):
    loss, grads = convnet_with(params, x, y)
    return loss, [grads["w1"], grads["b1"], grads["w2"], grads["b2"]]


@right("convnet_loss")
def convnet_loss_naive_layers(params, x, y):
    """The naive conv_forward instead of the fast one, and a one-hot Y."""
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]
    conv_param = {"stride": 1, "pad": (w1.shape[2] - 1) // 2}
    z1, conv_cache = conv_forward(x, w1, b1, conv_param)
    a1 = np.maximum(0, z1)
    pooled, pool_cache = max_pool_forward(a1, {"pool_height": 2, "pool_width": 2, "stride": 2})
    scores = pooled.reshape(x.shape[0], -1).dot(w2) + b2
    scores = scores - np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    targets = np.eye(w2.shape[1])[y]
    loss = -np.sum(targets * (scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))))
    loss /= len(x)
    d_scores = (probs - targets) / len(x)
    d_pooled = (d_scores @ w2.T).reshape(pooled.shape)
    d_z1 = max_pool_backward(d_pooled, pool_cache)
    d_z1[z1 <= 0] = 0
    _, d_w1, d_b1 = conv_backward(d_z1, conv_cache)
    return loss, {
        "w1": d_w1,
        "b1": d_b1,
        "w2": pooled.reshape(x.shape[0], -1).T @ d_scores,
        "b2": d_scores.sum(0),
    }


@wrong("convnet_loss", says="scores around 1000")
def convnet_loss_unstable_softmax(params, x, y):
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]
    z1, conv_cache = conv_forward_fast(x, w1, b1, {"stride": 1, "pad": (w1.shape[2] - 1) // 2})
    pooled, pool_cache = max_pool_forward(
        np.maximum(z1, 0), {"pool_height": 2, "pool_width": 2, "stride": 2}
    )
    n = len(x)
    exp_scores = np.exp(pooled.reshape(n, -1) @ w2 + b2)  # no shift: inf for scores near 1000
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(n), y]))
    d_scores = probs.copy()
    d_scores[np.arange(n), y] -= 1
    d_scores /= n
    d_pooled = (d_scores @ w2.T).reshape(pooled.shape)
    d_z1 = max_pool_backward(d_pooled, pool_cache) * (z1 > 0)
    _, d_w1, d_b1 = conv_backward(d_z1, conv_cache)
    grads = {"w1": d_w1, "b1": d_b1, "w2": pooled.reshape(n, -1).T @ d_scores}
    return float(loss), {**grads, "b2": d_scores.sum(axis=0)}


@right("convnet_loss")
def convnet_loss_mask_on_pooled(params, x, y):
    """ReLU and max pooling commute (max(relu(z)) = relu(max(z))): the mask taken on the
    pooled output, before max_pool_backward, routes the same gradients."""
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]
    z1, conv_cache = conv_forward(x, w1, b1, {"stride": 1, "pad": w1.shape[2] // 2})
    pooled, pool_cache = max_pool_forward(
        np.where(z1 > 0, z1, 0.0), {"pool_height": 2, "pool_width": 2, "stride": 2}
    )
    n = len(y)
    flat = pooled.reshape(n, -1)
    log_probs = log_softmax(flat @ w2 + b2, axis=1)
    targets = np.eye(w2.shape[1])[y]
    d_scores = (np.exp(log_probs) - targets) / n
    d_pooled = (d_scores @ w2.T).reshape(pooled.shape) * (pooled > 0)
    _, d_w1, d_b1 = conv_backward(max_pool_backward(d_pooled, pool_cache), conv_cache)
    loss = -np.sum(targets * log_probs) / n
    return loss, {"w1": d_w1, "b1": d_b1, "w2": flat.T @ d_scores, "b2": d_scores.sum(axis=0)}


@right("im2col")
def im2col_as_strided(x, HH, WW, stride, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, C, Hp, Wp = xp.shape
    H_out, W_out = (Hp - HH) // stride + 1, (Wp - WW) // stride + 1
    sN, sC, sH, sW = xp.strides
    windows = np.lib.stride_tricks.as_strided(
        xp, (N, H_out, W_out, C, HH, WW), (sN, sH * stride, sW * stride, sC, sH, sW)
    )
    return windows.reshape(N * H_out * W_out, C * HH * WW)


@right("im2col")
def im2col_cs231n_indices(x, HH, WW, stride, pad):
    N, C, H, W = x.shape
    H_out, W_out = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    i = np.tile(np.repeat(np.arange(HH), WW), C)[:, None] + stride * np.repeat(
        np.arange(H_out), W_out
    )
    j = np.tile(np.arange(WW), HH * C)[:, None] + stride * np.tile(np.arange(W_out), H_out)
    k = np.repeat(np.arange(C), HH * WW)[:, None]
    cols = xp[:, k, i, j]  # (N, C * HH * WW, H_out * W_out)
    return cols.transpose(0, 2, 1).reshape(N * H_out * W_out, -1)


@wrong("im2col", says="cols is wrong")
def im2col_stride_after_rows(x, HH, WW, stride, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))
    N, C, H_out, W_out = windows.shape[:4]
    rows = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * H_out * W_out, C * HH * WW)
    return rows[::stride]  # every stride-th row is not every stride-th window


@right("conv_forward_fast")
def conv_forward_fast_filters_first(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = (H + 2 * p - HH) // s + 1, (W + 2 * p - WW) // s + 1
    out = w.reshape(F, -1).dot(im2col(x, HH, WW, s, p).T) + b.reshape(-1, 1)  # (F, N*H*W)
    return out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3), (x, w, b, conv_param)


@wrong("conv_forward_fast", says="it should be conv_forward's out")
def conv_forward_fast_rows_read_as_columns(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = (H + 2 * p - HH) // s + 1, (W + 2 * p - WW) // s + 1
    out = im2col(x, HH, WW, s, p) @ w.reshape(F, -1).T + b
    return out.reshape(N, W_out, H_out, F).transpose(0, 3, 2, 1), (x, w, b, conv_param)
