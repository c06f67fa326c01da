"""Autograde throughput: ours on Dask versus nbgrader's serial ``autograde``, side by side.

The same submissions of one notebook (full marks, realistic mistakes and blank notebooks
from the demo class), graded in copies of one course in one run: serial ``nbgrader
autograde``; ours on a local cluster of 1 and of 2 workers; ours through a scheduler and two
workers on loopback; and an unchanged rerun (the ledger skips everything). The grades must
agree with serial nbgrader's, cell by cell. Per configuration: seconds, submissions per
minute, the ratio to serial nbgrader, seconds per task in the workers, engine overhead per
task (worker time not spent in a task: cluster start, canary, transfers, waits) and
recording seconds per submission.
Run: python -m benchmarks.autograde [students] [notebook]   (default: 16 01_data_preparation)
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from courseadmin import democlass
from courseadmin.grading.autograde import Settings, autograde
from courseadmin.grading.course import Course
from courseadmin.grading.export import grade_table

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


def loopback_scheduler(folder, workers):
    """(address, processes): ``dask scheduler`` and ``dask worker``s on 127.0.0.1."""
    file = Path(folder) / "scheduler.json"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    dask = str(SCRIPTS / "dask")
    processes = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            + ["--scheduler-file", str(file)],
            start_new_session=True,
            **common,
        )
    ]
    while not (file.exists() and file.read_text().strip()):
        time.sleep(0.1)
    address = json.loads(file.read_text())["address"]
    for _ in range(workers):
        processes.append(
            subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1"]
                + ["--no-dashboard", "--memory-limit", "0"],
                start_new_session=True,
                **common,
            )
        )
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, processes


def stop(processes):
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(30)


def ours(course, notebook, cluster, workers):
    """(seconds, figures) of our autograde on ``cluster`` with ``workers`` worker slots."""
    start = time.perf_counter()
    outcomes = autograde(
        course, [notebook], settings=Settings(), cluster=cluster, log=lambda *a: None
    )
    seconds = time.perf_counter() - start
    ran = [o for o in outcomes if not o.skipped]
    work = sum(o.seconds for o in ran)
    return seconds, {
        "ran": len(ran),
        "task": work / len(ran) if ran else 0.0,
        "overhead": (seconds * workers - work) / len(ran) if ran else 0.0,
        "record": sum(o.timings.get("record", 0) for o in ran) / len(ran) if ran else 0.0,
    }


def main(size=16, notebook="01_data_preparation"):
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        template = Course(Path(tmp) / "template")
        template.add_assignment(notebook)
        ordinary_class(template, notebook, size)
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
        scheduler = copy_course(template, Path(tmp) / "scheduler")
        address, processes = loopback_scheduler(tmp, 2)
        try:
            seconds, figures = ours(scheduler, notebook, address, 2)
        finally:
            stop(processes)
        rows.append(
            ("ours, loopback scheduler, 2", seconds, figures, grades(scheduler).equals(reference))
        )
        seconds, figures = ours(local, notebook, "local:2", 2)
        rows.append(
            ("ours, local:2, unchanged rerun", seconds, figures, grades(local).equals(reference))
        )
    print(f"{size} submissions of {notebook} on {os.cpu_count()} cores")
    head = f"{'':<32}{'seconds':>8}{'per min':>9}{'× serial':>9}{'run':>5}"
    print(head + f"{'task s':>8}{'overhead s':>11}{'record s':>9}  same grades")
    for name, seconds, figures, same in rows:
        line = f"{name:<32}{seconds:>8.1f}{size / seconds * 60:>9.1f}"
        line += f"{serial_seconds / seconds:>9.2f}"
        if figures:
            line += f"{figures['ran']:>5}{figures['task']:>8.2f}{figures['overhead']:>11.2f}"
            line += f"{figures['record']:>9.2f}"
        else:
            line += f"{size:>5}{serial_seconds / size:>8.2f}{'':>11}{'':>9}"
        print(f"{line}  {same}")
    first = rows[2][1]
    print(f"unchanged rerun / first run (local:2): {rows[-1][1] / first:.1%}")


if __name__ == "__main__":
    main(*(int(sys.argv[1]),) if len(sys.argv) > 1 else (), *sys.argv[2:3])
