"""What the checks of notebook 05's two-layer network (mlp_two_layer, mlp_training) share.

No math of the exercises lives here: the expected results are recorded from the solution
notebook. These helpers call the student's function on every recorded case and judge a
result in parts (the loss, then the weights), so that each part gets its own diagnosis.
"""

import numpy as np

from pixelschool.checks.compare import close, placeholder, verdict
from pixelschool.checks.recordings import Case

NAMES = ["w1", "b1", "w2", "b2"]
SHAPES_HINT = "Shapes: data (N, d_in), w1 (d_in, d_h), b1 (1, d_h), w2 (d_h, d_out), b2 (1, d_out)."


def judge_part(results, cases, pick, name, messages, **how):
    """:func:`pixelschool.checks.compare.verdict` on one part of every result (the loss, the
    weights ...).

    ``pick(value)`` returns the part; it is applied alike to the results, to the recorded
    expected results and to the recorded mistakes' results (a mistake whose part is right is
    left out of the part's verdict). ``how``: verdict's ``same``, ``relations`` and
    ``otherwise``.
    """
    picked = []
    for case in cases:
        expected = pick(case.expected)
        mistakes = [(m, pick(out)) for m, out in case.mistakes]
        mistakes = [(m, out) for m, out in mistakes if not close(out, expected)]
        picked.append(Case(case.args, expected, mistakes))
    verdict([pick(result) for result in results], picked, name, messages, **how)


def no_placeholder(results, cases, name):
    """Raise when a wrong result is what an unfinished template returns (None, its input)."""
    for result, case in zip(results, cases):
        if not close(result, case.expected):
            text = placeholder(result, case)
            if text:
                raise AssertionError(f"{name}: {text}")


def all_finite(value):
    """True when no number in ``value`` (an array, a number, nested tuples) is NaN or inf."""
    if isinstance(value, (tuple, list)):
        return all(all_finite(item) for item in value)
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    except (TypeError, ValueError):
        return True


def scalar(value, what):
    """``value`` as a float, or an AssertionError saying that one number was expected."""
    try:
        if np.ndim(value) == 0 and not isinstance(value, (str, bytes)):
            return float(value)
    except (TypeError, ValueError):
        pass
    shape = f" of shape {np.shape(value)}" if np.ndim(value) else ""
    raise AssertionError(f"{what} should be one number, not {type(value).__name__}{shape}.")


def bias_shape_mistake(name, shape, n, width):
    """What is wrong with a new bias of ``shape`` (N rows: its gradient was not summed)."""
    if shape in [(n, width), (n, 1)]:
        return (
            f"{name} came back with shape {shape}: its gradient was not summed over the batch. "
            "A bias is added to every sample, so its gradient sums the N rows of d_z: "
            "np.sum(d_z, axis=0, keepdims=True), shape (1, width)."
        )
    return None


def weights_shape_problem(w, fan_in, fan_out, what):
    """What is wrong with the shape of initial weights ``w``, or with their being all equal
    (any initialisation), or None."""
    if w.shape == (fan_out, fan_in) and fan_in != fan_out:
        return (
            f"{what} has shape {w.shape}: rows and columns are swapped, a layer from "
            f"{fan_in} to {fan_out} units has weights of shape ({fan_in}, {fan_out})."
        )
    if w.shape != (fan_in, fan_out):
        return f"{what} has shape {w.shape}, expected ({fan_in}, {fan_out})."
    if np.all(w == w.flat[0]):
        return (
            f"all values of {what} are equal: every hidden unit would compute the same "
            "thing, get the same gradient and stay identical. Draw them at random."
        )
    return None


def xavier_problem(w, fan_in, fan_out, what):
    """What is wrong with initial weights ``w`` (fan_in, fan_out), or None."""
    limit = np.sqrt(6 / (fan_in + fan_out))
    if problem := weights_shape_problem(w, fan_in, fan_out, what):
        return problem
    if w.min() >= 0:
        return (
            f"{what} is not centred on 0 (all values are positive): rng.random and "
            "np.random.rand draw from [0, 1). Use rng.uniform(-limit, limit, size=...)."
        )
    if np.abs(w).max() > limit * (1 + 1e-9):
        return (
            f"some values of {what} lie outside Xavier's range: for a layer from {fan_in} to "
            f"{fan_out} units, draw uniformly from [-limit, limit] with limit = "
            "sqrt(6 / (n_in + n_out)), rng.uniform(-limit, limit, size=...)."
        )
    if w.size >= 40 and abs(w.mean()) > 0.35 * limit:
        return f"{what} is not centred on 0: draw from [-limit, limit]."
    if w.std() < 0.5 * limit / np.sqrt(3):
        return (
            f"the values of {what} are much smaller than Xavier's: draw uniformly from "
            "[-limit, limit] with limit = sqrt(6 / (n_in + n_out))."
        )
    return None
