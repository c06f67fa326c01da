"""Offer every function a student can import to every feedback check: none may pass.

Used by ``tests/runtime/test_student_install.py`` and runnable on its own (it prints the leaks):
``python -m tests.leaks``. A function "passes" when a check, run with its visible seed,
prints its success line for it.
"""

import contextlib
import importlib
import inspect
import io
import os
import pkgutil
import signal
import sys
import tempfile

STUDENT_PACKAGES = ("pixelschool", "problem_unittests")
# Functions whose call has effects outside the process are not offered (all are loaders
# of datasets or writers of files, which match no exercise's signature).
SKIPPED_NAMES = {"download", "fetch", "atomic_write", "main"}
PER_CHECK_SECONDS = 20


def student_modules():
    """Every module of the student runtime, imported."""
    modules = []
    for top in STUDENT_PACKAGES:
        module = importlib.import_module(top)
        modules.append(module)
        if hasattr(module, "__path__"):
            for info in pkgutil.walk_packages(module.__path__, prefix=f"{top}."):
                modules.append(importlib.import_module(info.name))
    return modules


def student_functions():
    """``{qualified name: function}`` of every function and method the runtime defines."""
    found = {}
    for module in student_modules():
        for name, value in vars(module).items():
            candidates = [(name, value)]
            if inspect.isclass(value) and value.__module__ == module.__name__:
                candidates += [(f"{name}.{k}", v) for k, v in vars(value).items()]
            for qualname, fn in candidates:
                fn = getattr(fn, "__func__", fn)  # staticmethod, classmethod
                if (
                    inspect.isfunction(fn)
                    and fn.__module__ == module.__name__
                    and fn.__name__ not in SKIPPED_NAMES
                    and not fn.__name__.startswith("test_")
                ):
                    found[f"{module.__name__}.{qualname}"] = fn
    return found


class Stuck(BaseException):
    pass


@contextlib.contextmanager
def deadline(seconds):
    def stop(signum, frame):
        raise Stuck()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def passes(check, fn):
    """True when ``check`` (``tests.test_<name>``) accepts ``fn``."""
    out = io.StringIO()
    try:
        with deadline(PER_CHECK_SECONDS), contextlib.redirect_stdout(out):
            with contextlib.redirect_stderr(io.StringIO()):
                check(fn)
    except (Exception, Stuck):  # noqa: BLE001  (failing in any way is the expected outcome)
        return False
    return "all tests passed" in out.getvalue()


def leaks():
    """``[(check name, function name)]`` for every function that passes a check."""
    import problem_unittests
    from pixelschool.checks.framework import CHECKS

    functions = student_functions()
    found = []
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # what a function writes lands here
        try:
            for exercise in sorted(CHECKS):
                check = getattr(problem_unittests, f"test_{exercise}")
                found += [
                    (exercise, name) for name, fn in sorted(functions.items()) if passes(check, fn)
                ]
        finally:
            os.chdir(cwd)
    return found


if __name__ == "__main__":
    os.environ.setdefault("COURSE_FAST", "1")
    offered = student_functions()
    found = leaks()
    for exercise, name in found:
        print(f"{name} passes the check of {exercise}")
    print(f"{len(found)} leak(s): {len(offered)} functions offered to each check")
    sys.exit(1 if found else 0)
