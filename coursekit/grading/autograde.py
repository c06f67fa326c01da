"""Parallel, sandboxed autograding that records exactly what nbgrader's own would.

Two passes:

1. **Execute, in parallel.** Each submission is run by nbgrader's ``autograde`` in a private
   scratch course (a copy of the gradebook, the submission, a link to ``source/``), with
   ``SandboxedExecute`` in place of ``Execute``: one process per core, one sandboxed kernel
   each. Nothing in the course's own gradebook is written.
2. **Record, serially.** nbgrader's ``autograde`` runs on the course itself with
   ``ReplayExecution`` in place of ``Execute``: the same sanitising (locked cells restored
   from the gradebook), the same scoring, late penalties and gradebook writes as
   ``nbgrader autograde``, from one process, so concurrency never touches the gradebook.
   Manual grades and comments already entered survive, as they do with nbgrader.

Submissions nbgrader cannot read (not JSON, not a notebook) are kept beside themselves as
``<name>.ipynb.unreadable`` and graded as missing: zero, as nbgrader grades a missing file.
"""

import fcntl
import os
import shutil
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from tqdm.auto import tqdm

from coursekit.authoring.notebooks import NotebookError, read_notebook
from coursekit.grading.course import Course, GradingError
from coursekit.grading.preprocessors import ReplayExecution, SandboxedExecute
from coursekit.grading.sandbox import Limits, sandbox_problem

UNREADABLE_SUFFIX = ".unreadable"


def _after_execute(executor):
    return [
        executor,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]


@dataclass
class Outcome:
    """What happened to one submission (one student, one assignment)."""

    assignment: str
    student: str
    ok: bool = False
    seconds: float = 0.0
    problems: list = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """How submissions are executed."""

    timeout: int = 120  # seconds per cell
    limits: Limits = Limits()
    keras_home: str | None = None  # datasets the sandbox may read; None: the Keras cache


def set_aside_unreadable(course, assignment, student):
    """Rename submitted notebooks nbformat cannot read; return one problem line for each."""
    folder = course.path("submitted", student, assignment)
    for path in sorted(folder.glob("*.ipynb")):
        try:
            read_notebook(path)
        except NotebookError:
            path.replace(path.with_name(path.name + UNREADABLE_SUFFIX))
    kept = sorted(folder.glob("*.ipynb" + UNREADABLE_SUFFIX))
    names = [path.name.removesuffix(UNREADABLE_SUFFIX) for path in kept]
    return [
        f"{name}: not a readable notebook, graded as missing"
        for name in names
        if not (folder / name).exists()  # a later, readable submission is graded instead
    ]


def execute_submission(course_root, assignment, student, executed_root, settings):
    """Pass 1 for one submission, in a worker process. Returns an ``Outcome``."""
    start = time.perf_counter()
    outcome = Outcome(assignment, student)
    main = Path(course_root)
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-") as scratch:
        scratch = Path(scratch)
        (scratch / "source").symlink_to(main / "source")
        shutil.copy(main / "gradebook.db", scratch / "gradebook.db")
        shutil.copytree(
            main / "submitted" / student / assignment,
            scratch / "submitted" / student / assignment,
        )
        course = Course(
            scratch,
            Autograde={"autograde_preprocessors": _after_execute(SandboxedExecute)},
            Execute={"timeout": settings.timeout},
            SandboxedKernelManager=sandbox_config(settings),
        )
        try:
            result = course.api.autograde(assignment, student, force=True)
        except Exception:  # noqa: BLE001  (one bad submission never stops the batch)
            result = {"success": False, "log": traceback.format_exc()}
        if result["success"]:
            done = executed_root / student / assignment
            shutil.rmtree(done, ignore_errors=True)
            done.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(course.path("autograded", student, assignment), done)
            outcome.ok = True
        else:
            outcome.problems.append(f"execution failed: {last_error(result)}")
    outcome.seconds = time.perf_counter() - start
    return outcome


def sandbox_config(settings):
    """Settings as traitlets config for ``SandboxedKernelManager``."""
    config = {"memory": settings.limits.memory, "cpu_seconds": settings.limits.cpu_seconds}
    if settings.keras_home is not None:
        config["keras_home"] = settings.keras_home
    return config


def last_error(result):
    """The most telling line of a failed nbgrader API call."""
    text = result.get("error") or result.get("log") or ""
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors or lines or ["unknown error"])[-1].strip()


def record_grades(course, outcomes, executed_root):
    """Pass 2: nbgrader's autograde on the course, replaying pass 1's outputs, one by one."""
    course = Course(
        course.root,
        Autograde={"autograde_preprocessors": _after_execute(ReplayExecution)},
        ReplayExecution={"executed_root": str(executed_root)},
    )
    for outcome in outcomes:
        if outcome.ok:
            result = course.api.autograde(outcome.assignment, outcome.student, force=True)
            if not result["success"]:
                outcome.ok = False
                outcome.problems.append(f"recording failed: {last_error(result)}")
        if not outcome.ok:
            record_zero(course, outcome.assignment, outcome.student)


def record_zero(course, assignment, student):
    """Score zero for a submission nbgrader could not grade, as nbgrader scores a missing file."""
    with course.gradebook() as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.auto_score is None and grade.manual_score is None:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
        gb.db.commit()


def autograde(course, assignments=None, students=None, jobs=None, settings=Settings(), log=print):
    """Grade every submission of ``assignments`` (default: all) in parallel; return outcomes.

    ``students``: only these ids (default: all who submitted); ``jobs``: worker processes
    (default: the machine's cores).
    """
    problem = sandbox_problem()
    if problem:
        log(f"warning: no file or network sandbox, only resource limits: {problem}")
    tasks = []
    for assignment in assignments or course.assignments():
        for student in course.students(assignment):
            if students is None or student in students:
                tasks.append(Outcome(assignment, student))
    for task in tasks:
        task.problems += set_aside_unreadable(course, task.assignment, task.student)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks) or 1))
    executed_root = course.root / ".executed"
    with exclusive(course.root / ".autograde.lock"):
        outcomes = execute_all(course, tasks, jobs, settings, executed_root)
        # A worker that died takes the pool with it: its unfinished tasks get one more go.
        again = [t for t in tasks if outcomes[(t.assignment, t.student)].problems[-1:] == [DIED]]
        if again:
            outcomes.update(execute_all(course, again, jobs, settings, executed_root))
        ordered = [outcomes[(t.assignment, t.student)] for t in tasks]
        record_grades(course, ordered, executed_root)
        shutil.rmtree(executed_root, ignore_errors=True)
        write_log(course, ordered)
    return ordered


DIED = "the grading worker died"


def execute_all(course, tasks, jobs, settings, executed_root):
    """Pass 1 for ``tasks`` in a pool of ``jobs`` processes; {(assignment, student): Outcome}."""
    outcomes = {}
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        futures = {
            pool.submit(
                execute_submission, course.root, t.assignment, t.student, executed_root, settings
            ): t
            for t in tasks
        }
        for future in tqdm(as_completed(futures), total=len(futures), desc="autograde", unit="nb"):
            task = futures[future]
            try:
                done = future.result()
            except Exception:  # noqa: BLE001  (a broken pool: report, go on)
                done = Outcome(task.assignment, task.student, problems=[DIED])
            done.problems = task.problems + done.problems
            outcomes[(task.assignment, task.student)] = done
    return outcomes


@contextmanager
def exclusive(path):
    """Hold an exclusive lock on ``path``: one autograde per course at a time."""
    with open(path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GradingError(f"another autograde is running on this course ({path})") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_log(course, outcomes):
    """Add this run's outcomes to ``reports/autograde.csv`` (latest run per submission)."""
    path = course.root / "reports" / "autograde.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = pd.DataFrame(
        [
            {
                "assignment": o.assignment,
                "student": o.student,
                "graded": o.ok,
                "seconds": round(o.seconds, 1),
                "problems": "; ".join(o.problems),
            }
            for o in outcomes
        ],
        columns=["assignment", "student", "graded", "seconds", "problems"],
    )
    if path.exists():
        old = pd.read_csv(path, keep_default_na=False)
        rows = pd.concat([old, rows]).drop_duplicates(["assignment", "student"], keep="last")
    rows.to_csv(path, index=False)
