"""A gradient check for your own backward passes: analytic gradients against numerical ones.

``gradient_check(loss, params, grads)`` nudges every entry of every parameter by a fixed
step, measures how the loss changes (centred differences) and prints, for each parameter,
how far your analytic gradient is from that numerical slope. It returns those errors, not
the numerical gradients: it checks a gradient, it does not compute one (notebook 04 has you
write ``numerical_gradient`` and ``relative_error`` yourself).
"""

import numpy as np

__all__ = ["gradient_check", "STEP", "FLOOR", "THRESHOLD"]

STEP = 1e-5  # the nudge h: float64's best for centred differences (notebook 04, question 7)
# Denominators are floored here: entries where |analytic| + |numerical| is smaller are
# compared in absolute terms, so the numerical gradient's rounding (about 1e-11 for a loss
# of order 1) cannot make a correct gradient entry close to 0 look wrong.
FLOOR = 1e-4
# A correct gradient of a smooth loss stays below this in float64: the worst over 1,000
# random softmax problems was 7e-7 (tests/runtime/test_gradient_thresholds.py), every
# mistake 1e-2+.
THRESHOLD = 1e-5


def gradient_check(loss, params, grads, threshold=THRESHOLD):
    """Print and return the relative error of each analytic gradient against the loss's slope.

    loss: function of no argument returning the loss (a number). It must read the arrays of
        ``params`` themselves: each of their entries is nudged by +STEP and -STEP in place,
        then restored.
    params: {name: float64 array of any shape}, the parameters the loss reads.
    grads: {name: array shaped like params[name]}, your analytic gradients.
    threshold: errors below it are printed "ok", others "WRONG".

    The error of a parameter is its worst entry's |a - n| / max(FLOOR, |a| + |n|), where a is
    the analytic and n the numerical derivative (step STEP), rounded to two significant
    digits as printed. Returns {name: error}.
    """
    if not callable(loss) or not isinstance(params, dict) or not isinstance(grads, dict):
        raise TypeError(
            "gradient_check(loss, params, grads): loss is a function of no argument; params "
            "and grads are dicts {name: array}, e.g. {'W': W} and {'W': dW}."
        )
    errors = {}
    for name, param in params.items():
        grad = checked_gradient(name, param, grads)
        worst, where = 0.0, None
        for index in np.ndindex(param.shape):
            saved = param[index]
            try:
                param[index] = saved + STEP
                above = float(loss())
                param[index] = saved - STEP
                below = float(loss())
            finally:
                param[index] = saved
            slope = (above - below) / (2 * STEP)
            error = abs(grad[index] - slope) / max(FLOOR, abs(grad[index]) + abs(slope))
            if not error < worst:  # a NaN counts as the worst
                worst, where = error, index
        errors[name] = float(f"{worst:.1e}")
        verdict = "ok" if errors[name] < threshold else f"WRONG (worst entry at {where})"
        print(f"{name}: relative error {errors[name]:.1e}  {verdict}")
    return errors


def checked_gradient(name, param, grads):
    """``grads[name]`` as a float64 array, after checking it matches the float64 ``param``."""
    if not isinstance(param, np.ndarray) or param.dtype != np.float64:
        raise TypeError(
            f"params[{name!r}] must be a float64 NumPy array (the loss reads it while it is "
            "nudged in place; float32's rounding, 1e-7, would swamp the check)."
        )
    if name not in grads:
        raise KeyError(f"grads has no gradient for the parameter {name!r}.")
    grad = np.asarray(grads[name], dtype=np.float64)
    if grad.shape != param.shape:
        raise ValueError(
            f"grads[{name!r}] has shape {grad.shape}; a gradient has the shape of its "
            f"parameter, {param.shape}."
        )
    return grad
