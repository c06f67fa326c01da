"""Autograde throughput: ours on Dask versus nbgrader's serial ``autograde``, side by side.

The same submissions of one notebook (full marks, realistic mistakes and blank notebooks
from the demo class), graded in copies of one course in one run: serial ``nbgrader
autograde``; ours on a local cluster of 1 and of 2 workers (warm kernels, the default), of
2 workers with cold kernels, and on a scheduler with two workers already running
(``tcp://``, their start-up not counted); and an unchanged rerun (the ledger skips
everything). The grades must agree with serial nbgrader's, cell by cell.

Per configuration: the whole run (seconds, submissions per minute, the ratio to serial
nbgrader); the steady state after the first quarter of the results (what a class of
thousands sees: submissions per minute, the ratio to serial, a worker's overhead per task
beyond the task itself); the start-up (cluster, canary, first task); seconds per task in
the workers and recording seconds per submission.
Run: python -m benchmarks.autograde [students] [notebook]   (default: 16 01_data_preparation)
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from distributed import Client

from pixelschool_admin import democlass
from pixelschool_admin.grading.cluster.loopback import Loopback
from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.results.export import grade_table
from pixelschool_admin.grading.settings import Settings

SCRIPTS = Path(sys.executable).parent


def ordinary_class(course, notebook, size):
    """``size`` students of the demo class who hand in full, partial or blank notebooks."""
    released = nbformat.read(course.path("release", ".", notebook) / f"{notebook}.ipynb", 4)
    rng = random.Random(0)
    kinds = ["full", "partial", "partial", "blank"]
    for number in range(size):
        student = democlass.Student(
            f"s{number:03d}", "S", str(number), str(number), kinds[number % 4]
        )
        nb = democlass.submission(student, notebook, released, course.root, rng, notebook)
        folder = course.path("submitted", student.id, notebook)
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{notebook}.ipynb")


def class_template(root, notebook, size):
    """A course at ``root`` with ``notebook`` released and ``ordinary_class`` handed in: the
    class every run of a benchmark copies."""
    template = Course(root)
    template.add_assignment(notebook)
    ordinary_class(template, notebook, size)
    return template


def copy_course(template, root):
    course = Course(root)
    for folder in ("source", "release", "submitted"):
        shutil.copytree(template.root / folder, course.root / folder)
    shutil.copy(template.db_path, course.db_path)
    return course


def grades(course):
    return grade_table(course).sort_values(["student", "question"]).reset_index(drop=True)


def serial_nbgrader(course, notebook):
    env = {**os.environ, "PATH": f"{SCRIPTS}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run(
        [SCRIPTS / "nbgrader", "autograde", notebook, "--force"],
        cwd=course.root,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def ours(course, notebook, cluster, workers, settings=None):
    """(seconds, figures) of our autograde on ``cluster`` with ``workers`` worker slots.

    Start-up is the time to the first recorded result (the cluster, the canary, the first
    task); the steady state: results per second from the end of the first quarter to the last.
    """
    arrivals = []
    start = time.perf_counter()
    outcomes = autograde(
        course,
        [notebook],
        settings=settings or Settings(),
        cluster=cluster,
        log=lambda *a: None,
        on_record=lambda outcome: arrivals.append(time.perf_counter()),
    )
    seconds = time.perf_counter() - start
    ran = [o for o in outcomes if not o.skipped]
    if not ran:
        return seconds, {"ran": 0}
    task = sum(o.seconds for o in ran) / len(ran)
    # After the first quarter of the results: those held until the canary passed are
    # recorded together, which would make the steady state look faster than it is.
    settled = arrivals[len(arrivals) // 4 :]
    interval = (settled[-1] - settled[0]) / (len(settled) - 1) if len(settled) > 1 else 0
    return seconds, {
        "ran": len(ran),
        "task": task,
        "start-up": arrivals[0] - start,
        "interval": interval,  # seconds between results, steady state
        "overhead": interval * workers - task,  # a worker's time per task not in the task
        "record": sum(o.timings.get("record", 0) for o in ran) / len(ran),
    }


def main(size=16, notebook="01_data_preparation"):
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        template = class_template(Path(tmp) / "template", notebook, size)
        serial = copy_course(template, Path(tmp) / "serial")
        serial_seconds = serial_nbgrader(serial, notebook)
        reference = grades(serial)
        rows.append(("nbgrader autograde, serial", serial_seconds, None, True))
        local = None
        for workers in (1, 2):
            local = copy_course(template, Path(tmp) / f"local{workers}")
            seconds, figures = ours(local, notebook, f"local:{workers}", workers)
            same = grades(local).equals(reference)
            rows.append((f"ours, local:{workers}", seconds, figures, same))
        cold = copy_course(template, Path(tmp) / "cold")
        seconds, figures = ours(cold, notebook, "local:2", 2, Settings(warm_kernels=False))
        rows.append(
            ("ours, local:2, cold kernels", seconds, figures, grades(cold).equals(reference))
        )
        scheduler = copy_course(template, Path(tmp) / "scheduler")
        with Loopback(2, tls=False) as running:  # started before the clock: already up
            with Client(running.address, timeout=60) as client:
                client.wait_for_workers(2, timeout=120)
            seconds, figures = ours(scheduler, notebook, running.address, 2)
        rows.append(
            (
                "ours, tcp:// running cluster, 2",
                seconds,
                figures,
                grades(scheduler).equals(reference),
            )
        )
        seconds, figures = ours(local, notebook, "local:2", 2)
        rows.append(
            ("ours, local:2, unchanged rerun", seconds, figures, grades(local).equals(reference))
        )
    print(f"{size} submissions of {notebook} on {os.cpu_count()} cores")
    print("whole run: seconds, submissions per minute, × serial; steady state (after the first")
    print("quarter of the results): submissions per minute, × serial, a worker's overhead per")
    print("task; start-up: seconds to the first result (cluster, canary, first task)")
    head = f"{'':<31}{'seconds':>8}{'/min':>9}{'×':>8}{'steady/min':>11}{'×':>6}{'task s':>7}"
    print(head + f"{'overhead s':>11}{'start-up s':>11}{'record s':>9}  same grades")
    per_notebook = serial_seconds / size
    for name, seconds, figures, same in rows:
        line = (
            f"{name:<31}{seconds:>8.1f}{size / seconds * 60:>9.1f}{serial_seconds / seconds:>8.2f}"
        )
        if figures is None:
            line += f"{60 / per_notebook:>11.1f}{1:>6.2f}{per_notebook:>7.2f}"
        elif figures["ran"] > 1:
            rate = 60 / figures["interval"]
            line += f"{rate:>11.1f}{per_notebook * rate / 60:>6.2f}{figures['task']:>7.2f}"
            line += f"{figures['overhead']:>11.2f}{figures['start-up']:>11.1f}"
            line += f"{figures['record']:>9.2f}"
        print(f"{line}  {same}")
    first = rows[2][1]  # local:2
    print(f"unchanged rerun / first run (local:2): {rows[-1][1] / first:.1%}")


if __name__ == "__main__":
    main(*(int(sys.argv[1]),) if len(sys.argv) > 1 else (), *sys.argv[2:3])
