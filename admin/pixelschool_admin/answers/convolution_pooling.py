"""Wrong answers to notebook 06, part 2: max pooling, forward and backward.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/convolution_pooling.py. The backward check's gradient check finds the
student's max_pool_forward beside max_pool_backward: here, the solution's."""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("06_convolution")
max_pool_forward = solution.max_pool_forward


def pool_with(x, pool_param, *, reduce="max", stride=None, size_offset=1, swap=False):
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    if swap:
        ph, pw = pw, ph
    s = pool_param["stride"] if stride is None else stride
    n, c, h, w = x.shape
    h_out, w_out = (h - ph) // s + size_offset, (w - pw) // s + size_offset
    out = np.zeros((n, c, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * s : i * s + ph, j * s : j * s + pw]
            if reduce == "mean":
                out[:, :, i, j] = window.mean(axis=(2, 3))
            elif reduce == "all":
                out[:, :, i, j] = window.max(axis=(1, 2, 3))[:, None]
            else:
                out[:, :, i, j] = window.max(axis=(2, 3))
    return out, (x, pool_param)


@wrong("max_pool_forward", says="that is average pooling", mistake="average")
def max_pool_forward_average(x, pool_param):
    return pool_with(x, pool_param, reduce="mean")


@wrong("max_pool_forward", says="stride is ignored", mistake="stride_ignored")
def max_pool_forward_stride_ignored(x, pool_param):
    return pool_with(x, pool_param, stride=1)


@wrong("max_pool_forward", says="pool each channel on its own", mistake="over_channels")
def max_pool_forward_over_channels(x, pool_param):
    return pool_with(x, pool_param, reduce="all")


@wrong("max_pool_forward", says="one row and one column short", mistake="off_by_one")
def max_pool_forward_off_by_one(x, pool_param):
    return pool_with(x, pool_param, size_offset=0)


@wrong("max_pool_forward", says="you swapped them", mistake="height_width_swapped")
def max_pool_forward_swapped(x, pool_param):
    return pool_with(x, pool_param, swap=True)


@wrong("max_pool_forward", says="the tuple (x, pool_param)")
def max_pool_forward_cache_output(x, pool_param):
    out, _ = pool_with(x, pool_param)
    return out, out


@right("max_pool_forward")
def max_pool_forward_four_loops(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    out = np.zeros((n, c, 1 + (h - ph) // s, 1 + (w - pw) // s))
    for image in range(n):
        for channel in range(c):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[image, channel, i, j] = np.max(
                        x[image, channel, i * s : i * s + ph, j * s : j * s + pw]
                    )
    return out, (x, pool_param)


# --- max_pool_backward ---------------------------------------------------------------------


def unpool_with(dout, cache, *, route="first", stride=None, add=True, times_dout=True):
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    s = pool_param["stride"] if stride is None else stride
    n, c, h_out, w_out = dout.shape
    dx = np.zeros_like(x)
    for image in range(n):
        for channel in range(c):
            for i in range(h_out):
                for j in range(w_out):
                    rows, cols = slice(i * s, i * s + ph), slice(j * s, j * s + pw)
                    window = x[image, channel, rows, cols]
                    grad = dout[image, channel, i, j] if times_dout else 1.0
                    if route == "first":
                        mask = np.zeros_like(window)
                        mask[np.unravel_index(np.argmax(window), window.shape)] = 1
                    elif route == "ties":
                        mask = (window == window.max()).astype(float)
                    elif route == "spread":
                        mask = np.full_like(window, 1 / window.size)
                    else:
                        mask = np.ones_like(window)
                    if add:
                        dx[image, channel, rows, cols] += mask * grad
                    else:
                        region = dx[image, channel, rows, cols]
                        region[mask > 0] = (mask * grad)[mask > 0]
    return dx


@wrong("max_pool_backward", says="sent dout to every tied position")
def max_pool_backward_every_tie(dout, cache):
    return unpool_with(dout, cache, route="ties")


@wrong("max_pool_backward", says="spread dout evenly", mistake="spread")
def max_pool_backward_spread(dout, cache):
    return unpool_with(dout, cache, route="spread")


@wrong("max_pool_backward", says="add their gradients", mistake="overwritten")
def max_pool_backward_overwritten(dout, cache):
    return unpool_with(dout, cache, add=False)


@wrong("max_pool_backward", says="stride is ignored", mistake="stride_ignored")
def max_pool_backward_stride_ignored(dout, cache):
    return unpool_with(dout, cache, stride=1)


@wrong("max_pool_backward", says="not 1 (chain rule)", mistake="no_dout")
def max_pool_backward_no_dout(dout, cache):
    return unpool_with(dout, cache, times_dout=False)


@wrong("max_pool_backward", says="only the window's maximum gets dout", mistake="everywhere")
def max_pool_backward_everywhere(dout, cache):
    return unpool_with(dout, cache, route="all")


@right("max_pool_backward")
def max_pool_backward_last_tie(dout, cache):
    """Ties to the LAST maximum of the window: any single one of them is right."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    n, c, h_out, w_out = dout.shape
    for image in range(n):
        for channel in range(c):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[image, channel, i * s : i * s + ph, j * s : j * s + pw]
                    last = window.size - 1 - np.argmax(window.ravel()[::-1])
                    k, m = divmod(last, pw)
                    dx[image, channel, i * s + k, j * s + m] += dout[image, channel, i, j]
    return dx


@right("max_pool_backward")
def max_pool_backward_first_mask(dout, cache):
    """CS231n-style: a mask of the maxima, then only the first of them kept."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros(x.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * s : i * s + ph, j * s : j * s + pw]
            flat = window.reshape(window.shape[0], window.shape[1], -1)
            mask = np.zeros_like(flat)
            np.put_along_axis(mask, flat.argmax(axis=2)[..., None], 1.0, axis=2)
            dx[:, :, i * s : i * s + ph, j * s : j * s + pw] += (
                mask.reshape(window.shape) * dout[:, :, i, j][:, :, None, None]
            )
    return dx


@right("max_pool_forward")
def max_pool_forward_reshape_trick(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    if ph == pw == s and h % ph == 0 and w % pw == 0:  # tiling windows: one reshape
        out = x.reshape(n, c, h // ph, ph, w // pw, pw).max(axis=3).max(axis=4)
    else:
        windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))
        out = windows[:, :, ::s, ::s].max(axis=(-2, -1))
    return out, (x, pool_param)


@wrong("max_pool_forward", says="out is wrong")
def max_pool_forward_reshape_wrong_axes(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    if ph == pw == s and h % ph == 0 and w % pw == 0:  # (.., H/PH, W/PW, PH, PW): not windows
        out = x.reshape(n, c, h // ph, w // pw, ph, pw).max(axis=(4, 5))
    else:
        windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))
        out = windows[:, :, ::s, ::s].max(axis=(-2, -1))
    return out, (x, pool_param)


@right("max_pool_backward")
def max_pool_backward_put_along_axis(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h_out, w_out = dout.shape
    dx = np.zeros(x.shape)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * s : i * s + ph, j * s : j * s + pw].reshape(n, c, ph * pw)
            routed = np.zeros((n, c, ph * pw))
            first = window.argmax(axis=2)[:, :, None]
            np.put_along_axis(routed, first, dout[:, :, i, j][:, :, None], axis=2)
            dx[:, :, i * s : i * s + ph, j * s : j * s + pw] += routed.reshape(n, c, ph, pw)
    return dx


@right("max_pool_backward")
def max_pool_backward_last_of_ties(dout, cache):
    """The text accepts any one of the tied positions: this one takes the last."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h_out, w_out = dout.shape
    dx = np.zeros(x.shape)
    images, channels = np.indices((n, c))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * s : i * s + ph, j * s : j * s + pw].reshape(n, c, -1)
            last = ph * pw - 1 - np.argmax(window[:, :, ::-1], axis=2)
            rows, cols = np.unravel_index(last, (ph, pw))
            np.add.at(dx, (images, channels, i * s + rows, j * s + cols), dout[:, :, i, j])
    return dx


@wrong("max_pool_backward", says="do not overwrite them")
def max_pool_backward_fancy_assignment(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h_out, w_out = dout.shape
    dx = np.zeros(x.shape)
    images, channels = np.indices((n, c))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * s : i * s + ph, j * s : j * s + pw].reshape(n, c, -1)
            rows, cols = np.unravel_index(np.argmax(window, axis=2), (ph, pw))
            dx[images, channels, i * s + rows, j * s + cols] = dout[:, :, i, j]  # not +=
    return dx
