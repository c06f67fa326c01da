"""Autograde throughput: ours (parallel, sandboxed) versus nbgrader's serial ``autograde``.

Both grade the same submissions of notebook 01 (full marks, realistic mistakes and blank
notebooks from the demo class) in two copies of one course, in one run; the grades must
agree. Prints submissions per minute for each, their ratio, and the mean seconds per
notebook in grading mode.
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

from courseadmin import democlass
from courseadmin.grading.autograde import Settings, autograde
from courseadmin.grading.course import Course
from courseadmin.grading.export import grade_table


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


def main(size=16, notebook="01_data_preparation"):
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        ours = Course(Path(tmp) / "ours")
        ours.add_assignment(notebook)
        ordinary_class(ours, notebook, size)
        serial = Course(Path(tmp) / "serial")
        for folder in ("source", "release", "submitted"):
            shutil.copytree(ours.root / folder, serial.root / folder)
        shutil.copy(ours.db_path, serial.db_path)

        start = time.perf_counter()
        outcomes = autograde(ours, [notebook], settings=Settings(), log=lambda *a: None)
        ours_seconds = time.perf_counter() - start

        start = time.perf_counter()
        scripts = Path(sys.executable).parent
        env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}"}
        subprocess.run(
            [scripts / "nbgrader", "autograde", notebook, "--force"],
            cwd=serial.root,
            env=env,
            check=True,
            capture_output=True,
        )
        serial_seconds = time.perf_counter() - start

        a = grade_table(ours).sort_values(["student", "question"]).reset_index(drop=True)
        b = grade_table(serial).sort_values(["student", "question"]).reset_index(drop=True)
        same = a.equals(b)
    per_notebook = sum(o.seconds for o in outcomes) / len(outcomes)
    print(f"{size} submissions of {notebook} on {os.cpu_count()} cores")
    print(f"{'':<28}{'seconds':>9}{'per minute':>12}")
    print(f"{'ours, parallel, sandboxed':<28}{ours_seconds:>9.1f}{size / ours_seconds * 60:>12.1f}")
    print(
        f"{'nbgrader autograde, serial':<28}{serial_seconds:>9.1f}"
        f"{size / serial_seconds * 60:>12.1f}"
    )
    print(f"throughput ratio ours/nbgrader: {serial_seconds / ours_seconds:.2f}")
    print(f"mean seconds per notebook in a worker (sandboxed execution): {per_notebook:.1f}")
    print(f"same grades, cell by cell: {same}")


if __name__ == "__main__":
    main(*(int(sys.argv[1]),) if len(sys.argv) > 1 else (), *sys.argv[2:3])
