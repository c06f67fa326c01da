"""What a check gets from the student's code, written down for the grader to run the check again.

A check reaches the student's code only through :func:`framework.call`: each such call is
one *crossing*. While a check runs in the student's kernel, a :class:`Session` records every
crossing (the arguments' fingerprint, the result or the exception, the arguments the call
changed, what the check's own helpers saw inside the call) into a transcript. For a hidden
seed the kernel hands the transcript over (``hand_over``), and the grader runs the very same
check in its own process with a :class:`Session` that *replays* it: each crossing returns
what the kernel recorded instead of running student code. Every assertion, and every
comparison with the hidden expectations, runs in the grader: the kernel only supplies the
student's answers, and answers that do not belong to the grader's own calls are refused.

The rules a check follows so that it runs the same way in both places:

- it calls the student's functions (the one it checks, or another found with
  ``fn.__globals__.get(name)``) only through ``framework.call`` or ``call_watching``;
- what its own helpers see *inside* a student call (a stand-in the student's code calls, a
  wrapper that watches an argument) goes into a list registered with :func:`observed`;
- results are plain data: NumPy arrays, numbers, strings, lists, tuples, dicts (anything
  else reaches the check as an ``Opaque`` stand-in, in the kernel as in the grader; a Keras
  model is described first, ``describe=``).

``tests/runtime/test_checks.py`` runs every check on every reference and wrong answer
both ways and demands the same verdict.
"""

import base64
import contextlib
import copy
import inspect

from pixelschool.checks import recordings

FORMAT = 1
TEXT_LIMIT = 2000  # characters of an exception's message kept in a transcript


class ReplayError(Exception):
    """The transcript does not fit the grader's own run of the check."""


class TookTooLong(BaseException):  # not caught by a student's `except Exception`
    """Raised inside a student's function that ran past ``framework.CALL_TIME_LIMIT``."""


def roundtrip(value):
    """``value`` as the grader will see it: plain data, fresh arrays, Opaque stand-ins."""
    arrays = {}
    tree = recordings.encode(recordings.loose(value), arrays)
    return recordings.decode(tree, arrays)  # fresh arrays: decode copies them


def fingerprint(name, args, kwargs):
    """A call's fingerprint: the function's name and its arguments' values."""
    return recordings.digest(recordings.loose([name, list(args), kwargs]))


class Session:
    """One run of one check: recording crossings (``events is None``) or replaying them."""

    def __init__(self, events=None, functions=None):
        self.replaying = events is not None
        self.events = [] if events is None else list(events)
        self.position = 0
        self.functions = {} if functions is None else dict(functions)
        self.observers = []
        self.depth = 0  # student calls in progress (a crossing inside one is part of it)

    # --- the transcript -----------------------------------------------------------------

    def transcript(self):
        return {"format": FORMAT, "functions": self.functions, "events": self.events}

    @classmethod
    def replay(cls, transcript):
        if not isinstance(transcript, dict) or transcript.get("format") != FORMAT:
            raise ReplayError("the results are not a transcript the grader can read")
        events, functions = transcript.get("events"), transcript.get("functions")
        if not isinstance(events, list) or not isinstance(functions, dict):
            raise ReplayError("the transcript is incomplete")
        return cls(events, functions)

    def next_event(self, kind):
        if self.position >= len(self.events):
            raise ReplayError("the check ran further in the grader than in your kernel")
        event = self.events[self.position]
        if not isinstance(event, dict) or kind not in event:
            raise ReplayError("your kernel's run of the check took another path")
        self.position += 1
        return event

    def finished(self):
        """Raise unless every recorded crossing was replayed."""
        if self.replaying and self.position != len(self.events):
            raise ReplayError("your kernel's run of the check made calls the grader's did not")

    # --- the student's functions ----------------------------------------------------------

    def student(self, fn, name=None):
        """The check's handle on the student's function ``fn`` (None when replaying)."""
        if isinstance(fn, StudentFunction) and fn.real() is not None:
            fn = fn.real()  # a check run inside another (a forward's own check)
        name = name or getattr(fn, "__name__", None) or type(fn).__name__
        if not self.replaying:
            self.functions[name] = parameters(fn)
        return StudentFunction(self, name, fn)

    def call(self, fn, passed, kwargs, describe=None, run=None, recorded_as=None):
        """``fn(*passed, **kwargs)`` across the boundary: ``(result, passed)``, ``passed``
        with the values the call left in the arguments it changed. ``run(thunk)`` runs the
        student's code (under the time limit); ``describe`` turns the result into data;
        ``recorded_as`` stands for the arguments in the call's fingerprint."""
        __tracebackhide__ = True  # the student's traceback shows their code, not the kit's
        name = getattr(fn, "__name__", type(fn).__name__)
        if self.depth:  # inside a student call: part of that call's crossing
            result = fn(*passed, **kwargs)
            return (describe(result) if describe else result), passed
        key = fingerprint(name, passed if recorded_as is None else recorded_as, kwargs)
        if self.replaying:
            return self.replay_call(name, key, passed)
        before = [argument_key(value) for value in passed]
        marks = [len(log) for log in self.observers]
        event = {"call": name, "args": key}
        self.events.append(event)
        self.depth += 1

        def invoke():
            __tracebackhide__ = True
            return fn(*passed, **kwargs)

        try:
            result = (run or (lambda thunk: thunk()))(invoke)
            if describe is not None:
                result = describe(result)
        except BaseException as error:
            event["raised"] = exception_record(error)
            self.note_effects(event, passed, before, marks)
            raise
        finally:
            self.depth -= 1
        event["result"] = result = roundtrip(result)
        return result, self.note_effects(event, passed, before, marks)

    def note_effects(self, event, passed, before, marks):
        """Record (and give the check, as the grader will see them) the arguments the call
        changed and what the observers saw during it."""
        changed = {}
        for position, (value, key) in enumerate(zip(passed, before)):
            if key is not None and argument_key(value) != key:
                changed[str(position)] = roundtrip(value)
        event["changed"] = changed
        event["logs"] = []
        for log, mark in zip(self.observers, marks):
            log[mark:] = roundtrip(log[mark:])
            event["logs"].append(log[mark:])
        return with_changes(passed, changed)

    def replay_call(self, name, key, passed):
        event = self.next_event("call")
        if event.get("call") != name or event.get("args") != key:
            raise ReplayError(
                f"your kernel called {event.get('call')} on other inputs than the grader's "
                "(was NumPy's random generator, or the check, replaced?)"
            )
        changed, logs = event.get("changed"), event.get("logs")
        if not isinstance(changed, dict) or not isinstance(logs, list):
            raise ReplayError("the transcript is incomplete")
        if len(logs) != len(self.observers) or not all(isinstance(log, list) for log in logs):
            raise ReplayError("your kernel's run of the check took another path")
        for log, seen in zip(self.observers, logs):
            log.extend(copy.deepcopy(seen))
        passed = with_changes(passed, changed)
        if "raised" in event:
            raise rebuilt_exception(event["raised"])
        if "result" not in event:
            raise ReplayError("the transcript is incomplete")
        return copy.deepcopy(event["result"]), passed

    def measured(self, value):
        """A measurement made in the kernel (peak memory): recorded, or replayed."""
        if self.replaying:
            return self.next_event("measured")["measured"]
        self.events.append({"measured": value})
        return value

    def global_function(self, fn, name):
        """The student's function ``name`` beside ``fn`` (its module's globals), or None."""
        if self.replaying:
            event = self.next_event("global")
            if event.get("global") != name:
                raise ReplayError("your kernel's run of the check took another path")
            return StudentFunction(self, name) if event.get("function") else None
        found = getattr(fn, "__globals__", {}).get(name)
        self.events.append({"global": name, "function": callable(found)})
        return self.student(found, name) if callable(found) else None

    @contextlib.contextmanager
    def swapped_global(self, fn, name, replacement):
        """``replacement`` as the student's global ``name`` inside the block (kernel only:
        when replaying, no student code runs)."""
        target = fn.real() if isinstance(fn, StudentFunction) else fn
        namespace = {} if target is None else getattr(target, "__globals__", {})
        missing = object()
        saved = namespace.get(name, missing)
        namespace[name] = replacement
        try:
            yield
        finally:
            if saved is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = saved

    @contextlib.contextmanager
    def observing(self, log):
        self.observers.append(log)
        try:
            yield log
        finally:
            self.observers.remove(log)


class StudentFunction:
    """The student's function as a check holds it: named, with its signature, and callable
    only inside a crossing (``framework.call``), where the session records it."""

    def __init__(self, session, name, fn=None):
        self.__name__ = self.__qualname__ = name
        self.__doc__ = getattr(fn, "__doc__", None)
        self._session, self._fn = session, fn
        self.__signature__ = signature(session.functions.get(name))
        self.source = None  # the grader's copy of the submitted source, when replaying

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        if self._fn is None or not current().depth:
            raise ReplayError(f"a check called {self.__name__} outside framework.call")
        return self._fn(*args, **kwargs)

    @property
    def __globals__(self):
        return StudentGlobals(self._session, self._fn)

    def real(self):
        """The student's own function (recording) or None (replaying)."""
        return self._fn


class StudentGlobals:
    """``fn.__globals__`` as checks use it: ``get`` finds the student's other functions."""

    def __init__(self, session, fn):
        self._session, self._fn = session, fn

    def get(self, name, default=None):
        found = self._session.global_function(self._fn, name)
        return default if found is None else found


def parameters(fn):
    """``[[name, kind, has_default], ...]`` of ``fn``'s signature ([] when it has none)."""
    try:
        found = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [[p.name, int(p.kind), p.default is not p.empty] for p in found]


def signature(recorded):
    """An ``inspect.Signature`` from :func:`parameters`' list (defaults stand as None)."""
    if not isinstance(recorded, list):
        return None
    try:
        return inspect.Signature(
            [
                inspect.Parameter(
                    name, inspect._ParameterKind(kind), default=None if has else inspect._empty
                )
                for name, kind, has in recorded
            ]
        )
    except (TypeError, ValueError):
        return None


def argument_key(value):
    """A fingerprint of an argument the call may change; None for what cannot be recorded
    (a random generator, a function): the check watches those itself."""
    loose = recordings.loose(value)
    if isinstance(loose, recordings.Opaque):
        return None
    return recordings.digest(loose)


def with_changes(passed, changed):
    """``passed`` with the recorded values of the changed arguments in their places."""
    if not changed:
        return passed
    values = list(passed)
    for position, value in changed.items():
        if not (isinstance(position, str) and position.isdigit() and position.isascii()):
            raise ReplayError("the transcript is incomplete")
        index = int(position)
        if not index < len(values):
            raise ReplayError("the transcript is incomplete")
        values[index] = copy.deepcopy(value)
    return tuple(values)


# --- exceptions: what a student's function raised, and the same again in the grader ------


def exception_record(error):
    kind = "timeout" if isinstance(error, TookTooLong) else type(error).__name__
    return [kind, str(error)[:TEXT_LIMIT]]


def rebuilt_exception(record):
    """An exception that ``framework.call`` describes as it described the student's."""
    if not (
        isinstance(record, list) and len(record) == 2 and all(isinstance(x, str) for x in record)
    ):
        raise ReplayError("the transcript is incomplete")
    name, text = record
    if name == "timeout":
        return TookTooLong()
    if name == "NotImplementedError":
        return NotImplementedError(text)
    builtin = (
        __builtins__.get(name)
        if isinstance(__builtins__, dict)
        else getattr(__builtins__, name, None)
    )
    base = builtin if isinstance(builtin, type) and issubclass(builtin, Exception) else Exception
    if not name.isidentifier():
        name = "Exception"
    return type(name, (base,), {"__str__": lambda self: text})()


# --- the current session: one check at a time ---------------------------------------------

SESSIONS = []


def current():
    """The session of the check that runs now (a fresh recording one outside any check)."""
    return SESSIONS[-1] if SESSIONS else Session()


@contextlib.contextmanager
def session(active):
    SESSIONS.append(active)
    try:
        yield active
    finally:
        SESSIONS.pop()


def observed(log=None):
    """Register ``log`` (a list) as what a check's helper sees inside student calls: recorded
    with each crossing in the kernel, filled from the transcript in the grader."""
    return current().observing([] if log is None else log)


# --- handing over -----------------------------------------------------------------------


def encode_transcript(transcript):
    return base64.b64encode(recordings.to_bytes(transcript)).decode()
