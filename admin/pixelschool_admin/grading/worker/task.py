"""One submission's sandboxed execution, as a Dask worker runs it: bytes in, bytes out.

``run_task`` gets the submission's files and its assignment's ``Bundle`` (the ``source/``
files with the hidden tests, and a gradebook snapshot without students) as bytes; it runs
nbgrader's ``autograde`` with ``SandboxedExecute`` in a private scratch course in the node's
temporary folder and returns an ``Outcome`` with the executed notebooks (bytes), what the
sandbox saw (events), timings and the node's name. It never reads the course folder.

Its scratch, kernels' runtime folders included, is removed in all cases; what a worker
killed mid-task leaves behind is removed by the next task on that node (``sweep``).
A node without a working sandbox refuses the task unless ``Settings.allow_unprotected``.
"""

import json
import os
import shutil
import signal
import socket
import sqlite3
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pixelschool_admin.grading import incidents
from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.sandbox import warm
from pixelschool_admin.grading.sandbox.bubblewrap import (
    default_keras_home,
    font_cache,
    sandbox_problem,
)
from pixelschool_admin.grading.settings import SANDBOXED_EXECUTE, autograde_chain
from pixelschool_admin.grading.worker.executor import KernelStartError, tail

TASK_PREFIX = "pixelschool-task-"
LOG_TAIL = 20_000  # characters of each log returned with the outcome
# Test hook: a worker whose environment sets this kills itself (SIGKILL) on any submission
# holding its value, as a submission that crashes its worker would (the sandbox stops the
# student's own attempts: the kernel cannot see the worker's process).
KILL_HOOK = "PIXELSCHOOL_TEST_KILL_WORKER"


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
    executed: dict = field(default_factory=dict)  # notebook name -> executed bytes
    host: str = ""  # the node that ran it
    worker: str = ""  # the Dask worker's address, when known
    timings: dict = field(default_factory=dict)  # step -> seconds, on the worker
    unprotected: str = ""  # why the node had no sandbox, when it ran without one
    refused: str = ""  # why the node refused to run it (not graded, not recorded)
    skipped: bool = False  # unchanged since the ledger's grade: not run again
    kernels: str = ""  # "warm", or "cold: why" (warm.py)
    log: str = ""  # the kernels' standard error and what the watch saw (the last of each)


@dataclass(frozen=True)
class Bundle:
    """What every task of one assignment needs besides the submission, as bytes."""

    assignment: str
    source: dict  # relative path -> bytes: source/<assignment>/ (solution, hidden tests)
    gradebook: bytes  # gradebook.db without students and submissions
    preload: tuple = ()  # what a warm zygote imports for it (warm.preload_names)


def read_files(folder):
    """{relative POSIX path: bytes} of every file under ``folder``."""
    folder = Path(folder)
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def write_files(folder, files):
    """Write ``read_files``' output under ``folder``; refuse names that leave it."""
    for name, data in files.items():
        parts = PurePosixPath(name).parts
        if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
            raise ValueError(f"refused file name {name!r}")
        path = Path(folder, *parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def gradebook_snapshot(db_path):
    """The gradebook's bytes with no student, submission or grade: what execution needs."""
    with tempfile.TemporaryDirectory(prefix="pixelschool-snapshot-") as tmp:
        copy = Path(tmp) / "gradebook.db"
        source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # consistent even while the recorder writes
            tables = ("comment", "grade", "submitted_notebook", "submitted_assignment", "student")
            for table in tables:
                target.execute(f"DELETE FROM {table}")  # fixed names, not input
            target.commit()
            target.execute("VACUUM")
        finally:
            source.close()
            target.close()
        return copy.read_bytes()


def make_bundle(course, assignment):
    source = read_files(course.root / "source" / assignment)
    code = []
    for name, data in source.items():
        if name.endswith(".ipynb"):
            cells = json.loads(data).get("cells", [])
            code += ["".join(c["source"]) for c in cells if c.get("cell_type") == "code"]
    return Bundle(assignment, source, gradebook_snapshot(course.db_path), warm.preload_names(code))


def sweep(parent):
    """Remove task folders under ``parent`` whose worker process is gone."""
    for path in Path(parent).glob(TASK_PREFIX + "*"):
        try:
            pid = int(path.name[len(TASK_PREFIX) :].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


STARTED = "pixelschool-started"  # the topic of the "task started" events the engine counts


def worker_address():
    """This Dask worker's address ('' outside one), after telling the engine we started."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return ""
    worker.log_event(STARTED, {"key": worker.get_current_task()})
    return worker.address


def run_task(assignment, student, files, bundle, settings):
    """Execute one submission; an ``Outcome`` with the executed notebooks as bytes."""
    start = time.perf_counter()
    outcome = Outcome(assignment, student, host=socket.gethostname(), worker=worker_address())
    problem = sandbox_problem()
    if problem is not None:
        if not settings.allow_unprotected:
            outcome.refused = f"{outcome.host}: no sandbox on this node ({problem})"
            return outcome
        outcome.unprotected = problem
    hook = os.environ.get(KILL_HOOK)
    if hook and any(hook.encode() in data for data in files.values()):
        time.sleep(1)  # as if it ran a while (and the "started" event reached the engine)
        os.kill(os.getpid(), signal.SIGKILL)
    parent = Path(tempfile.gettempdir())
    sweep(parent)
    root = Path(tempfile.mkdtemp(prefix=f"{TASK_PREFIX}{os.getpid()}-", dir=parent))
    saved = {name: os.environ.get(name) for name, _ in settings.environment}
    try:
        os.environ.update(dict(settings.environment))
        autograde_in_scratch(outcome, root, files, bundle, settings)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(root, ignore_errors=True)
    outcome.seconds = time.perf_counter() - start
    return outcome


def autograde_in_scratch(outcome, root, files, bundle, settings):
    """nbgrader's autograde with ``SandboxedExecute`` in a scratch course under ``root``."""
    assignment, student = outcome.assignment, outcome.student
    clock = time.perf_counter()
    scratch = root / "course"
    kernels = root / "kernels"  # beside the course: a kernel lists its scratch, not these
    kernels.mkdir()
    write_files(scratch / "source" / assignment, bundle.source)
    (scratch / "gradebook.db").write_bytes(bundle.gradebook)
    write_files(scratch / "submitted" / student / assignment, files)
    logs = {name: str(scratch / f"{name}.log") for name in ("incident", "activity", "kernel")}
    fonts = {}
    if (found := font_cache()) is not None:  # built once per worker, a copy per task
        path = root / "fonts" / found[0]
        write_files(root / "fonts", {found[0]: found[1]})
        path.chmod(0o644)  # a kernel with a uid of its own reads it too
        fonts["font_cache"] = str(path)
    clock, warm_area = time.perf_counter(), ""
    zygote, why = warm_zygote(root.parent, bundle, settings)
    if zygote is not None:
        warm_area, outcome.kernels = str(zygote.area), "warm"
        outcome.timings["zygote"] = time.perf_counter() - clock
    else:
        outcome.kernels = f"cold: {why}"
    clock = time.perf_counter()
    config = settings.nbgrader_config()
    chain = autograde_chain(SANDBOXED_EXECUTE, judged=False, scoring=False)
    config["Autograde"] = {"autograde_preprocessors": chain}
    config["SandboxedExecute"]["incident_log"] = logs["incident"]
    config["SandboxedKernelManager"].update(
        activity_log=logs["activity"],
        stderr_log=logs["kernel"],
        runtime_parent=str(kernels),
        warm_area=warm_area,
        **fonts,
    )
    course = Course(scratch, **config)
    outcome.timings["setup"] = time.perf_counter() - clock
    clock = time.perf_counter()
    try:
        result = course.api.autograde(assignment, student, force=True)
    except Exception:  # noqa: BLE001  (one bad submission never stops the batch)
        result = {"success": False, "log": traceback.format_exc()}
    outcome.timings["autograde"] = time.perf_counter() - clock
    executed = course.path("autograded", student, assignment)
    outcome.log = "".join(
        f"== {title} ==\n{text}\n"
        for title, name in (("kernel standard error", "kernel"), ("watched", "activity"))
        if (text := tail(logs[name], LOG_TAIL))
    )
    outcome.events = [
        *incidents.incident_events(logs["incident"], assignment, student),
        *incidents.watch_events(logs["activity"], assignment, student, sandbox_problem() is None),
        *incidents.limit_events(executed, assignment, student),
    ]
    too_big = [
        f"{path.name}: too big once executed: {size:,} bytes, over the cap of "
        f"{settings.max_notebook_bytes:,}; graded 0"
        for path in sorted(executed.glob("*.ipynb"))
        if (size := path.stat().st_size) > settings.max_notebook_bytes
    ]
    if result["success"] and too_big:
        outcome.problems += too_big  # never sent to the one recorder
    elif result["success"]:
        outcome.executed = {p.name: p.read_bytes() for p in sorted(executed.glob("*.ipynb"))}
        outcome.ok = True
    else:
        outcome.problems.append(f"execution failed: {last_error(result)}")
        if KernelStartError.__name__ in (result.get("log") or ""):
            outcome.kernel_failed = start_failure(result.get("log"))


def warm_zygote(parent, bundle, settings):
    """(zygote, None) for this worker and assignment, or (None, why kernels start cold)."""
    if not settings.warm_kernels:
        return None, "warm kernels are turned off"
    keras_home = settings.keras_home if settings.keras_home is not None else default_keras_home()
    return warm.for_assignment(parent, bundle.preload, settings.limits, keras_home or None)


def start_failure(log):
    """The ``KernelStartError`` message (with the kernel's standard error) out of a log."""
    marker = KernelStartError.__name__ + ":"
    text = log[log.rindex(marker) + len(marker) :] if marker in log else log
    return text.strip()[:3000]


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
