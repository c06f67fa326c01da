"""Another machine's round-off, simulated: results a few ULPs off, sums in another order.

Another CPU, libm or BLAS changes float results in their last bits: on an AVX-512 machine
NumPy's own ``exp`` is one ULP off glibc's on about 5 % of inputs, and BLAS kernels
accumulate a matrix product in different orders. :func:`nudged` moves every float a function
returns by 1 to :data:`ULPS` ULPs. :func:`on_another_machine` runs a function with every
matrix product and sum of its arrays accumulated in reverse, one term after another (NumPy
sums pairwise, BLAS with fused multiply-adds), and exp, log and tanh one ULP off, so that
the round-off travels through the computation as it does elsewhere (a bias that sums
cancelling terms holds other rounding noise). Both keep what the checks read of the
function: its name, signature, source (the rules on loops) and globals (its other functions).
"""

import functools
import hashlib
import types

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

ULPS = 4  # the most ULPs a nudge moves a float


# --- results moved a few ULPs ------------------------------------------------------------


def nudge(value, salt, keep=None):
    """``value`` (nested lists, tuples, dicts) with each float that holds round-off moved 1
    to :data:`ULPS` ULPs up or down (:func:`nudge_array`).

    The steps depend on ``salt`` and on the float's own bits, so an equal result is nudged
    the same way twice (a check that calls twice sees equal results). ``keep``: an array of
    the arguments' floats, which a result passes through (rows picked, an array returned as
    it came) without round-off.
    """

    def leaf(value):
        if not is_float(value):
            return value
        moved = nudge_array(np.asarray(value), salt, keep)
        if isinstance(value, np.ndarray):
            return moved
        return type(value)(moved[()])  # a float or a NumPy scalar, as it came

    return mapped(value, leaf)


def mapped(value, leaf):
    """``value`` with ``leaf`` applied to everything but its lists, tuples and dicts."""
    if isinstance(value, (list, tuple)):
        items = [mapped(v, leaf) for v in value]
        if isinstance(value, list):
            return items
        return type(value)._make(items) if hasattr(value, "_make") else type(value)(items)
    if isinstance(value, dict):
        return type(value)((k, mapped(v, leaf)) for k, v in value.items())
    return leaf(value)


def is_float(value):
    """True for a float, a NumPy float scalar or a float array."""
    return (
        isinstance(value, (float, np.ndarray, np.floating)) and np.asarray(value).dtype.kind == "f"
    )


def nudge_array(array, salt, keep=None, most=ULPS):
    """A copy of the float array ``array``, its entries moved 1 to ``most`` ULPs, but for
    those exact on every machine: whole numbers (a zero from ``max`` or a mask, a one-hot
    code, a count), infinities and NaNs, and values found in ``keep`` (passed through)."""
    digest = hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=8).digest()
    rng = np.random.default_rng([salt, int.from_bytes(digest, "little")])
    steps = rng.integers(1, most + 1, size=array.shape)
    towards = np.where(rng.random(array.shape) < 0.5, -np.inf, np.inf).astype(array.dtype)
    moved = np.array(array, copy=True)
    with np.errstate(invalid="ignore"):
        movable = np.isfinite(moved) & (moved != np.round(moved))
    if keep is not None and keep.size:
        movable &= ~np.isin(moved, keep)
    for step in range(most):
        moved = np.where(movable & (steps > step), np.nextafter(moved, towards), moved)
    return moved.astype(array.dtype, copy=False)


def floats_of(value):
    """Every float in ``value`` (nested), in one flat array."""
    found = []
    mapped(value, lambda v: found.append(np.ravel(v)) if is_float(v) else None)
    return np.concatenate(found) if found else np.empty(0)


def like(fn, around):
    """A function that checks take for ``fn`` (name, signature, source, globals) and that
    returns ``around(fn, args, kwargs)``."""

    def call(*args, **kwargs):
        return around(fn, args, kwargs)

    if isinstance(fn, types.FunctionType):
        call = types.FunctionType(
            call.__code__, fn.__globals__, fn.__name__, None, call.__closure__
        )
    return functools.update_wrapper(call, fn)


def nudged(fn, salt, floats=None):
    """``fn`` with every float it returns moved a few ULPs (see :func:`nudge`); ``floats``: a
    list that each call appends the number of floats it returned to."""

    def around(fn, args, kwargs):
        result = fn(*args, **kwargs)
        if floats is not None:
            floats.append(floats_of(result).size)
        return nudge(result, salt, keep=floats_of([args, kwargs]))

    return like(fn, around)


# --- another machine: sums in another order, another libm --------------------------------


def plain(value):
    return value.view(np.ndarray) if isinstance(value, OtherMachine) else value


def unwrapped(value):
    """``value`` (nested) with every :class:`OtherMachine` array a plain ndarray again."""
    return mapped(value, plain)


def viewed(value):
    """``value`` (nested; its lists, tuples and dicts new) with every plain ndarray an
    :class:`OtherMachine` view of it (the same memory: a change in place is still seen)."""
    return mapped(value, lambda v: v.view(OtherMachine) if type(v) is np.ndarray else v)


def rewrap(value):
    if type(value) is np.ndarray:
        return value.view(OtherMachine)
    if isinstance(value, tuple):
        return tuple(rewrap(v) for v in value)
    return value


def reversed_sum(x, axis=None, dtype=None, keepdims=False):
    """``np.add.reduce`` of a float array, term after term from the last (np.cumsum)."""
    x = np.asarray(x, dtype=dtype)
    axes = tuple(range(x.ndim)) if axis is None else normalize_axis_tuple(axis, x.ndim)
    rest = [n for i, n in enumerate(x.shape) if i not in axes]
    terms = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim)).reshape(*rest, -1)
    total = np.cumsum(terms[..., ::-1], axis=-1)[..., -1]
    if keepdims:
        return np.expand_dims(total, axes)
    return total[()] if total.ndim == 0 else total


def reversed_matmul(a, b):
    """``a @ b`` of float arrays, each product rounded, added from the last ``k`` down."""
    a, b = np.asarray(a), np.asarray(b)
    left, right = a[None, :] if a.ndim == 1 else a, b[:, None] if b.ndim == 1 else b
    shape = np.broadcast_shapes(left.shape[:-2], right.shape[:-2])
    total = np.zeros((*shape, left.shape[-2], right.shape[-1]), np.result_type(a, b))
    for k in reversed(range(left.shape[-1])):
        total += left[..., :, k, None] * right[..., None, k, :]
    if a.ndim == 1:
        total = total[..., 0, :]
    if b.ndim == 1:
        total = total[..., 0]
    return total[()] if total.ndim == 0 else total


def reorders(*arrays):
    """True when the reordered accumulation applies: float arrays, none empty."""
    return all(np.asarray(a).dtype.kind == "f" and np.asarray(a).size for a in arrays)


def summable(kwargs):
    """True when ``np.add.reduce``'s options are those :func:`reversed_sum` takes."""
    return (
        set(kwargs) <= {"axis", "dtype", "keepdims", "where"} and kwargs.get("where", True) is True
    )


# NumPy ufuncs that call a libm (or NumPy's own SIMD code): their last bit is the machine's.
LIBM = {np.exp, np.expm1, np.exp2, np.log, np.log1p, np.log2, np.log10, np.tanh}
LIBM_SALT = 21


class OtherMachine(np.ndarray):
    """An array as another machine computes with it: matrix products and sums (``@``,
    ``np.dot``, ``np.sum``, ``.mean()``, ...) accumulate in reverse, one term after another,
    and exp, log and tanh are one ULP off (another libm); what is computed from it is one too."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = [plain(x) for x in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(plain(o) for o in out)
        if ufunc is np.matmul and method == "__call__" and not kwargs and reorders(*inputs):
            result = reversed_matmul(*inputs)
        elif ufunc is np.add and method == "reduce" and summable(kwargs) and reorders(inputs[0]):
            result = reversed_sum(inputs[0], **{k: v for k, v in kwargs.items() if k != "where"})
        else:
            result = getattr(ufunc, method)(*inputs, **kwargs)
            if ufunc in LIBM and method == "__call__" and np.asarray(result).dtype.kind == "f":
                moved = nudge_array(np.asarray(result), LIBM_SALT, most=1)
                if out is None:
                    result = moved if isinstance(result, np.ndarray) else result.dtype.type(moved)
                else:
                    kwargs["out"][0][...] = moved
        if out is not None:
            return out[0] if len(out) == 1 else out
        return rewrap(result)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.dot and len(args) == 2 and not kwargs:
            a, b = (plain(x) for x in args)
            if 1 <= np.ndim(a) <= 2 and 1 <= np.ndim(b) <= 2 and reorders(a, b):
                return rewrap(reversed_matmul(a, b))
        return super().__array_function__(func, types, args, kwargs)


def on_another_machine(fn):
    """``fn`` run on :class:`OtherMachine` views of its array arguments (:func:`viewed`),
    its results plain arrays again."""

    def around(fn, args, kwargs):
        seen_args, seen_kwargs = viewed(args), viewed(kwargs)
        result = unwrapped(fn(*seen_args, **seen_kwargs))
        pairs = [*zip(args, seen_args), *((kwargs[k], seen_kwargs[k]) for k in kwargs)]
        for given, seen in pairs:  # what fn stored in a dict it was given (bn_param)
            if isinstance(given, dict):
                given.update(unwrapped(seen))
        return result

    return like(fn, around)
