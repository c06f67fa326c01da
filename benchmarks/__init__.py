"""Speed and accuracy scripts: ours against a reference, printed side by side."""

import time


def timed(fn, *args, repeats=3):
    """(fn(*args), the best wall time of ``repeats`` runs in seconds).

    The best run is the one least disturbed by other processes on the machine.
    """
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return result, min(times)
