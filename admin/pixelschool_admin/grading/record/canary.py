"""The canary: each assignment's own solution, graded in the sandbox like a submission.

A canary short of full marks means the grading environment is broken (a sandbox that cannot
start a kernel, a missing dataset, a node without the kit's libraries): autograde stops with
the real cause, and no student is recorded. ``autograde`` runs one for each assignment on
each host before its students' results are recorded, and again when a kernel will not start.
"""

import nbformat

from pixelschool_admin.authoring.notebooks import cell_grade_id, is_test_cell
from pixelschool_admin.grading.cluster import engine
from pixelschool_admin.grading.errors import GradingError
from pixelschool_admin.grading.record.hidden import judge_notebook
from pixelschool_admin.grading.worker.task import read_files

CANARY = "pixelschool-canary"  # the student id its scratch course uses


def canary_tasks(course, assignments, hosts=(None,)):
    """``engine.Task``s that grade each assignment's own solution, once on each host."""
    return [
        engine.Task(
            name,
            CANARY,
            read_files(course.root / "source" / name),
            [],
            host=host,
            canary=True,
        )
        for name in sorted(assignments)
        for host in hosts
    ]


def raise_unless_full_marks(canaries):
    """``GradingError`` with the real cause unless each canary outcome has full marks."""
    causes = [
        f"{o.assignment} on {o.host or 'a worker'}: {c}"
        for o in canaries
        if (c := canary_shortfall(o))
    ]
    if causes:
        raise GradingError(
            "the assignment's own solution does not get full marks in the grading sandbox, "
            "so the grading environment is broken and no student was graded:\n" + "\n".join(causes)
        )


def canary_shortfall(outcome):
    """Why the canary did not get full marks, or '' when it did."""
    if outcome.refused:
        return outcome.refused
    if not outcome.ok:
        return outcome.kernel_failed or "; ".join(outcome.problems) or "it could not be graded"
    failing = []
    for _, data in sorted(outcome.executed.items()):
        for cell in judge_notebook(nbformat.reads(data.decode("utf-8"), 4)).cells:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if is_test_cell(cell) and errors:
                grade_id = cell_grade_id(cell)
                failing.append(f"{grade_id}: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    if not failing:
        return ""
    seen = "; ".join(f"{e.kind}: {e.detail}" for e in outcome.events)
    return f"{len(failing)} graded test cell(s) failed, first: {failing[0][:500]}" + (
        f" (the sandbox saw: {seen[:1000]})" if seen else ""
    )
