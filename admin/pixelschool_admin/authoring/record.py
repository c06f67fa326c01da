"""Record the checks' expectations: ``make build`` writes them, ``make check`` finds them stale.

For each exercise whose check has recorded parts (``inputs`` and ``judge``), and for each
seed it is run with, the check's inputs go through the solution notebook's own function
(the expected results) and through every wrong answer of ``pixelschool_admin.answers`` that
names its mistake (the diagnosis table). The visible seed's recording ships with the
student runtime (``pixelschool/checks/recordings/<exercise>.npz``); the hidden seeds',
which the solution notebooks' graded cells use, stay here (``admin/hidden/<exercise>.npz``)
and are read by the grader only.
"""

import copy
import importlib
import re
import warnings
from pathlib import Path

import numpy as np

import problem_unittests  # noqa: F401  (registers every check)
from pixelschool.checks import recordings
from pixelschool.checks.framework import CHECKS
from pixelschool.checks.recordings import VISIBLE_SEED, Case
from pixelschool_admin.answers.registry import REFERENCES, WRONG_ANSWERS
from pixelschool_admin.authoring.notebooks import is_test_cell, read_notebook
from pixelschool_admin.paths import ADMIN_DIR, SOLUTIONS_DIR

HIDDEN_DIR = ADMIN_DIR / "hidden"
# How a graded cell runs a check with a hidden seed: tests.test_<exercise>(<fn>, seed=<n>);
# the groups are the exercise, the function's name and the seed.
HIDDEN_CALL = re.compile(r"tests\.test_(\w+)\(\s*(\w+)\s*,\s*seed\s*=\s*(\d+)\s*\)")
# Recordings are rebuilt on other machines: float results may differ in the last bits (NumPy's
# AVX-512 exp is a ULP off glibc's on ~5 % of inputs; BLAS kernels sum in other orders), also
# in entries that are rounding noise themselves (1e-17 beside values of 1), so the tolerance
# is relative to the largest value of the array, not to each entry. Float32 values (and
# smaller) are equal up to STALE_ULPS of their own precision: their round-off is ~1e-7.
STALE_RTOL = 1e-9
STALE_ULPS = 64


def answers(exercise):
    """``(reference, wrong answers)`` of ``exercise``, from ``pixelschool_admin.answers.<module>``,
    the module named like the check's own (``pixelschool.checks.<module>``)."""
    module = CHECKS[exercise].run.__module__.rsplit(".", 1)[-1]
    importlib.import_module(f"pixelschool_admin.answers.{module}")
    return REFERENCES[exercise], WRONG_ANSWERS.get(exercise, [])


def recorded_exercises():
    """The exercises whose checks compare with recordings, by name."""
    return sorted(name for name, check in CHECKS.items() if check.inputs is not None)


def hidden_seeds(solutions_dir=SOLUTIONS_DIR):
    """``{exercise: [seed, ...]}`` of the checks the solutions' graded cells run."""
    seeds = {}
    for path in sorted(Path(solutions_dir).glob("*.ipynb")):
        for cell in read_notebook(path).cells:
            if is_test_cell(cell):
                for exercise, _, seed in HIDDEN_CALL.findall(cell.source):
                    seeds.setdefault(exercise, set()).add(int(seed))
    return {exercise: sorted(found) for exercise, found in seeds.items()}


def run_quietly(fn, args):
    """``fn(*copies of args)``, NumPy's warnings silenced (the wrong answers overflow)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*copy.deepcopy(args))


def record_cases(exercise, seed, reference, wrong_answers):
    """The recorded :class:`Case` list of ``exercise`` for ``seed``."""
    check = CHECKS[exercise]
    cases = []
    for args in check.inputs(np.random.default_rng(seed)):
        args = tuple(args)
        expected = run_quietly(reference, args)
        mistakes = []
        for answer in wrong_answers:
            if answer.mistake is None:
                continue
            try:
                output = run_quietly(answer.fn, args)
                recordings.encode(output, {})
            except Exception:  # noqa: BLE001  (a wrong answer that fails here shows itself)
                continue
            mistakes.append((answer.mistake, output))
        cases.append(Case(args, expected, telling(mistakes, expected)))
    return cases


def record_all(exercises=None, package_dir=recordings.PACKAGE_DIR, hidden_dir=HIDDEN_DIR):
    """``{path: {seed: cases}}`` for every recorded exercise (or those named)."""
    hidden = hidden_seeds()
    files = {}
    for exercise in exercises or recorded_exercises():
        reference, wrong_answers = answers(exercise)
        files[recordings.recording_path(exercise, package_dir)] = {
            VISIBLE_SEED: record_cases(exercise, VISIBLE_SEED, reference, wrong_answers)
        }
        files[recordings.recording_path(exercise, hidden_dir)] = {
            seed: record_cases(exercise, seed, reference, wrong_answers)
            for seed in hidden.get(exercise, [])
            if seed != VISIBLE_SEED
        }
    return files


def write_recordings(exercises=None, package_dir=recordings.PACKAGE_DIR, hidden_dir=HIDDEN_DIR):
    """Write every recording that changed; return the paths written.

    A recording that is the file's up to round-off (:func:`same_recording`) is left as it
    is, bytes and time stamp: another machine's libm or BLAS gives other last bits, and
    rounding noise is no change to commit.
    """
    files = record_all(exercises, package_dir, hidden_dir)
    written = []
    for path, seeds in files.items():
        if not path.exists() or not same_recording(recordings.read(path), seeds):
            recordings.write(path, seeds)
            written.append(path)
    return sorted(written)


def same_recording(a, b, scale=None):
    """True when two decoded recordings hold the same values: floats up to
    :func:`stale_rtol`, relative to each entry and, in absolute terms, to the largest float
    of the value they belong to (``scale``: a case's arguments, its expected result, one
    mistake's result), so that rounding noise (1e-17 in a bias that sums to 0 beside
    weights of 1) is no change."""
    if isinstance(a, Case):
        if not isinstance(b, Case):
            return False
        mistakes = telling(a.mistakes, a.expected), telling(b.mistakes, b.expected)
        if len(mistakes[0]) != len(mistakes[1]):
            return False
        parts = [(a.args, b.args), (a.expected, b.expected), *zip(*mistakes)]
        return all(same_recording(x, y, largest(x)) for x, y in parts)
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(same_recording(x, y, scale) for x, y in zip(a, b))
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same_recording(a[k], b[k], scale) for k in a)
        )
    if scale is None:
        scale = largest(a)
    if isinstance(a, (np.ndarray, np.generic)):
        b = np.asarray(b)
        a = np.asarray(a)
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            rtol = stale_rtol(a.dtype)
            return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=STALE_RTOL, atol=STALE_RTOL * scale, equal_nan=True))
    return type(a) is type(b) and a == b


def telling(mistakes, expected):
    """The ``(mistake, result)`` pairs whose result is not ``expected`` up to round-off: a
    mistake that made no difference to a case, on this machine, tells nothing (and bit for
    bit the same on one machine, it differs in the last bits on another)."""
    return [
        (mistake, result)
        for mistake, result in mistakes
        if not same_recording(result, expected, largest(expected))
    ]


def stale_rtol(dtype):
    """The relative tolerance of a recorded float: STALE_RTOL, or STALE_ULPS of the float's
    own precision where that is larger (float32: 7.6e-6)."""
    return max(STALE_RTOL, STALE_ULPS * float(np.finfo(dtype).eps))


def largest(value):
    """The largest finite magnitude among the floats in ``value`` (nested), 0 if none."""
    if isinstance(value, (list, tuple)):
        return max((largest(v) for v in value), default=0.0)
    if isinstance(value, dict):
        return max((largest(v) for v in value.values()), default=0.0)
    if isinstance(value, float) or (
        isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.kind in "fc"
    ):
        found = np.abs(np.asarray(value, dtype=complex if np.iscomplexobj(value) else float))
        found = found[np.isfinite(found)]
        return float(found.max()) if found.size else 0.0
    return 0.0


def stale_recordings(package_dir=recordings.PACKAGE_DIR, hidden_dir=HIDDEN_DIR):
    """Problems: recordings missing, out of date or left over; empty when all are current."""
    problems = []
    files = record_all(package_dir=package_dir, hidden_dir=hidden_dir)
    for path, seeds in files.items():
        if not path.exists():
            problems.append(f"{path.name}: no recording in {path.parent}; run `make build`")
        elif not same_recording(recordings.read(path), seeds):
            problems.append(f"{path.parent.name}/{path.name} is stale; run `make build`")
    for folder in (package_dir, hidden_dir):
        for path in sorted(Path(folder).glob("*.npz")):
            if path not in files:
                problems.append(f"{path.parent.name}/{path.name} belongs to no recorded check")
    for path in sorted(Path(package_dir).glob("*.npz")):
        if set(recordings.read(path)) != {VISIBLE_SEED}:
            problems.append(
                f"{path.name} in the student runtime holds a seed other than the visible one"
            )
    return problems
