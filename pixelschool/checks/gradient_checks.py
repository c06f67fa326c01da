"""Gradient checks of the student's own functions, and the other helpers that the checks of
notebook 05's parts 3 and 4 (mlp_optimisers, mlp_regularisation, mlp_modular, mlp_deep,
mlp_network_training) and notebook 06's share.

The gradient checks: centred differences of the student's own forward functions against
their backward passes, with the step, floor and tolerance defined here, once. Beside them,
what the checks share where nothing can be recorded: how they call the student's function
(generators passed as they are, recorded cases), the structure of layers and gradients,
random networks, dropout's share of kept units and rescaling. No exercise's math lives here:
expected results are recorded from the solution notebook.
"""

import contextlib
import functools
import inspect
import io

import numpy as np

from pixelschool.checks import mistakes
from pixelschool.checks.compare import close
from pixelschool.checks.framework import (
    CHECKS,
    call,
    call_watching,
    expect,
    expect_array,
    expect_tuple,
)
from pixelschool.checks.mistakes import named
from pixelschool.checks.mlp_common import scalar
from pixelschool.gradcheck import FLOOR, STEP, THRESHOLD

# The gradient checks of notebook 05 (the layers' upstream gradients, the dropout network):
# centred differences with the step GRADIENT_STEP; the relative error of an entry is
# |a - n| / max(GRADIENT_FLOOR, |a| + |n|), a the analytic and n the numerical derivative
# (pixelschool.gradcheck prints the same numbers), and a gradient's error is its worst entry's.
# Entries below the floor are compared in absolute terms: round-off (about 1e-10 for the
# checks' losses) then shows as up to about 1e-6, so a correct gradient stays below
# GRADIENT_TOLERANCE; every named mistake gives 1e-2 and more
# (tests/runtime/test_gradient_thresholds_mlp.py).
# One home for the three numbers: the gradient check students run themselves.
GRADIENT_STEP, GRADIENT_FLOOR, GRADIENT_TOLERANCE = STEP, FLOOR, THRESHOLD
# The checks' inputs to ReLU keep this far from its kink at 0, farther than a step can move them.
KINK_MARGIN = 1e-3

# --- calling the student's function -----------------------------------------------------


def call_passing(fn, *args, passed=(), hint="", watch=True):
    """``fn(*args)`` on copies, but the arguments at the positions ``passed`` (random
    generators, meant to advance) reach it as they are; a generator's items come back as a list.

    A changed input raises ``AssertionError``; with ``watch=False`` it is left to the check's
    recorded calls to report (together with wrong values, if any).
    """

    @functools.wraps(fn)
    def listing(*values):
        __tracebackhide__ = True
        result = fn(*values)
        return list(result) if inspect.isgenerator(result) else result

    result, changed = call_watching(listing, args, hint=hint, uncopied=passed)
    if changed and watch:
        raise named(changed, mistakes.CHANGED_INPUT)
    return result


def random_layers(rng, sizes, scale=0.8):
    """Layers [(w (sizes[l], sizes[l + 1]), b (1, sizes[l + 1])), ...] of random values."""
    return [
        (rng.normal(0, scale, (fan_in, fan_out)), rng.normal(0, 0.3, (1, fan_out)))
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
    ]


def check_grads_structure(grads, layers, name):
    """Gradients must be a list of (dw, db) pairs shaped like the (w, b) pairs of ``layers``."""
    expect(
        isinstance(grads, (list, tuple)) and len(grads) == len(layers),
        f"{name}'s gradients should be a list of one (dw, db) pair per layer "
        f"({len(layers)} here), first layer first.",
    )
    for number, (pair, (w, b)) in enumerate(zip(grads, layers), start=1):
        expect(
            isinstance(pair, (list, tuple)) and len(pair) == 2,
            f"{name}: each gradient should be a pair (dw, db).",
        )
        dw, db = pair
        expect(
            db is not None,
            f"{name}: return zeros for the biases' gradients (np.zeros_like(b)), not None.",
            mistake="none_for_biases",
        )
        expect_array(dw, f"dw of layer {number}")
        expect_array(db, f"db of layer {number}")
        expect(
            not (db.ndim == 2 and db.shape[1] == b.shape[1] and db.shape[0] > 1),
            f"{name}: db of layer {number} has shape {db.shape}: the bias gradient was not "
            "summed over the batch. A bias is added to every sample, so its gradient sums the "
            "rows of d_z: np.sum(d_z, axis=0, keepdims=True).",
            mistake="db_not_summed",
        )
        expect(
            dw.shape == w.shape,
            f"{name}: dw of layer {number} has shape {dw.shape}, "
            f"expected {w.shape}, the shape of w. dw = a_in.T @ d_z.",
        )
        expect(
            db.shape == b.shape,
            f"{name}: db of layer {number} has shape {db.shape}, expected {b.shape}.",
        )


def flat(pairs):
    """[w1, b1, w2, b2, ...] from [(w1, b1), (w2, b2), ...]."""
    return [array for pair in pairs for array in pair]


def relu_problem(rng, depth):
    """Random layers of ``depth`` layers, data (N, d_in) and labels (N,); no hidden unit's z
    within KINK_MARGIN of ReLU's kink at 0, where centred differences would straddle it."""
    while True:
        sizes = [int(rng.integers(3, 6))] + [int(rng.integers(4, 7)) for _ in range(depth - 1)]
        layers = random_layers(rng, [*sizes, int(rng.integers(2, 5))], scale=0.7)
        data = a = rng.normal(size=(int(rng.integers(6, 10)), sizes[0]))
        kinks = False
        for w, b in layers[:-1]:
            kinks = kinks or np.abs(a @ w + b).min() < KINK_MARGIN
            a = np.maximum(a @ w + b, 0)
        if not kinks:
            return layers, data, rng.integers(0, layers[-1][0].shape[1], size=len(data))


# --- properties ---------------------------------------------------------------------------


def check_dropout_statistics(out, mask, a, keep_prob):
    """The share of units kept, their rescaling and the mask of a training run."""
    kept = np.mean(out != 0)
    expect(
        abs(kept - (1 - keep_prob)) > 0.03 or abs(kept - keep_prob) < 0.03,
        f"with keep_prob={keep_prob} you kept {kept:.0%} of the units: keep_prob is the "
        "probability to KEEP a unit (rng.random(a.shape) < keep_prob).",
        mistake="keep_prob_as_drop",
    )
    expect(
        abs(kept - keep_prob) < 0.03,
        f"with keep_prob={keep_prob} about {keep_prob:.0%} of the units should be kept; "
        f"you kept {kept:.0%}. Draw the mask with rng.random(a.shape) < keep_prob.",
    )
    values = out[out != 0] / a[out != 0]
    expect(
        not np.allclose(values, 1),
        "dropout not rescaled: inverted dropout divides the kept activations by keep_prob, so "
        "that their expected value stays the same (and nothing changes at test time).",
        mistake="not_rescaled",
    )
    expect(
        not np.allclose(values, keep_prob),
        "divide the kept activations by keep_prob, do not multiply by it.",
    )
    expect(np.allclose(values, 1 / keep_prob), "the kept activations should be a / keep_prob.")
    expect(
        close(mask, (out != 0) / keep_prob),
        "return the mask that multiplies a: 0 for a dropped unit, 1 / keep_prob for a kept "
        "one (the backward pass multiplies the gradient by it).",
        mistake="wrong_mask",
    )


def centred_differences(loss, arrays):
    """Centred differences of ``loss()`` (no argument; it reads ``arrays``) with respect to
    each of ``arrays``, whose entries it perturbs in place and restores: a list of arrays."""
    grads = [np.zeros_like(array) for array in arrays]
    for array, grad in zip(arrays, grads):
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + GRADIENT_STEP
            above = loss()
            array[index] = saved - GRADIENT_STEP
            grad[index] = (above - loss()) / (2 * GRADIENT_STEP)
            array[index] = saved
    return grads


def relative_errors(analytic, numeric):
    """For each pair of arrays of the two lists, the worst entry of |a - n| / max(GRADIENT_FLOOR,
    |a| + |n|): notebook 04's relative error with the floor GRADIENT_FLOOR."""
    return [
        float(np.max(np.abs(a - n) / np.maximum(GRADIENT_FLOOR, np.abs(a) + np.abs(n))))
        for a, n in zip(analytic, numeric)
    ]


def expect_number_and_grads(results, cases, name, what):
    """Each result is ``(one number, [(dw, db) per layer of case.args[0]])``; ``what`` names
    the number in the message ("The loss", "The penalty")."""
    for result, case in zip(results, cases):
        expect_tuple(result, name, 2)
        scalar(result[0], f"{what} ({name}'s first value)")
        check_grads_structure(result[1], case.args[0], name)


# --- the gradient check of a layer's own forward and backward functions ------------------


def upstream_gradient_errors(forward, backward, inputs, dout):
    """The relative error of each gradient ``backward(dout, cache)`` returns (one per input, a
    single array for one input), ``cache`` from ``forward(*inputs)``, against centred
    differences of ``sum(forward(*inputs)[0] * dout)``: a list, one per input. None when the
    gradients are not arrays of the inputs' shapes (the recorded cases tell what is wrong)."""
    work = [np.array(value, dtype=np.float64) for value in inputs]
    grads = backward(dout, forward(*work)[1])
    grads = [grads] if len(work) == 1 else grads
    if not (
        isinstance(grads, (tuple, list))
        and len(grads) == len(work)
        and all(isinstance(g, np.ndarray) and g.shape == v.shape for g, v in zip(grads, work))
    ):
        return None
    numeric = centred_differences(lambda: np.sum(forward(*work)[0] * dout), work)
    return relative_errors(grads, numeric)


def passes_own_check(name, fn):
    """True when ``fn`` passes the (visible) check of the exercise ``name``, run quietly."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            CHECKS[name].run(fn)
    except Exception:  # noqa: BLE001  (failing in any way means: not its own check's pass)
        return False
    return True


def check_own_gradients(backward, forward_name, names, problem, cases, setting=None):
    """The gradient check of a student's backward function with their own forward one (found
    by name beside it), once the recorded cases are right and the forward passes its check.

    ``problem(rng)`` gives the inputs differentiated and ``dout``; ``setting()``, when given,
    the forward's last argument, not differentiated (``conv_param``, ``bn_param``: a fresh one
    for every call). Only with the visible seed: the hidden seeds' results are judged by the
    grader, which names the mistakes."""
    forward = getattr(backward, "__globals__", {}).get(forward_name)
    if not cases.visible or not callable(forward) or not passes_own_check(forward_name, forward):
        return
    inputs, dout = problem(cases.rng)
    tail = (lambda: ()) if setting is None else (lambda: (setting(),))
    try:
        errors = upstream_gradient_errors(
            lambda *args: call(forward, *args, *tail(), uncopied=(len(args),)),
            lambda *args: call(backward, *args),
            inputs,
            dout,
        )
    except AssertionError:
        cases.finish()  # a wrong recorded result is told first: it names the mistake
        raise
    if errors is None or max(errors) < GRADIENT_TOLERANCE:
        return
    cases.finish()
    found = ", ".join(f"d{name} {error:.1e}" for name, error in zip(names, errors))
    arguments = ", ".join([*names, *map(repr, tail())])
    raise AssertionError(
        f"{backward.__name__}'s gradients are not those of your {forward_name}: a gradient check "
        f"(centred differences with step {GRADIENT_STEP:g} of sum({forward_name}({arguments})[0] "
        f"* dout), relative error with floor {GRADIENT_FLOOR:g}) gives {found}; each must be "
        f"below {GRADIENT_TOLERANCE:g}. Does {backward.__name__} read everything from dout and "
        "the cache (no global variable, nothing special-cased)?"
    )


def away_from_kink(x):
    """``x`` with its entries closer than KINK_MARGIN to 0 moved out to ±KINK_MARGIN."""
    return np.where(np.abs(x) < KINK_MARGIN, np.where(x < 0, -KINK_MARGIN, KINK_MARGIN), x)
