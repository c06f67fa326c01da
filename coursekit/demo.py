"""The main job, ``make demo``: build the course and run every notebook as a student would.

The full demo (a class of submissions, graded) comes with the instructor pipeline;
this one builds the student notebooks, checks the course and executes each solution
notebook in fast mode, saving it with its outputs (``.ipynb`` and ``.html``) under
``demo/`` and printing what each step did.
"""

import time

import nbformat
from nbconvert import HTMLExporter

from coursekit.authoring.build import generate_student_versions
from coursekit.authoring.lint import check_course
from coursekit.config import NOTEBOOKS_DIR, REPO_ROOT, SOLUTIONS_DIR
from coursekit.execute import printed_text, run_notebook

OUT_DIR = REPO_ROOT / "demo"
SUCCESS = "\u2714"


def run_demo(out_dir=OUT_DIR):
    """Build, check and execute the course in fast mode; return a process exit code."""
    start = time.perf_counter()
    built = generate_student_versions(SOLUTIONS_DIR, NOTEBOOKS_DIR)
    print(f"built {len(built)} student notebooks from solutions/ into notebooks/")
    problems = check_course()
    for problem in problems:
        print(f"  problem: {problem}")
    print(f"course check: {len(problems)} problem(s)\n")
    out_dir.mkdir(exist_ok=True)
    rows = []
    for source in sorted(SOLUTIONS_DIR.glob("*.ipynb")):
        t0 = time.perf_counter()
        nb = run_notebook(source, fast=True)
        seconds = time.perf_counter() - t0
        nbformat.write(nb, out_dir / source.name)
        html, _ = HTMLExporter().from_notebook_node(nb)
        (out_dir / source.with_suffix(".html").name).write_text(html, encoding="utf-8")
        lines = [line for cell in nb.cells for line in printed_text(cell).splitlines()]
        passed = sum(line.startswith(SUCCESS) for line in lines)
        print(f"{source.stem}: {passed} checks passed in {seconds:.1f} s")
        for line in lines:
            if line.startswith("[fast mode]"):
                print(f"  {line}")
        rows.append((source.stem, passed, seconds))
    print(f"\n{'notebook':<24}{'checks passed':>14}{'seconds':>9}")
    for name, passed, seconds in rows:
        print(f"{name:<24}{passed:>14}{seconds:>9.1f}")
    print(f"\nexecuted notebooks (.ipynb and .html) are in {out_dir}")
    print(f"demo finished in {time.perf_counter() - start:.1f} s")
    return 1 if problems else 0
