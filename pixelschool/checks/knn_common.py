"""What the checks of notebook 02 (knn_distances, knn_classifier) share: how they judge.

Each check compares the student's results on ``inputs(rng)`` with the solution's, recorded by
``make build``, and names a mistake from its recorded results (the keys of the
``*_MESSAGES``), from the expected result alone (squared, in percent), or as a uint8 failure
(right on float64 copies of uint8 rows, wrong on the rows).
"""

import numpy as np

from pixelschool.checks.compare import close, placeholder, verdict
from pixelschool.checks.framework import has_uint8, same_value


def reject_template(results, cases, name):
    """Say so when a result is what an unfinished template returns (its input, [], None)."""
    for result, case in zip(results, cases):
        text = placeholder(result, case)
        if text:
            raise AssertionError(f"{name}: {text}")


def said(prefix, text):
    """``message(result, case)``: ``prefix(result, case)``, then ``text`` (or
    ``text(result, case)``)."""
    return lambda result, case: (
        prefix(result, case) + (text(result, case) if callable(text) else text)
    )


def judge(name, check_result, prefix, messages, pairs=(), *, first=(), otherwise):
    """A judge: ``check_result(result, case)`` (type, shape) on every result, then
    :func:`verdict` with the recorded mistakes' ``messages``, then these relations: a uint8
    failure (when ``messages`` has "uint8_wrap"), the relations ``first``, and ``pairs``
    ``(value(case), text)``: ``text`` when the result is ``value``, computed from the expected
    result alone. Messages start with ``prefix(result, case)``."""
    messages = {key: said(prefix, text) for key, text in messages.items()}

    def known_relation(result, case):
        for value, text in pairs:
            if close(result, value(case)):
                return said(prefix, text)(result, case)
        return None

    def judge_results(results, cases):
        reject_template(results, cases, name)
        for result, case in zip(results, cases):
            check_result(result, case)
        relations = [*first, known_relation]
        if "uint8_wrap" in messages:
            relations.insert(0, uint8_relation(results, cases, messages["uint8_wrap"]))
        verdict(results, cases, name, messages, relations=relations, otherwise=otherwise)

    return judge_results


def uint8_relation(results, cases, message):
    """A relation for :func:`verdict`: ``message(result, case)`` when every wrong result is
    that of uint8 inputs and the float64 copy of one of them (also an input) comes out right.
    """
    right = [case for result, case in zip(results, cases) if close(result, case.expected)]
    wrong = [case for result, case in zip(results, cases) if not close(result, case.expected)]
    as_floats = [
        tuple(a.astype(np.float64) if has_uint8([a]) else a for a in case.args) for case in wrong
    ]
    only_uint8 = all(has_uint8(case.args) for case in wrong) and any(
        same_value(args, case.args) for args in as_floats for case in right
    )
    return lambda result, case: only_uint8 and message(result, case)
