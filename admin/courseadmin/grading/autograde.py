"""Parallel, sandboxed autograding that records exactly what nbgrader's own would.

Two passes:

1. **Execute, in parallel.** Each submission is run by nbgrader's ``autograde`` in a private
   scratch course (a copy of the gradebook, the submission, a link to ``source/``), with
   ``SandboxedExecute`` in place of ``Execute``: one process per core, one sandboxed kernel
   each. Nothing in the course's own gradebook is written.
2. **Record, serially.** nbgrader's ``autograde`` runs on the course itself with
   ``ReplayExecution`` in place of ``Execute``, then ``JudgeHiddenResults``, which judges
   the hidden tests' results against expectations that never enter a student's kernel
   (``hidden.py``): the same sanitising (locked cells restored from the gradebook), the
   same scoring, late penalties and gradebook writes as
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
from traitlets.config import Config

from courseadmin.authoring.notebooks import (
    NotebookError,
    is_test_cell,
    nbgrader_meta,
    read_notebook,
)
from courseadmin.grading import events, incidents, manual
from courseadmin.grading.course import Course, GradingError
from courseadmin.grading.hidden import JudgeHiddenResults, judge_notebook
from courseadmin.grading.preprocessors import KernelStartError, ReplayExecution, SandboxedExecute
from courseadmin.grading.sandbox import Limits, protections, sandbox_problem

UNREADABLE_SUFFIX = ".unreadable"
SANDBOX_LOG = "sandbox.csv"  # the protections in force at the last autograde


def _after_execute(*executors):
    return [
        *executors,
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
    events: list = field(default_factory=list)  # events.Event, for the report
    folder: str | None = None  # the submission, if not submitted/<student>/<assignment>
    kernel_failed: str = ""  # the real cause, when the kernel did not even start


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


def execute_submission(course_root, assignment, student, executed_root, settings, folder=None):
    """Pass 1 for one submission, in a worker process. Returns an ``Outcome``.

    ``folder``: the submission (default: ``submitted/<student>/<assignment>``); the canary
    passes the assignment's own source folder.
    """
    start = time.perf_counter()
    outcome = Outcome(assignment, student)
    main = Path(course_root)
    folder = Path(folder or main / "submitted" / student / assignment)
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-") as scratch:
        scratch = Path(scratch)
        (scratch / "source").symlink_to(main / "source")
        shutil.copy(main / "gradebook.db", scratch / "gradebook.db")
        shutil.copytree(folder, scratch / "submitted" / student / assignment)
        logs = {name: str(scratch / f"{name}.log") for name in ("incident", "activity", "kernel")}
        course = Course(
            scratch,
            Autograde={"autograde_preprocessors": _after_execute(SandboxedExecute)},
            Execute={"timeout": settings.timeout},
            SandboxedExecute={"incident_log": logs["incident"]},
            SandboxedKernelManager={
                **sandbox_config(settings),
                "activity_log": logs["activity"],
                "stderr_log": logs["kernel"],
            },
        )
        try:
            result = course.api.autograde(assignment, student, force=True)
        except Exception:  # noqa: BLE001  (one bad submission never stops the batch)
            result = {"success": False, "log": traceback.format_exc()}
        executed = course.path("autograded", student, assignment)
        outcome.events = [
            *incidents.incident_events(logs["incident"], assignment, student),
            *incidents.watch_events(
                logs["activity"], assignment, student, sandbox_problem() is None
            ),
            *incidents.limit_events(executed, assignment, student),
        ]
        if result["success"]:
            done = executed_root / student / assignment
            shutil.rmtree(done, ignore_errors=True)
            done.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(executed, done)
            outcome.ok = True
        else:
            outcome.problems.append(f"execution failed: {last_error(result)}")
            if KernelStartError.__name__ in (result.get("log") or ""):
                outcome.kernel_failed = start_failure(result.get("log"))
    outcome.seconds = time.perf_counter() - start
    return outcome


def start_failure(log):
    """The ``KernelStartError`` message (with the kernel's standard error) out of a log."""
    marker = KernelStartError.__name__ + ":"
    text = log[log.rindex(marker) + len(marker) :] if marker in log else log
    return text.strip()[:3000]


def sandbox_config(settings):
    """Settings as traitlets config for ``SandboxedKernelManager``."""
    limits = settings.limits
    config = {
        "memory": limits.memory,
        "cpu_seconds": limits.cpu_seconds,
        "processes": limits.processes,
        "disk": limits.disk,
    }
    if settings.keras_home is not None:
        config["keras_home"] = settings.keras_home
    return config


def last_error(result):
    """The most telling line of a failed nbgrader API call."""
    text = result.get("error") or result.get("log") or ""
    # nbgrader ends its log with "NbGraderException: Please see the above traceback": the
    # cause is the error line before that.
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and "NbGraderException" not in line and "Please see the" not in line
    ]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors or lines or ["unknown error"])[-1].strip()


def record_grades(course, outcomes, executed_root):
    """Pass 2: nbgrader's autograde on the course, replaying pass 1's outputs, one by one.

    Manual grades are settled around each recording (``manual``): kept and unflagged where
    the answer is unchanged, flagged as stale (an event) where it changed.
    """
    # The caller's settings (late penalty plugin, ...) hold for the recording too.
    settings = {k: dict(v) for k, v in course.config.items() if isinstance(v, Config)}
    settings["Autograde"] = {
        **settings.get("Autograde", {}),
        "autograde_preprocessors": _after_execute(ReplayExecution, JudgeHiddenResults),
    }
    settings["ReplayExecution"] = {"executed_root": str(executed_root)}
    course = Course(course.root, **settings)
    for outcome in outcomes:
        assignment, student = outcome.assignment, outcome.student
        if outcome.ok:
            before = manual.snapshot(course, assignment, student)
            result = course.api.autograde(assignment, student, force=True)
            if result["success"]:
                stale = manual.settle(course, assignment, student, before)
                events.replace(course, "record", assignment, stale, students=[student])
            else:
                outcome.ok = False
                outcome.problems.append(f"recording failed: {last_error(result)}")
        if not outcome.ok:
            record_zero(course, assignment, student)


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
    (default: the machine's cores). Each assignment's own solution is graded first in the
    same sandbox (the canary): if it falls short of full marks, ``GradingError`` says why and
    no student is touched.
    """
    guards = protections(settings.limits)
    for name, in_force, how in guards:
        if not in_force:
            log(f"warning: {name}: {how}")
    sandbox_log = course.root / "reports" / SANDBOX_LOG
    sandbox_log.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(guards, columns=["protection", "in force", "how"]).to_csv(sandbox_log, index=False)
    assignments = list(assignments or course.assignments())
    tasks = []
    for assignment in assignments:
        for student in course.students(assignment):
            if students is None or student in students:
                tasks.append(Outcome(assignment, student))
    jobs = max(1, min(jobs or os.cpu_count() or 1, max(len(tasks), len(assignments), 1)))
    executed_root = course.root / ".executed"
    with exclusive(course.root / ".autograde.lock"):
        try:
            check_canaries(course, {t.assignment for t in tasks}, jobs, settings, executed_root)
            for task in tasks:
                task.problems += set_aside_unreadable(course, task.assignment, task.student)
            outcomes = execute_all(course, tasks, jobs, settings, executed_root)
            # A worker that died takes the pool with it: its unfinished tasks get one more go.
            again = [
                t for t in tasks if outcomes[(t.assignment, t.student)].problems[-1:] == [DIED]
            ]
            if again:
                outcomes.update(execute_all(course, again, jobs, settings, executed_root))
            ordered = [outcomes[(t.assignment, t.student)] for t in tasks]
            failed_to_start = {o.assignment for o in ordered if o.kernel_failed}
            if failed_to_start:
                # A kernel that would not start: the environment again, or this submission?
                check_canaries(course, failed_to_start, jobs, settings, executed_root)
            record_grades(course, ordered, executed_root)
        finally:
            shutil.rmtree(executed_root, ignore_errors=True)
        write_log(course, ordered)
        record_events(course, ordered, assignments)
    return ordered


CANARY = "coursekit-canary"


def check_canaries(course, assignments, jobs, settings, executed_root):
    """Grade each assignment's own solution in the sandbox; raise ``GradingError`` unless
    every autograded test passes, with the real cause (kernel error, failing cells)."""
    if not assignments:
        return
    root = executed_root / "canary"
    tasks = [
        Outcome(name, CANARY, folder=str(course.root / "source" / name))
        for name in sorted(assignments)
    ]
    outcomes = execute_all(course, tasks, jobs, settings, root, desc="canary")
    causes = [
        f"{task.assignment}: {cause}"
        for task in tasks
        if (cause := canary_shortfall(outcomes[(task.assignment, CANARY)], root))
    ]
    shutil.rmtree(root, ignore_errors=True)
    if causes:
        raise GradingError(
            "the assignment's own solution does not get full marks in the grading sandbox, "
            "so the grading environment is broken and no student was graded:\n" + "\n".join(causes)
        )


def canary_shortfall(outcome, root):
    """Why the canary did not get full marks, or '' when it did."""
    if not outcome.ok:
        return outcome.kernel_failed or "; ".join(outcome.problems) or "it could not be graded"
    failing = []
    for path in sorted((root / CANARY / outcome.assignment).glob("*.ipynb")):
        for cell in judge_notebook(read_notebook(path)).cells:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if is_test_cell(cell) and errors:
                grade_id = nbgrader_meta(cell).get("grade_id")
                failing.append(f"{grade_id}: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    if not failing:
        return ""
    seen = "; ".join(f"{e.kind}: {e.detail}" for e in outcome.events)
    return f"{len(failing)} graded test cell(s) failed, first: {failing[0][:500]}" + (
        f" (the sandbox saw: {seen[:1000]})" if seen else ""
    )


def record_events(course, outcomes, assignments):
    """Replace each graded submission's ``autograde`` events in ``reports/events.csv``, and
    each assignment's list of ``submitted/`` folders whose name is no student id."""
    by_assignment = {
        assignment: (
            [
                events.Event("autograde", assignment, "", "refused id", f"submitted/{name}: {why}")
                for name, why in course.refused_folders(assignment)
            ],
            {""},
        )
        for assignment in assignments
    }
    for outcome in outcomes:
        found = list(outcome.events)
        unreadable = any("not a readable notebook" in p for p in outcome.problems)
        for problem in outcome.problems:
            if unreadable and problem.startswith("execution failed"):
                continue  # no notebook left to run: said by the "unreadable" line
            kind = "unreadable" if "not a readable notebook" in problem else "execution failed"
            found.append(
                events.Event("autograde", outcome.assignment, outcome.student, kind, problem)
            )
        by_assignment.setdefault(outcome.assignment, ([], {""}))
        by_assignment[outcome.assignment][0].extend(found)
        by_assignment[outcome.assignment][1].add(outcome.student)
    for assignment, (found, students) in by_assignment.items():
        events.replace(course, "autograde", assignment, found, students=students)


DIED = "the grading worker died"


def execute_all(course, tasks, jobs, settings, executed_root, desc="autograde"):
    """Pass 1 for ``tasks`` in a pool of ``jobs`` processes; {(assignment, student): Outcome}."""
    outcomes = {}
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        futures = {
            pool.submit(
                execute_submission,
                course.root,
                t.assignment,
                t.student,
                executed_root,
                settings,
                t.folder,
            ): t
            for t in tasks
        }
        for future in tqdm(as_completed(futures), total=len(futures), desc=desc, unit="nb"):
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
