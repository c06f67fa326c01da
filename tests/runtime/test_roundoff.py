"""Outcomes survive another machine's round-off (issue 21; DESIGN.md, "Feedback checks").

Another CPU, libm or BLAS gives last-bit differences (``tests/roundoff.py``). With every
float a function returns moved a few ULPs, and with the references run as on another
machine (sums and matrix products in another order, exp and log a ULP off), every check
still passes its reference and correct variants, still
names each wrong answer's mistake (kernel then grader, as ``tests/runtime/test_checks.py`` runs
them), and ``make build``'s re-recording of every recording (the package's and the hidden
expectations) is no change: ``same_recording`` of the committed file holds.
"""

import dataclasses

import pytest

from pixelschool.checks import recordings
from pixelschool.checks.framework import CHECKS
from pixelschool_admin.answers.registry import CORRECT_VARIANTS, REFERENCES, WRONG_ANSWERS
from pixelschool_admin.authoring import record
from tests.roundoff import nudged, on_another_machine
from tests.runtime.test_checks import graded, seeds_of

SALTS = (1, 2)  # two draws of nudges for the re-recordings
NUMPY_EXERCISES = [e for e in sorted(REFERENCES) if CHECKS[e].judge is not None]


def reference_runs(exercise):
    """The reference's seeds: every one (a check that is all code: its first)."""
    seeds = seeds_of(exercise)
    return seeds if CHECKS[exercise].judge is not None else seeds[:1]


def other_runs(exercise):
    """``(fn, seed, says)``: the correct variants and the wrong answers, on one seed each,
    the exercise's seeds taken in turn."""
    seeds = seeds_of(exercise)
    found = [(fn, None) for fn in CORRECT_VARIANTS.get(exercise, [])]
    found += [(answer.fn, answer.says) for answer in WRONG_ANSWERS.get(exercise, [])]
    return [(fn, seeds[i % len(seeds)], says) for i, (fn, says) in enumerate(found)]


def outcome_changes(exercise, fn, seed, says, monkeypatch, capsys):
    """'' when ``fn``'s check says what it says unperturbed, else what changed."""
    try:
        graded(exercise, fn, seed, monkeypatch)
    except AssertionError as error:
        if says is None:
            return f"{fn.__name__} (seed {seed}) now fails: {error}"
        if says not in str(error):
            return f"{fn.__name__} (seed {seed}) no longer says {says!r}: {error}"
        return ""
    finally:
        out = capsys.readouterr().out
    if says is not None:
        return f"{fn.__name__} (seed {seed}) now passes; it should say {says!r}"
    if not out.startswith(f"\u2714 {exercise}: "):
        return f"{fn.__name__} (seed {seed}) printed {out[:80]!r}"
    return ""


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_results_a_few_ulps_off_keep_every_outcome(exercise, monkeypatch, capsys):
    floats = []  # a check whose reference returns none (a Keras model) runs it alone
    reference = REFERENCES[exercise]
    changed = [
        outcome_changes(exercise, nudged(reference, seed, floats), seed, None, monkeypatch, capsys)
        for seed in reference_runs(exercise)
    ]
    changed += [
        outcome_changes(exercise, nudged(fn, seed), seed, says, monkeypatch, capsys)
        for fn, seed, says in (other_runs(exercise) if any(floats) else [])
    ]
    assert not any(changed), "\n".join(filter(None, changed))


@pytest.mark.parametrize("exercise", NUMPY_EXERCISES)
def test_references_on_another_machine_pass(exercise, monkeypatch, capsys):
    fn = on_another_machine(REFERENCES[exercise])
    changed = [
        outcome_changes(exercise, fn, seed, None, monkeypatch, capsys)
        for seed in seeds_of(exercise)
    ]
    assert not any(changed), "\n".join(filter(None, changed))


def rerecorded(monkeypatch, change):
    """What ``make build`` records with every reference and wrong answer ``change``d."""
    answers = record.answers

    def changed_answers(exercise):
        reference, wrong_answers = answers(exercise)
        return change(reference), [
            dataclasses.replace(answer, fn=change(answer.fn)) for answer in wrong_answers
        ]

    monkeypatch.setattr(record, "answers", changed_answers)
    return record.record_all()


def stale(files, against=None):
    """The recordings of ``files`` that differ from ``against``'s (the committed files')."""
    return [
        f"{path.parent.name}/{path.name}"
        for path, seeds in files.items()
        if not record.same_recording(
            recordings.read(path) if against is None else against[path], seeds
        )
    ]


@pytest.mark.parametrize("salt", SALTS)
def test_rerecording_results_a_few_ulps_off_is_no_change(salt, monkeypatch):
    assert stale(rerecorded(monkeypatch, lambda fn: nudged(fn, salt))) == []


def test_rerecording_on_another_machine_is_no_change(monkeypatch):
    here = record.record_all()  # what this machine records: the committed files may match
    elsewhere = rerecorded(monkeypatch, on_another_machine)
    assert stale(elsewhere) == []
    assert stale(elsewhere, against=here) == []
