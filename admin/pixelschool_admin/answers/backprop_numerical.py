"""Wrong answers to notebook 04's ``numerical_gradient`` and ``relative_error`` (the
references are the solution notebook's own functions).

A ``mistake=`` key names the message of ``pixelschool/checks/backprop_numerical.py`` that a
student with that mistake gets: ``make build`` records the answer's results on the check's
inputs.
"""

import numpy as np

from pixelschool.checks.backprop_numerical import takes_recipe
from pixelschool_admin.answers.registry import REFERENCES, right, solution_functions, wrong

solution = solution_functions("04_backprop")

# --- numerical_gradient ---------------------------------------------------------------

# The check's recorded inputs hold a recipe of f (plain data) where numerical_gradient takes
# f: the recorder calls the reference and the wrong answers with those inputs, so they take
# the recipe too (takes_recipe builds f over the x they receive; a real f passes through).
REFERENCES["numerical_gradient"] = takes_recipe(solution.numerical_gradient)


def wrong_gradient(says, mistake=None):
    """``@wrong("numerical_gradient", ...)`` for an answer that must also take a recipe of f."""

    def register(fn):
        wrong("numerical_gradient", says, mistake)(takes_recipe(fn))
        return fn

    return register


@wrong_gradient(says="one-sided difference", mistake="one_sided")
def numerical_gradient_forward_difference(f, x, h=1e-5):
    grad = np.zeros_like(x)
    f_x = f()
    for index in np.ndindex(x.shape):
        old_value = x[index]
        x[index] = old_value + h
        grad[index] = (f() - f_x) / h
        x[index] = old_value
    return grad


@wrong_gradient(says="one-sided difference", mistake="one_sided")
def numerical_gradient_backward_difference(f, x, h=1e-5):
    grad = np.zeros_like(x)
    f_x = f()
    for index in np.ndindex(x.shape):
        old_value = x[index]
        x[index] = old_value - h
        grad[index] = (f_x - f()) / h
        x[index] = old_value
    return grad


@wrong_gradient(says="perturbed all entries of x at once", mistake="all_at_once")
def numerical_gradient_all_at_once(f, x, h=1e-5):
    x += h
    f_plus = f()
    x -= 2 * h
    f_minus = f()
    x += h
    return np.full(x.shape, (f_plus - f_minus) / (2 * h))


@wrong_gradient(says="perturbed a whole row", mistake="whole_rows")
def numerical_gradient_rows(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(len(x)):
        old_value = x[i].copy()
        x[i] = old_value + h
        f_plus = f()
        x[i] = old_value - h
        f_minus = f()
        x[i] = old_value
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


@wrong_gradient(says="put the old value back")
def numerical_gradient_not_restored(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        f_plus = f()
        x[index] -= 2 * h
        f_minus = f()
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


@wrong_gradient(says="do not work on x.copy()")
def numerical_gradient_on_a_copy(f, x, h=1e-5):
    x = x.copy()
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old_value = x[index]
        x[index] = old_value + h
        f_plus = f()
        x[index] = old_value - h
        f_minus = f()
        x[index] = old_value
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


@wrong_gradient(says="ignored the argument h", mistake="ignores_h")
def numerical_gradient_fixed_step(f, x, h=1e-5):
    return solution.numerical_gradient(f, x, 1e-5)


@wrong_gradient(says="divides by 2h, not h")
def numerical_gradient_divides_by_h(f, x, h=1e-5):
    return 2 * solution.numerical_gradient(f, x, h)


@wrong_gradient(says="return an array shaped like x")
def numerical_gradient_flat(f, x, h=1e-5):
    grad = np.zeros(x.size)
    for i, index in enumerate(np.ndindex(x.shape)):
        old_value = x[index]
        x[index] = old_value + h
        f_plus = f()
        x[index] = old_value - h
        f_minus = f()
        x[index] = old_value
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


@wrong_gradient(says="give it a default")
def numerical_gradient_no_default(f, x, h):
    return solution.numerical_gradient(f, x, h)


@right("numerical_gradient")
def numerical_gradient_nudged_and_undone(f, x, h=1e-5):
    """Restores x by undoing the nudges (x[index] += h, -= 2h, += h): right up to rounding."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        f_plus = f()
        x[index] -= 2 * h
        f_minus = f()
        x[index] += h
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


@right("numerical_gradient")
def numerical_gradient_nditer(f, x, h=1e-5):
    """CS231n's eval_numerical_gradient, with f reading x."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f()
        x[ix] = oldval - h
        fxmh = f()
        x[ix] = oldval
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


# --- relative_error -------------------------------------------------------------------


@wrong("relative_error", says="Guard the denominator")
def relative_error_no_guard(a, b):
    return np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))


@wrong("relative_error", says="mean of the entry-wise errors", mistake="mean")
def relative_error_mean(a, b):
    return np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


@wrong("relative_error", says="numerator needs an absolute value", mistake="signed_numerator")
def relative_error_signed(a, b):
    return np.max((a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


@wrong("relative_error", says="denominator needs absolute values", mistake="signed_denominator")
def relative_error_signed_denominator(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, a + b))


@wrong("relative_error", says="missing abs", mistake="no_abs")
def relative_error_no_abs(a, b):
    return np.max((a - b) / np.maximum(1e-8, a + b))


@wrong("relative_error", says="divided by |a| only", mistake="by_a")
def relative_error_by_a(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a)))


@wrong("relative_error", says="divided by |b| only", mistake="by_b")
def relative_error_by_b(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(b)))


@wrong("relative_error", says="divide entry by entry", mistake="ratio_of_maxima")
def relative_error_of_maxima(a, b):
    return np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b)))


@wrong("relative_error", says="should return one number")
def relative_error_no_max(a, b):
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


@wrong("relative_error", says="`for` loop")
def relative_error_loop(a, b):
    worst = 0.0
    for x, y in zip(a.ravel(), b.ravel()):
        worst = max(worst, abs(x - y) / max(1e-8, abs(x) + abs(y)))
    return worst


@right("relative_error")
def relative_error_python_float(a, b):
    return float((np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))).max())
