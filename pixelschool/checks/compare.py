"""How the checks compare a result with a recorded one: the tolerances and the verdict.

One home for every tolerance. A judge (``judge(results, cases)``, one result per recorded
case) checks each result's type and shape (code), then calls :func:`verdict`: the run is
right when every result is :func:`close` to the solution's recorded one; otherwise a named
mistake whose recorded results match every wrong result says what is wrong; failing that,
the first wrong result is judged alone: a mistake it matches, then the relations the check
computes from the expected result alone (transposed, scaled, another dtype), then a plain
message. Each failure carries the key of what it names (``mistakes.py``): the recorded
mistake's, the relation's, or ``NO_NAMED_MISTAKE``; the message is the same either way.
"""

import numpy as np

from pixelschool.checks.framework import describe
from pixelschool.checks.mistakes import (
    NO_NAMED_MISTAKE,
    PLACEHOLDER,
    RETURNED_EMPTY_LIST,
    RETURNED_INPUT,
    RETURNED_NONE,
    named,
)

RTOL = 1e-6  # float64 results: equal up to rounding, relative to the largest expected value
RTOL_FLOAT32 = 1e-4  # results the exercise allows in float32
LOSS_RTOL = 1e-6  # one-number results (a loss, an accuracy)


def close(result, expected, rtol=RTOL):
    """Same shape, finite, and equal up to ``rtol`` at the scale of ``expected``.

    Integer and boolean results compare exactly; nested tuples and lists item by item.
    """
    if isinstance(expected, (tuple, list)):
        return (
            isinstance(result, (tuple, list))
            and len(result) == len(expected)
            and all(close(r, e, rtol) for r, e in zip(result, expected))
        )
    if expected is None or isinstance(expected, str):
        return result == expected
    try:
        result = np.asarray(result)
        expected = np.asarray(expected)
    except (TypeError, ValueError):
        return False
    if result.shape != expected.shape or result.dtype.hasobject:
        return False
    if expected.dtype.kind in "biu":
        return result.dtype.kind in "biuf" and np.array_equal(result, expected)
    if result.dtype.kind not in "biuf" or not np.all(np.isfinite(result)):
        return False
    scale = 1 + np.abs(expected).max(initial=0)
    return bool(np.allclose(result, expected, rtol=rtol, atol=rtol * scale))


def wrong_parts(names, result, expected):
    """The names of the parts of a tuple ``result`` (dx, dw, db ...) not close to ``expected``'s."""
    return [name for name, mine, right in zip(names, result, expected) if not close(mine, right)]


def named_mistake(result, case, same=close):
    """The first recorded mistake whose result ``result`` matches, or None."""
    for mistake, output in case.mistakes:
        if same(result, output):
            return mistake
    return None


def placeholder(result, case):
    """A message when ``result`` is what an unfinished template returns, else None."""
    if result is None:
        return RETURNED_NONE
    if isinstance(result, list) and not result:
        return RETURNED_EMPTY_LIST
    for arg in case.args:
        if (
            isinstance(arg, np.ndarray)
            and isinstance(result, np.ndarray)
            and result.shape == arg.shape
            and result.dtype == arg.dtype
            and np.array_equal(result, arg)
        ):
            return RETURNED_INPUT
    return None


def verdict(results, cases, name, messages, *, same=close, relations=(), otherwise=None):
    """Raise ``AssertionError`` naming the mistake unless every result is its case's expected.

    See :func:`verdict_one` for the arguments.
    """
    wrong = [(r, c) for r, c in zip(results, cases) if not same(r, c.expected)]
    if not wrong:
        return
    for result, case in wrong:
        template = placeholder(result, case)
        if template:
            raise named(f"{name}: {template}", PLACEHOLDER)
    names = dict.fromkeys(m for _, case in wrong for m, _ in case.mistakes)
    for mistake in names:
        if all(
            any(m == mistake and same(result, output) for m, output in case.mistakes)
            for result, case in wrong
        ):
            raise named(say(messages[mistake], *wrong[0]), mistake)
    verdict_one(*wrong[0], name, messages, same=same, relations=relations, otherwise=otherwise)


def say(text, result, case):
    return text(result, case) if callable(text) else text


def verdict_one(result, case, name, messages, *, same=close, relations=(), otherwise=None):
    """Raise ``AssertionError`` naming the mistake unless ``result`` is ``case.expected``.

    messages: ``{mistake: text}``, or ``{mistake: text(result, case)}``, for the named
    mistakes recorded in ``case.mistakes``. relations: functions ``(result, case) ->
    message or None`` computed from the expected result alone. otherwise: the message (or
    ``message(result, case)``) when nothing explains the difference (a default names the
    function and its arguments).
    """
    if same(result, case.expected):
        return
    template = placeholder(result, case)
    if template:
        raise named(f"{name}: {template}", PLACEHOLDER)
    mistake = named_mistake(result, case, same)
    if mistake is not None:
        raise named(say(messages[mistake], result, case), mistake)
    for relation in relations:
        text = relation(result, case)
        if text:
            raise named(text, message_key(text, messages) or relation_key(relation))
    text = (
        say(otherwise, result, case)
        if otherwise
        else f"{name} returned wrong values for arguments ({', '.join(map(describe, case.args))})."
    )
    raise named(text, message_key(text, messages) or NO_NAMED_MISTAKE)


def message_key(text, messages):
    """The key of ``messages`` whose (fixed) text ``text`` is, or None."""
    return next((k for k, m in messages.items() if isinstance(m, str) and m == text), None)


def relation_key(relation):
    """A relation's key: its qualified name, without ``<locals>``."""
    name = getattr(relation, "__qualname__", None) or getattr(relation, "__name__", "relation")
    return name.replace(".<locals>", "")
