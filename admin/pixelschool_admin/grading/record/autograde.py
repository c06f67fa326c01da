"""Sandboxed autograding on the Dask engine that records exactly what nbgrader's own would.

Two passes, overlapped:

1. **Execute, anywhere.** Each submission is sent as bytes to a Dask worker (``engine.py``:
   this machine's cores, a scheduler's workers, or batch jobs), which runs nbgrader's
   ``autograde`` in a private scratch course with ``SandboxedExecute`` in place of
   ``Execute`` and sends the executed notebooks back (``task.py``). Nothing in the course's
   own folder is read or written there.
2. **Record, one by one, as results arrive.** nbgrader's ``autograde`` runs on the course
   itself with ``ReplayExecution`` in place of ``Execute``, then ``JudgeHiddenResults``,
   which judges the hidden tests' results against expectations that never enter a student's
   kernel (``hidden.py``), then ``SanitiseNotebook``, which removes active content before
   ``autograded/`` holds it (``sanitise.py``): the same sanitising (locked cells restored
   from the gradebook), the same scoring, late penalties and gradebook writes as ``nbgrader
   autograde``, from this process only, so concurrency never touches the gradebook. Manual
   grades and comments already entered survive, as they do with nbgrader.

Each submission is read once, when the run is planned (``submission.py``); each recorded one
enters the ledger (``ledger.py``): a rerun grades only what changed and an interrupted run
resumes. Notebooks nbgrader cannot read, or too big, are graded as missing.
Each notebook runs within a time budget (``caps.py``): one set by ``Settings``, or ten times
its assignment's canary plus a minute; students sent before the canary finished run under
``SandboxedExecute``'s default, and run again under the canary's budget if that cut them.
"""

import fcntl
import os
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace

import pandas as pd
from nbgrader.api import MissingEntry
from traitlets.config import Config

from pixelschool_admin.grading import events, incidents
from pixelschool_admin.grading.cluster import engine
from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.errors import GradingError
from pixelschool_admin.grading.intake import integrity, names
from pixelschool_admin.grading.record import manual
from pixelschool_admin.grading.record.canary import canary_tasks, raise_unless_full_marks
from pixelschool_admin.grading.record.ledger import Ledger
from pixelschool_admin.grading.record.submission import Submission
from pixelschool_admin.grading.sandbox.bubblewrap import protections
from pixelschool_admin.grading.settings import REPLAY_EXECUTION, Settings, autograde_chain
from pixelschool_admin.grading.worker.caps import canary_budget, problem_kind
from pixelschool_admin.grading.worker.task import last_error, make_bundle, read_files


class Recorder:
    """Pass 2, one submission at a time: nbgrader's autograde on the course, replaying the
    executed notebooks. Manual grades are settled around each recording (``manual``): kept
    and unflagged where the answer is unchanged, flagged as stale where it changed."""

    def __init__(self, course):
        # The caller's settings (late penalty plugin, ...) hold for the recording too.
        settings = {k: dict(v) for k, v in course.config.items() if isinstance(v, Config)}
        settings["Autograde"] = {
            **settings.get("Autograde", {}),
            "autograde_preprocessors": autograde_chain(REPLAY_EXECUTION),
        }
        self.executed_root = course.root / ".executed"
        # what the judge refused and the sanitiser removed: JSON lines, one file per recording
        self.recording_log = self.executed_root / "recording.jsonl"
        settings["ReplayExecution"] = {"executed_root": str(self.executed_root)}
        for name in ("JudgeHiddenResults", "SanitiseNotebook"):
            settings[name] = {**settings.get(name, {}), "incident_log": str(self.recording_log)}
        self.course = Course(course.root, **settings)
        # assignment -> ([stale manual grade events], {students recorded}): events.replace_all's
        self.stale = {}
        self.seconds = 0.0

    def record(self, outcome):
        start = time.perf_counter()
        course, assignment, student = self.course, outcome.assignment, outcome.student
        stale, recorded = self.stale.setdefault(assignment, ([], set()))
        recorded.add(student)
        if outcome.ok:
            folder = self.executed_root / student / assignment
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for name, data in outcome.executed.items():
                (folder / name).write_bytes(data)
            before = manual.snapshot(course, assignment, student)
            self.recording_log.unlink(missing_ok=True)
            result = course.api.autograde(assignment, student, force=True)
            shutil.rmtree(folder, ignore_errors=True)
            outcome.events += incidents.incident_events(self.recording_log, assignment, student)
            if result["success"]:
                stale += manual.settle(course, assignment, student, before)
            else:
                outcome.ok = False
                outcome.problems.append(f"recording failed: {last_error(result)}")
        if not outcome.ok:
            record_zero(course, assignment, student)
        write_kernel_log(course, outcome)
        outcome.executed = {}  # recorded: the bytes are in autograded/ now
        outcome.timings["record"] = time.perf_counter() - start
        self.seconds += outcome.timings["record"]

    def close(self):
        """Write the stale manual grades' events of what was recorded."""
        events.replace_all(self.course, "record", self.stale)
        shutil.rmtree(self.executed_root, ignore_errors=True)


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


def autograde(
    course,
    assignments=None,
    students=None,
    jobs=None,
    settings=None,
    log=print,
    cluster=None,
    force=False,
    on_record=None,
):
    """Grade the submissions of ``assignments`` (default: all); return their outcomes.

    ``students``: only these ids (default: all who submitted); ``cluster``: where they run
    (``engine.parse``; default ``local:<jobs or cores>``); ``force``: regrade submissions the
    ledger holds unchanged; ``on_record(outcome)``: called after each recording. Each
    assignment's own solution is graded in the same sandbox on each host, ahead of the
    students (``canary.py``): if it falls short of full marks, ``GradingError`` says why and
    no student is recorded.
    """
    cluster = cluster or f"local:{jobs or os.cpu_count() or 1}"
    settings = settings or Settings()
    assignments = list(assignments or course.assignments())
    submitted = {assignment: course.submitted(assignment) for assignment in assignments}
    tasks = [
        (assignment, student)
        for assignment, (found, _) in submitted.items()
        for student in found
        if students is None or student in students
    ]
    with exclusive(course.root / ".autograde.lock"):
        ledger = Ledger(course)
        todo, outcomes = plan(course, ledger, tasks, settings, force)
        scan_integrity(course, todo)
        log(f"{len(tasks)} submission(s): {len(todo)} to grade, {len(outcomes)} unchanged")
        recorder, refused, started = None, [], time.perf_counter()
        try:
            if todo:
                with engine.connect(cluster, course.config, log) as grid:
                    write_protections(course, grid, settings, log)
                    if grid.local:  # the instructor's own machine: warned, as ever
                        settings = replace(settings, allow_unprotected=True)
                    run = ClassRun(course, grid, settings, ledger, todo, outcomes, on_record)
                    recorder, refused = run.recorder, run.refused
                    run.grade()
        finally:
            if recorder is not None:
                recorder.close()
            ledger.close()
            ordered = [outcomes[t] for t in tasks if t in outcomes]
            write_log(course, ordered)
            not_ids = {assignment: why for assignment, (_, why) in submitted.items()}
            record_events(course, ordered, not_ids)
    summary(ordered, recorder, time.perf_counter() - started, log)
    if refused:
        nodes = sorted({o.refused for o in refused})
        raise GradingError(
            f"{len(refused)} submission(s) not graded: refused by a node without a sandbox "
            f"({'; '.join(nodes)}). Fix the node (or allow it with --allow-unprotected) and "
            "run autograde again: it grades only those."
        )
    return ordered


class ClassRun:
    """The submissions ``todo`` on a connected engine: each assignment's canary first, on
    each host; the students after them start at once, but none is recorded until every
    canary has full marks. Recorded outcomes go into ``outcomes``."""

    def __init__(self, course, grid, settings, ledger, todo, outcomes, on_record=None):
        self.course, self.grid, self.settings, self.ledger = course, grid, settings, ledger
        self.todo, self.outcomes, self.on_record = todo, outcomes, on_record
        self.recorder, self.refused, self.rechecked, self.bundles = Recorder(course), [], set(), {}
        self.tasks = {}  # (assignment, student) -> its engine.Task
        self.budgets = {}  # assignment -> seconds per notebook, from its canaries
        self.canary_seconds = {}  # assignment -> the slowest of its canaries so far
        self.provisional = set()  # (assignment, student) sent before its budget was known
        self.again = []  # provisional tasks the budget would have cut: run again under it

    def bundle(self, name):
        """The scattered bundle of assignment ``name``, made once (it copies the gradebook)."""
        if name not in self.bundles:
            self.bundles[name] = make_bundle(self.course, name)
        return self.grid.bundle(name, lambda: self.bundles[name])

    def settings_for(self, task):
        """The settings ``task`` is sent with: its assignment's budget once its canaries are
        in (``Settings.notebook_timeout`` None), else the run's (noted as provisional)."""
        if task.canary or self.settings.notebook_timeout is not None:
            return self.settings
        key = (task.assignment, task.student)
        if task.assignment not in self.budgets:
            self.provisional.add(key)
            return self.settings
        self.provisional.discard(key)
        return replace(self.settings, notebook_timeout=self.budgets[task.assignment])

    def grade(self):
        canaries = canary_tasks(self.course, {a for a, _ in self.todo}, self.grid.hosts())
        waiting, held = len(canaries), []
        work = canaries + self.student_tasks()
        for task, outcome in self.grid.run(work, self.bundle, self.settings_for, "autograde"):
            if task.canary:
                raise_unless_full_marks([outcome])
                seconds = outcome.timings.get("autograde", 0.0)
                slowest = max(seconds, self.canary_seconds.get(task.assignment, 0.0))
                self.canary_seconds[task.assignment] = slowest
                waiting -= 1
                if not waiting:
                    self.budgets = {a: canary_budget(s) for a, s in self.canary_seconds.items()}
                    for waited in held:
                        self.take(waited)
            elif waiting:
                held.append(outcome)
            else:
                self.take(outcome)
        if self.again:
            again, self.again = self.again, []
            for _, outcome in self.grid.run(again, self.bundle, self.settings_for, "again"):
                self.take(outcome)

    def cut_by_budget(self, outcome):
        """Would its budget have cut ``outcome``, sent before it was known? (It ran longer, or
        the run's own default cut it.)"""
        if (outcome.assignment, outcome.student) not in self.provisional:
            return False
        ran = outcome.timings.get("autograde", 0.0)  # its cells' time, and a little more
        cut = any(event.kind == "time budget" for event in outcome.events)
        return cut or ran > self.budgets[outcome.assignment]

    def student_tasks(self):
        """``engine.Task``s for the submissions ``todo``: nothing is read or written here."""
        tasks = []
        for submission in self.todo.values():
            files = submission.worker_files()
            task = engine.Task(
                submission.assignment, submission.student, files, submission.problems()
            )
            self.tasks[(submission.assignment, submission.student)] = task
            tasks.append(task)
        return tasks

    def take(self, outcome):
        """Record one student's outcome (or set it aside as refused by its node)."""
        if outcome.refused:
            self.refused.append(outcome)
            return
        if self.cut_by_budget(outcome):
            self.again.append(self.tasks[(outcome.assignment, outcome.student)])
            return
        if outcome.kernel_failed and outcome.assignment not in self.rechecked:
            # A kernel that would not start: the environment, or the student?
            self.rechecked.add(outcome.assignment)
            tasks = canary_tasks(self.course, {outcome.assignment})
            ran = self.grid.run(tasks, self.bundle, self.settings_for, desc="canary")
            raise_unless_full_marks([canary for _, canary in ran])
        if outcome.unprotected and not self.grid.local:
            outcome.events.append(unprotected_event(outcome))
        name = (outcome.assignment, outcome.student)
        submission = self.todo[name]
        submission.set_aside()
        self.recorder.record(outcome)
        self.ledger.enter(outcome, submission.key)
        self.outcomes[name] = outcome
        submission.release()
        self.tasks[name].files = {}
        if self.on_record:
            self.on_record(outcome)


def plan(course, ledger, tasks, settings, force):
    """({(assignment, student): Submission} to grade, {(assignment, student): ledger outcome}
    not): each submission read once, keyed, and its notebooks checked if it is graded."""
    todo, unchanged = {}, {}
    sources, duedates, in_gradebook, known = {}, {}, {}, {}
    with course.gradebook() as gb:
        for assignment in {a for a, _ in tasks}:
            try:
                duedates[assignment] = gb.find_assignment(assignment).duedate
                found = gb.assignment_submissions(assignment)
            except MissingEntry:
                duedates[assignment], found = None, []
            in_gradebook[assignment] = {s.student.id for s in found}
    for assignment, student in tasks:
        if assignment not in sources:
            sources[assignment] = read_files(course.root / "source" / assignment)
            known[assignment] = ledger.keys(assignment)
        submission = Submission.read(course, assignment, student)
        submission.plan(sources[assignment], settings, duedates[assignment])
        same = known[assignment].get(student) == submission.key
        if same and not force and student in in_gradebook[assignment]:
            outcome = ledger.outcome(assignment, student)
            if outcome is not None:
                unchanged[(assignment, student)] = outcome
                continue
        submission.check(settings)
        todo[(assignment, student)] = submission
    return todo, unchanged


def scan_integrity(course, todo):
    """The tamper scan of the submissions ``todo`` (``Submission``s), on the bytes read once,
    as ``integrity`` events; those of unchanged submissions stay."""
    released, found = {}, {}
    for (assignment, student), submission in todo.items():
        if assignment not in released:
            released[assignment] = integrity.released_notebooks(course, assignment)
        said, students = found.setdefault(assignment, ([], set()))
        said += integrity.events_of(integrity.scan_submission(submission, released[assignment]))
        students.add(student)
    events.replace_all(course, "integrity", found)


def write_protections(course, grid, settings, log):
    """``reports/sandbox.csv``: the protections in force on every worker (the weakest)."""
    found = grid.run_everywhere(protections, settings.limits)
    rows = {}
    for worker, guards in sorted(found.items()):
        for name, in_force, how in guards:
            row = rows.setdefault(name, [name, True, how, []])
            if not in_force:
                row[1], row[2] = False, how
                row[3].append(worker)
    table = []
    for name, in_force, how, missing in rows.values():
        if not in_force:
            where = "" if grid.local else f" (on {len(missing)} of {len(found)} workers)"
            log(f"warning: {name}: {how}{where}")
        table.append((name, in_force, how))
    path = course.report_path("sandbox.csv")
    pd.DataFrame(table, columns=["protection", "in force", "how"]).to_csv(path, index=False)


def unprotected_event(outcome):
    detail = f"graded on {outcome.host} without a sandbox: {outcome.unprotected}"
    return events.Event("autograde", outcome.assignment, outcome.student, "unprotected", detail)


def summary(outcomes, recorder, seconds, log):
    """One line of figures for the run, and one of submissions per worker."""
    ran = [o for o in outcomes if not o.skipped]
    if not ran:
        return
    per_worker = Counter(o.worker or o.host or "?" for o in ran)
    work = sum(o.seconds for o in ran)
    recording = recorder.seconds if recorder else 0.0
    log(
        f"graded {len(ran)} in {seconds:.1f} s ({len(ran) / seconds * 60:.1f} per minute): "
        f"{work / len(ran):.2f} s per submission in the workers, "
        f"{recording / len(ran):.2f} s recording; "
        f"{len(outcomes) - len(ran)} unchanged, not run"
    )
    log("per worker: " + ", ".join(f"{w} {n}" for w, n in sorted(per_worker.items())))
    kernels = Counter(o.kernels or "cold" for o in ran)
    log("kernels: " + ", ".join(f"{n} {how}" for how, n in kernels.most_common()))


def record_events(course, outcomes, refused):
    """Replace each graded submission's ``autograde`` events in ``reports/events.csv``, and
    each assignment's list of ``submitted/`` folders whose name is no student id (``refused``:
    assignment -> [(folder name, why)])."""
    by_assignment = {
        assignment: (
            [
                events.Event("autograde", assignment, "", "refused id", f"submitted/{name}: {why}")
                for name, why in folders
            ],
            {""},
        )
        for assignment, folders in refused.items()
    }
    for outcome in outcomes:
        found = list(outcome.events)
        kinds = [problem_kind(problem) for problem in outcome.problems]
        not_read = {"unreadable", "too big"} & set(kinds)
        for problem, kind in zip(outcome.problems, kinds, strict=True):
            if not_read and kind == "execution failed":
                continue  # no notebook left to run: said by the "unreadable" line
            found.append(
                events.Event("autograde", outcome.assignment, outcome.student, kind, problem)
            )
        by_assignment.setdefault(outcome.assignment, ([], {""}))
        by_assignment[outcome.assignment][0].extend(found)
        by_assignment[outcome.assignment][1].add(outcome.student)
    events.replace_all(course, "autograde", by_assignment)


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


def write_kernel_log(course, outcome):
    """``reports/logs/<assignment>/<student>.log``: what the submission's kernels wrote to
    standard error and what the watch saw, from its latest run (none if it has nothing)."""
    path = names.safe_join(course.report_path("logs"), outcome.assignment, f"{outcome.student}.log")
    if outcome.log:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outcome.log, encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def write_log(course, outcomes):
    """Add these outcomes to ``reports/autograde.csv`` (latest run per submission)."""
    path = course.report_path("autograde.csv")
    columns = ["assignment", "student", "graded", "seconds", "problems", "host", "kernels"]
    columns += ["unchanged"]
    rows = pd.DataFrame(
        [
            {
                "assignment": o.assignment,
                "student": o.student,
                "graded": o.ok,
                "seconds": round(o.seconds, 1),
                "problems": "; ".join(o.problems),
                "host": o.host,
                "kernels": o.kernels,
                "unchanged": o.skipped,
            }
            for o in outcomes
        ],
        columns=columns,
    )
    if path.exists():
        old = pd.read_csv(path, keep_default_na=False)
        rows = pd.concat([old, rows]).drop_duplicates(["assignment", "student"], keep="last")
    rows.to_csv(path, index=False)
