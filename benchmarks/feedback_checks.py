"""How long each feedback check takes: on the reference answer and on each wrong answer.

DESIGN.md asks for well under a second per check. Run: python -m benchmarks.feedback_checks
"""

import contextlib
import io
import statistics
import time

import problem_unittests
from tests.answers import REFERENCES, WRONG_ANSWERS

REPEATS = 5


def seconds(check, fn):
    """Median wall time of ``check(fn)`` over REPEATS runs, output and failures swallowed."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        with contextlib.suppress(AssertionError), contextlib.redirect_stdout(io.StringIO()):
            check(fn)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    print(f"{'check':<34}{'reference':>12}{'slowest wrong':>16}{'wrong answers':>15}")
    for exercise, reference in sorted(REFERENCES.items()):
        check = getattr(problem_unittests, f"test_{exercise}")
        wrong = [seconds(check, answer.fn) for answer in WRONG_ANSWERS[exercise]]
        print(
            f"{exercise:<34}{seconds(check, reference) * 1e3:>10.1f}ms"
            f"{max(wrong) * 1e3:>14.1f}ms{len(wrong):>15}"
        )


if __name__ == "__main__":
    main()
