"""The conventions every feedback check follows.

A check is a function ``check(fn, rng)`` that calls the student's ``fn`` through
:func:`call` and raises ``AssertionError`` with a message naming the mistake.
:func:`feedback_check` turns it into what students call, ``tests.test_<name>(fn)``:
one success line when every assertion holds, the first failure otherwise.
"""

import contextlib
import copy
import functools
import inspect
import io
import signal
import threading
import tracemalloc
from dataclasses import dataclass

import numpy as np

from pixelschool.checks import mistakes, recordings, transcript
from pixelschool.checks.mistakes import named
from pixelschool.checks.recordings import Case
from pixelschool.checks.transcript import (  # noqa: F401  (observed: for the checks)
    ReplayError,
    StudentFunction,
    TookTooLong,
    observed,
)

RESULTS_MIME = (
    "application/vnd.pixelschool.results+json"  # a hidden check's results, for the grader
)
CHECKS = {}  # exercise name -> Check, filled by @feedback_check


@dataclass(frozen=True)
class Check:
    """What the tools know of a check: the student-facing function and its recorded parts.

    ``inputs(rng)`` returns the argument tuples of the recorded calls; ``judge(results,
    cases)`` raises ``AssertionError`` naming the mistake when the results (one per case,
    in order) are not the recorded ones. Both are None for checks that are all code (model
    inspection, training runs).
    """

    name: str
    run: object
    inputs: object = None
    judge: object = None
    body: object = None  # the check's own code: check(fn, rng) or check(fn, cases)


class Cases:
    """The recorded calls of one run of a check, and where their results go.

    The check calls ``cases.call(fn, case)`` for every case, so the whole run is judged at
    once (a named mistake must explain every wrong result), and a changed input and a wrong
    value are told together. The judge runs where the expectations are: in the kernel for
    the visible seed (the recording shipped with the package), in the grader for the
    autograder's hidden seeds (``Case.expected`` is None in the kernel).
    """

    def __init__(self, check, cases, rng, seed):
        self.check, self.cases, self.rng, self.seed = check, cases, rng, seed
        self.results, self.changed = {}, None

    @property
    def visible(self):
        """True for the students' own check (the same in the kernel and in the grader)."""
        return self.seed == recordings.VISIBLE_SEED

    @property
    def hidden(self):
        """True while the expectations are not here (the kernel, for a hidden seed)."""
        return any(case.expected is None for case in self.cases)

    def __iter__(self):
        return iter(self.cases)

    def __len__(self):
        return len(self.cases)

    def call(self, fn, case, **kwargs):
        """``fn(*case.args)`` on copies; its result is kept for the judge and returned."""
        __tracebackhide__ = True
        result, changed = call_watching(fn, case.args, **kwargs)
        self.changed = self.changed or changed
        self.results[next(i for i, c in enumerate(self.cases) if c is case)] = result
        return result

    def call_all(self, fn, **kwargs):
        """:meth:`call` on every case, in order (NumPy's warnings silenced: an overflow is
        the judge's to explain); returns the results."""
        __tracebackhide__ = True
        with np.errstate(all="ignore"):
            return [self.call(fn, case, **kwargs) for case in self.cases]

    def ordered_results(self):
        missing = [i for i in range(len(self.cases)) if i not in self.results]
        if missing:
            raise named(
                f"{self.check.name} was not called on every input of the check.",
                mistakes.NOT_CALLED,
            )
        return [self.results[i] for i in range(len(self.cases))]

    def finish(self):
        """Judge the run where the expectations are; elsewhere tell only a changed input."""
        if self.hidden:
            if self.changed:
                raise named(self.changed, mistakes.CHANGED_INPUT)
            return
        try:
            self.check.judge(self.ordered_results(), self.cases)
        except AssertionError as wrong:
            if self.changed:
                raise named(
                    f"{self.changed}\nIts results are also wrong: {wrong}", mistakes.CHANGED_INPUT
                ) from None
            raise
        if self.changed:
            raise named(self.changed, mistakes.CHANGED_INPUT)


def feedback_check(name, *, inputs=None, judge=None):
    """Decorate a check as the student-facing ``test_<name>(fn, seed=0)``.

    Without ``inputs`` the check is ``check(fn, rng)``, all code. With ``inputs`` and
    ``judge`` it is ``check(fn, cases)``: it runs its property checks (loops, gradients of
    the student's own function, ...) with ``cases.rng`` and calls ``cases.call(fn, case)``
    for every recorded case. ``seed`` picks the inputs: the visible check uses the default,
    the hidden autograder tests pass other seeds, whose expectations only the grader holds.
    For those the kernel hands the run's transcript over, and the grader runs the check
    again on it and judges (:func:`rerun`): nothing the kernel decides earns a point.
    """

    def decorate(check):
        @functools.wraps(check)
        def run(fn, seed=recordings.VISIBLE_SEED):
            __tracebackhide__ = True  # pytest shows the student's failure, not this frame
            if not callable(fn):
                raise AssertionError(
                    f"Pass the function itself, as in tests.test_{name}({name}), "
                    f"not the result of calling it (got a {type(fn).__name__})."
                )
            hidden = seed != recordings.VISIBLE_SEED
            with transcript.session(transcript.Session()) as session:
                try:
                    execute(CHECKS[name], session.student(fn), seed, None)
                finally:
                    if hidden:
                        hand_over(name, seed, session)
            if hidden:
                print(f"\u2714 {name}: ran on the autograder's inputs; the grader judges them.")
            else:
                print(f"\u2714 {name}: all tests passed.")

        run.__doc__ = (
            f"Check a student's `{name}`; print one line if right, else raise AssertionError."
        )
        CHECKS[name] = Check(name, run, inputs, judge, check)
        return run

    return decorate


def execute(check, fn, seed, recorded):
    """Run ``check``'s code on ``fn`` (a ``StudentFunction``) with ``seed``'s inputs.

    ``recorded``: the cases with their expectations (the grader's, for a hidden seed); None
    for the visible seed's (the package's recording) or a hidden seed's in the kernel (the
    inputs alone)."""
    __tracebackhide__ = True  # the student's traceback shows their code, not the kit's
    rng = np.random.default_rng(seed)
    if check.inputs is None:
        check.body(fn, rng)
        return
    if recorded is None and seed == recordings.VISIBLE_SEED:
        recorded = recordings.visible_cases(check.name)
        if recorded is None:
            raise RuntimeError(
                f"The recorded expectations of {check.name} are missing from the course kit "
                "(pixelschool/checks/recordings): reinstall it, or run `make build`."
            )
    if recorded is None:
        recorded = [Case(tuple(a)) for a in check.inputs(np.random.default_rng(seed))]
    cases = Cases(check, recorded, rng, seed)
    check.body(fn, cases)
    cases.finish()


def rerun(name, seed, handed_over, source=None, recorded=None):
    """The grader's judgement of a hidden test: the check ``name`` runs again, here, with
    the answers the kernel recorded (``handed_over``, a decoded transcript) standing in for
    the student's code. Raises ``AssertionError`` naming what is wrong, ``ReplayError`` when
    the transcript does not fit this run; returns None when every assertion holds.

    ``source``: the student's function as submitted (for the rules on loops); ``recorded``:
    the hidden seed's cases with their expectations (checks with recordings)."""
    check = CHECKS[name]
    if check.inputs is not None and recorded is None:
        raise RuntimeError(f"no hidden expectations of {name} for seed {seed}")
    session = transcript.Session.replay(handed_over)
    names = list(session.functions)
    if not names:
        raise ReplayError("the transcript names no function")
    with transcript.session(session), contextlib.redirect_stdout(io.StringIO()):
        fn = StudentFunction(session, names[0])
        fn.source = source
        execute(check, fn, seed, recorded)
    session.finished()


def hand_over(name, seed, session):
    """Display a hidden test's transcript for the grader (a MIME bundle, no expectation in
    it): what the student's code answered, for the grader to judge (:func:`rerun`)."""
    bundle = {
        "exercise": name,
        "seed": seed,
        "transcript": transcript.encode_transcript(session.transcript()),
    }
    try:
        from IPython.display import display

        # text/plain is what the notebook and the feedback show: the bundle is the grader's
        shown = f"{name}: results of the hidden inputs, handed to the grader"
        display({RESULTS_MIME: bundle, "text/plain": shown}, raw=True)
    except ImportError:  # outside Jupyter there is no grader to hand them to
        pass


# The checks use small inputs: a call that runs this long is stuck, most often in a loop.
CALL_TIME_LIMIT = 10  # seconds


@contextlib.contextmanager
def time_limit(seconds):
    """Interrupt the block with ``TookTooLong`` after ``seconds`` (where the OS allows it).

    Uses SIGALRM, so it works on Linux and macOS in the main thread, where notebook code
    runs; elsewhere the block runs without a limit.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def interrupt(signum, frame):
        raise TookTooLong()

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(
    fn, *args, hint="", copy_args=True, uncopied=(), described_by=None, recorded_as=None, **kwargs
):
    """Call ``fn`` on deep copies of ``args`` and return its result.

    Raises ``AssertionError`` if ``fn`` raises (``NotImplementedError`` excepted:
    an unanswered exercise stays unanswered), with ``hint`` added to the message,
    if it runs longer than ``CALL_TIME_LIMIT`` or if it changes any of its inputs.
    With ``copy_args=False`` ``fn`` gets ``args`` themselves and mutation is the
    caller's to check (for functions that must change an array and restore it).
    The arguments at the positions ``uncopied`` (random generators, meant to advance)
    and the keyword arguments ``kwargs`` reach ``fn`` as they are. ``described_by`` and
    ``recorded_as``: see :func:`call_watching`.
    """
    __tracebackhide__ = True  # the student's traceback shows their code, not the kit's
    result, changed = call_watching(
        fn,
        args,
        hint=hint,
        copy_args=copy_args,
        uncopied=uncopied,
        described_by=described_by,
        recorded_as=recorded_as,
        **kwargs,
    )
    if changed:
        raise named(changed, mistakes.CHANGED_INPUT)
    return result


def call_watching(
    fn, args, hint="", copy_args=True, uncopied=(), described_by=None, recorded_as=None, **kwargs
):
    """:func:`call`, but a changed input is returned as a message, not raised:
    ``(result, message or None)``. ``described_by(result)``, where the student's result is no
    plain data (a Keras model): what the check gets instead, made in the kernel.
    ``recorded_as``: the values that stand for the arguments in the transcript, where these
    differ from run to run (the path of a folder the check wrote the inputs to).

    This is where a check crosses into the student's code: the crossing is recorded in the
    kernel and replayed in the grader (``transcript.py``)."""
    __tracebackhide__ = True  # the student's traceback shows their code, not the kit's
    copies = copy.deepcopy(args) if copy_args else args
    passed = tuple(args[i] if i in uncopied else value for i, value in enumerate(copies))
    try:
        result, passed = transcript.current().call(
            fn, passed, kwargs, described_by, run=under_time_limit, recorded_as=recorded_as
        )
    except NotImplementedError:
        raise
    except TookTooLong:
        raise named(
            f"{fn.__name__}({describe_args(args)}) was still running after {CALL_TIME_LIMIT} s "
            "on a small input. Look for a loop that never ends (a `while` whose condition "
            "never changes) or a loop over every pixel.",
            mistakes.TOO_SLOW,
        ) from None
    except ReplayError:
        raise
    except Exception as error:
        if isinstance(error, (OverflowError, FloatingPointError)) and has_uint8(args):
            hint = (hint + "\n" if hint else "") + UINT8_ADVICE
        raise named(
            f"{fn.__name__}({describe_args(args)}) raised {type(error).__name__}: {error}"
            + (f"\n{hint}" if hint else ""),
            mistakes.RAISED,
        ) from error
    for position, (original, value) in enumerate(zip(args, passed)):
        if copy_args and position not in uncopied and not same_value(original, value):
            return result, (
                f"{fn.__name__} changed its argument `{parameter_name(fn, position)}` in place. "
                "The caller's data must stay as it was: work on a copy "
                "(for example `x = x.astype(np.float32)` or `x = x.copy()`)."
            )
    return result, None


def under_time_limit(thunk):
    __tracebackhide__ = True
    with time_limit(CALL_TIME_LIMIT):
        return thunk()


UINT8_ADVICE = (
    "The images are uint8 (0..255), whose arithmetic wraps around or overflows "
    "(np.uint8(3) - np.uint8(5) is 254, np.uint8(20) ** 2 is 144): convert them with "
    ".astype(np.float64) before subtracting, squaring or summing."
)


def has_uint8(args):
    """True when any argument (or item of a list or tuple argument) is a uint8 array."""
    return any(
        has_uint8(a) if isinstance(a, (list, tuple)) else getattr(a, "dtype", None) == np.uint8
        for a in args
    )


def same_value(a, b):
    """True when ``a`` and ``b`` hold the same data (arrays compared by dtype, shape, values)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(same_value, a, b))
    if isinstance(a, dict) and isinstance(b, dict):  # bn_param (05), a ConvNet's params (06)
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


def describe_args(args):
    """A short description of call arguments, arrays by shape and dtype."""
    return ", ".join(describe(a) for a in args)


def describe(value):
    """``array(shape=(3, 4), dtype=uint8)`` for an array, ``repr`` for small things."""
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    text = repr(value)
    return text if len(text) <= 40 else f"{type(value).__name__}(...)"


def parameter_name(fn, position):
    """The name of ``fn``'s positional parameter at ``position`` (or ``#position``)."""
    try:
        return list(inspect.signature(fn).parameters)[position]
    except (TypeError, ValueError, IndexError):
        return f"#{position + 1}"


def peak_memory(fn, *args):
    """Peak bytes Python and NumPy allocate while ``call(fn, *args)`` runs, above what was
    allocated before. Measured in the kernel, also where tracemalloc already runs (its peak
    is reset); the grader takes the kernel's figure."""
    session = transcript.current()
    if session.replaying:
        call(fn, *args)
        return session.measured(None)
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    else:
        tracemalloc.reset_peak()
    try:
        before = tracemalloc.get_traced_memory()[0]
        call(fn, *args)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if started:
            tracemalloc.stop()
    return session.measured(peak)


def replacing_global(fn, name, replacement):
    """Let ``fn`` see ``replacement`` as its global ``name`` inside the block, then restore it.

    Checks use it to watch how a student's function uses another of their exercises; what
    the replacement sees goes into an ``observed`` list (it is not called in the grader).
    """
    return transcript.current().swapped_global(fn, name, replacement)


def expect(condition, message, mistake=None):
    """Raise ``AssertionError(message)`` unless ``condition`` holds; ``mistake``: its key
    (``mistakes.py``; default: where the check called this)."""
    if not condition:
        raise named(message, mistake) if mistake else AssertionError(message)


def expect_array(value, what, *, shape=None, dtype=None, kind=None):
    """Check that ``value`` is an ndarray with the given shape, dtype or dtype kind.

    ``kind`` is a NumPy kind string such as ``"f"`` (floating) or ``"iu"`` (integer).
    """
    expect(
        isinstance(value, np.ndarray),
        f"{what} should be a NumPy array, not a {type(value).__name__}: "
        "wrap it with np.array(...) or build it with NumPy functions.",
        mistakes.NOT_AN_ARRAY,
    )
    if shape is not None:
        expect(
            value.shape == tuple(shape),
            f"{what} has shape {value.shape}, expected {tuple(shape)}.",
            mistakes.WRONG_SHAPE,
        )
    if dtype is not None:
        expect(
            value.dtype == np.dtype(dtype),
            f"{what} has dtype {value.dtype}, expected {np.dtype(dtype)}.",
            mistakes.WRONG_DTYPE,
        )
    if kind is not None:
        names = {"f": "floating-point", "i": "integer", "u": "unsigned integer", "b": "boolean"}
        wanted = " or ".join(names.get(k, k) for k in kind)
        expect(
            value.dtype.kind in kind,
            f"{what} has dtype {value.dtype}; expected {wanted} values.",
            mistakes.WRONG_DTYPE,
        )


def expect_tuple(value, what, length):
    """Check that a function returned a tuple (or list) of ``length`` items."""
    expect(
        isinstance(value, (tuple, list)) and len(value) == length,
        f"{what} should return {length} values (as a tuple), got {describe(value)}.",
        mistakes.WRONG_VALUE_COUNT,
    )
