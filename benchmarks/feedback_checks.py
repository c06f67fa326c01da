"""How long the feedback checks take: ``import problem_unittests``, then each check on the
reference answer and on its wrong answers, and a hidden seed's two halves (the kernel's run,
which records the transcript, and the grader's judgement, which runs the check again on it),
with the transcript's size.

DESIGN.md asks for well under a second per check (a Keras model build may take a few).
Run: python -m benchmarks.feedback_checks [exercise ...]
"""

import contextlib
import inspect
import io
import statistics
import subprocess
import sys
import time

import IPython.display

import problem_unittests
from pixelschool.checks.framework import CHECKS, RESULTS_MIME
from pixelschool_admin.answers import import_all
from pixelschool_admin.answers.registry import REFERENCES, WRONG_ANSWERS
from pixelschool_admin.authoring.record import HIDDEN_DIR, hidden_seeds
from pixelschool_admin.grading.record.hidden import hidden_cases, judge_results

REPEATS = 3


def import_seconds():
    """Wall time of ``import problem_unittests`` in a fresh interpreter (median of 3)."""
    code = "import time; t = time.perf_counter(); import problem_unittests; "
    code += "print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
        for _ in range(3)
    ]
    return statistics.median(runs)


def seconds(run):
    """Median wall time of ``run()`` over REPEATS runs, output and failures swallowed."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        with contextlib.suppress(AssertionError), contextlib.redirect_stdout(io.StringIO()):
            run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def hidden_halves(exercise, seed):
    """(kernel seconds, grader seconds, transcript kB) of the reference on a hidden seed."""
    shown = []
    display = IPython.display.display
    IPython.display.display = lambda data, raw=False: shown.append(data)
    try:
        check = getattr(problem_unittests, f"test_{exercise}")
        kernel = seconds(lambda: check(REFERENCES[exercise], seed=seed))
    finally:
        IPython.display.display = display
    bundle = next(data[RESULTS_MIME] for data in shown if RESULTS_MIME in data)
    cases = hidden_cases(exercise, seed, HIDDEN_DIR)
    source = inspect.getsource(REFERENCES[exercise])  # the rules on loops read it
    grader = seconds(lambda: judge_results(bundle, exercise, seed, source, cases))
    return kernel, grader, len(bundle["transcript"]) / 1e3


def main(only=()):
    import_all()
    print(f"import problem_unittests: {import_seconds() * 1e3:.0f} ms\n")
    seeds = hidden_seeds()
    header = f"{'check':<34}{'recorded':>9}{'reference':>12}{'slowest wrong':>15}"
    print(header + f"{'hidden: kernel':>16}{'grader':>10}{'transcript':>12}")
    for exercise in sorted(only or REFERENCES):
        check = getattr(problem_unittests, f"test_{exercise}")
        reference = seconds(lambda c=check, fn=REFERENCES[exercise]: c(fn))
        wrong = max(
            (seconds(lambda c=check, fn=a.fn: c(fn)) for a in WRONG_ANSWERS.get(exercise, [])),
            default=0.0,
        )
        recorded = CHECKS[exercise].judge is not None
        line = f"{exercise:<34}{'yes' if recorded else 'no':>9}"
        line += f"{reference * 1e3:>10.1f}ms{wrong * 1e3:>13.1f}ms"
        if seeds.get(exercise):
            kernel, grader, size = hidden_halves(exercise, seeds[exercise][0])
            line += f"{kernel * 1e3:>14.1f}ms{grader * 1e3:>8.1f}ms{size:>10.0f}kB"
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
