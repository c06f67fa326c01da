"""Numerical gradients, for checking analytic backward passes (CS231n's gradient check).

Notebook 04 has students write these two functions themselves; the feedback checks use
these to verify every backward pass a student writes.
"""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar function ``f`` at ``x``.

    f: callable taking no argument and reading ``x`` (changed in place, then restored).
    x: float array of any shape. Returns an array shaped like ``x``.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        above = f()
        x[index] = saved - h
        below = f()
        x[index] = saved
        grad[index] = (above - below) / (2 * h)
    return grad


def relative_error(a, b, eps=1e-8):
    """The largest entry of |a - b| / max(eps, |a| + |b|): below 1e-6 in float64 is a pass."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(eps, np.abs(a) + np.abs(b))))
