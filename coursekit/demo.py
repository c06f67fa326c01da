"""The main job, ``make demo``: build the course and run notebook 01 as a student would.

The full demo (a class of submissions, graded) comes with the instructor pipeline;
this one builds the student notebooks, checks the course and executes the solution of
notebook 01 in fast mode, printing what each step did.
"""

import time

import nbformat

from coursekit.authoring.build import generate_student_versions
from coursekit.authoring.lint import check_course
from coursekit.config import NOTEBOOKS_DIR, REPO_ROOT, SOLUTIONS_DIR
from coursekit.execute import printed_text, run_notebook

OUT_DIR = REPO_ROOT / "demo"


def run_demo(out_dir=OUT_DIR):
    """Build, check and execute the course in fast mode; return a process exit code."""
    start = time.perf_counter()
    built = generate_student_versions(SOLUTIONS_DIR, NOTEBOOKS_DIR)
    print(f"built {len(built)} student notebook(s) from solutions/ into notebooks/")
    problems = check_course()
    for problem in problems:
        print(f"  problem: {problem}")
    print(f"course check: {len(problems)} problem(s)")
    out_dir.mkdir(exist_ok=True)
    for source in sorted(SOLUTIONS_DIR.glob("*.ipynb")):
        t0 = time.perf_counter()
        nb = run_notebook(source, fast=True)
        nbformat.write(nb, out_dir / source.name)
        print(
            f"\nexecuted {source.relative_to(REPO_ROOT)} in fast mode "
            f"({time.perf_counter() - t0:.1f} s), saved with outputs to "
            f"{out_dir.name}/{source.name}"
        )
        for cell in nb.cells:
            for line in printed_text(cell).splitlines():
                print(f"  | {line}")
    print(f"\ndemo finished in {time.perf_counter() - start:.1f} s")
    return 1 if problems else 0
