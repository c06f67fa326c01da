"""Autograde on Dask: a scheduler and two workers on loopback, a worker killed mid-run, a
submission that kills its worker every time, a run interrupted and resumed, an unchanged
rerun, a lost scheduler, and dask-jobqueue's local cluster class. Everything is started and
stopped here, on 127.0.0.1, and each test runs under a deadline."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from distributed import Client

from pixelschool_admin.grading.cluster.engine import parse
from pixelschool_admin.grading.cluster.loopback import Loopback
from pixelschool_admin.grading.course import Course, GradingError
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.record.ledger import Ledger
from pixelschool_admin.grading.results.export import grade_table
from pixelschool_admin.grading.sandbox.bubblewrap import sandbox_problem
from pixelschool_admin.grading.settings import GIB, Limits, Settings
from pixelschool_admin.grading.worker.task import KILL_HOOK, TASK_PREFIX
from tests.classroom import SOLVED, WRONG_ONE_HOT, filled, hand_in, tiny_course

pytestmark = pytest.mark.xdist_group("cluster")

BIN = Path(sys.executable).parent
POISON = "kills-its-worker-7f3a"  # workers started here die on a submission holding this
# These tests are about distribution, not the sandbox (test_autograde's are): on a machine
# without bubblewrap the workers grade unprotected, as `--allow-unprotected` lets them.
SETTINGS = Settings(
    timeout=10, limits=Limits(memory=2 * GIB), allow_unprotected=sandbox_problem() is not None
)
ORDINARY = ["ana", "bo", "cy", "dee", "eli", "hal"]  # graded alike by plain nbgrader


@contextmanager
def time_limit(seconds, what):
    """Fail with ``TimeoutError`` after ``seconds`` instead of hanging the suite."""

    def expire(*_):
        raise TimeoutError(f"{what}: deadline passed")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(autouse=True)
def deadline():
    with time_limit(300, "test_cluster"):
        yield


def dask_cluster(folder, workers):
    """A started ``Loopback``: ``dask scheduler`` and ``workers`` ``dask worker``s on plain
    TCP, as an instructor starts them by hand, whose environment sets the kill hook, with
    their output in ``folder/dask.log``."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, KILL_HOOK: POISON}
    cluster = Loopback(workers, env=env, log=folder / "dask.log", tls=False).__enter__()
    try:
        with Client(cluster.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=120)
    except BaseException:
        cluster.close()
        raise
    return cluster


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    with dask_cluster(tmp_path_factory.mktemp("dask"), workers=2) as cluster:
        yield cluster.address


def a_class(root, students):
    """The tiny course of ``tests/classroom.py`` with submissions from ``students``."""
    root.mkdir(parents=True, exist_ok=True)
    course, released = tiny_course(root)
    kinds = {
        "ana": filled(released, **SOLVED),
        "bo": filled(released, one_hot=WRONG_ONE_HOT, add_channel_axis=SOLVED["add_channel_axis"]),
        "cy": released,
        "dee": filled(released, one_hot=SOLVED["one_hot"] + "# mine\n", add_channel_axis="pass"),
        "eli": filled(released, add_channel_axis=SOLVED["add_channel_axis"]),
        "fay": "not json",
        "gus": filled(released, one_hot="import os\nos.kill(os.getpid(), 9)\n"),
        "hal": filled(released, **SOLVED),
        "poison": filled(released, one_hot=f"# {POISON}\n" + SOLVED["one_hot"]),
    }
    for student in students:
        hand_in(course, "tiny", student, kinds[student])
    return course


def scores(course):
    return grade_table(course).pivot_table(index="student", columns="question", values="score")


def busy_worker(address):
    """SIGKILL a worker process that is running a submission now; return its address."""
    with Client(address, timeout=10) as client:
        pids = client.run(os.getpid)
        for _ in range(300):
            busy = [
                worker
                for worker, keys in client.processing().items()
                if any(str(key).startswith("grade-") for key in keys)
            ]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                return busy[0]
            time.sleep(0.05)
    return None


@pytest.fixture(scope="module")
def graded(scheduler, tmp_path_factory):
    """Nine submissions graded through the scheduler, one worker SIGKILLed mid-run."""
    students = [*ORDINARY, "fay", "gus", "poison"]
    course = a_class(tmp_path_factory.mktemp("class"), students)
    recorded, killed = Counter(), []

    def on_record(outcome):
        recorded[outcome.student] += 1
        if len(recorded) == 1:
            killed.append(busy_worker(scheduler))

    outcomes = autograde(course, cluster=scheduler, settings=SETTINGS, on_record=on_record)
    return course, {o.student: o for o in outcomes}, recorded, killed


def test_every_submission_is_recorded_once_though_a_worker_died(graded):
    course, outcomes, recorded, killed = graded
    assert killed and killed[0], "no worker was busy to be killed"
    assert set(recorded) == set(outcomes) and set(recorded.values()) == {1}
    assert len(outcomes) == 9 and len(scores(course)) == 9
    assert set(Ledger(course).keys("tiny")) == set(outcomes)
    log = pd.read_csv(course.root / "reports" / "autograde.csv", keep_default_na=False)
    assert sorted(log["student"]) == sorted(outcomes)


def test_a_submission_that_kills_its_worker_gets_zero_with_the_reason(graded):
    course, outcomes, *_ = graded
    poison = outcomes["poison"]
    assert not poison.ok and "died on each of 3 attempts" in poison.problems[-1]
    assert scores(course).loc["poison"].sum() == 0
    assert outcomes["hal"].ok and scores(course).loc["hal"].sum() == 3  # the same answers


def test_grades_equal_serial_nbgrader_autograde_cell_by_cell(graded, tmp_path):
    course, *_ = graded
    serial = Course(tmp_path / "serial")
    shutil.copytree(course.root / "source", serial.root / "source")
    shutil.copy(course.db_path, serial.db_path)
    for student in ORDINARY:
        shutil.copytree(
            course.path("submitted", student, "tiny"), serial.path("submitted", student, "tiny")
        )
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    subprocess.run(
        [BIN / "nbgrader", "autograde", "tiny", "--force"],
        cwd=serial.root,
        env=env,
        check=True,
        capture_output=True,
        timeout=240,
    )
    ours, theirs = scores(course).loc[ORDINARY], scores(serial).loc[ORDINARY]
    pd.testing.assert_frame_equal(ours.sort_index(), theirs.sort_index())


def test_the_kernel_crash_and_the_unreadable_file_are_graded_as_before(graded):
    course, outcomes, *_ = graded
    assert scores(course).loc["gus"].sum() == 0 and outcomes["gus"].ok
    assert "not a readable notebook" in outcomes["fay"].problems[0]


def test_an_unchanged_rerun_runs_nothing_and_a_change_is_regraded(graded, scheduler):
    course, *_ = graded
    before = scores(course)
    recorded = Counter()
    again = autograde(
        course, cluster=scheduler, settings=SETTINGS, on_record=lambda o: recorded.update([o])
    )
    assert not recorded and all(o.skipped for o in again) and len(again) == 9
    pd.testing.assert_frame_equal(scores(course), before)
    released = nbformat.read(course.path("release", ".", "tiny") / "tiny.ipynb", 4)
    hand_in(course, "tiny", "cy", filled(released, **SOLVED))  # cy hands in again
    names = Counter()
    autograde(
        course,
        cluster=scheduler,
        settings=SETTINGS,
        on_record=lambda o: names.update([o.student]),
    )
    assert names == Counter({"cy": 1})
    assert scores(course).loc["cy"].sum() == 3


def test_an_interrupted_run_resumes_where_it_stopped(scheduler, tmp_path):
    before = set(Path(tempfile.gettempdir()).glob(TASK_PREFIX + "*"))  # other runs' on this host
    course = a_class(tmp_path, ORDINARY)
    first = []

    def interrupt(outcome):
        first.append(outcome.student)
        if len(first) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        autograde(course, cluster=scheduler, settings=SETTINGS, on_record=interrupt)
    assert set(Ledger(course).keys("tiny")) == set(first)
    second = []
    outcomes = autograde(
        course, cluster=scheduler, settings=SETTINGS, on_record=lambda o: second.append(o.student)
    )
    assert sorted(first + second) == sorted(ORDINARY)
    assert {o.student for o in outcomes if o.skipped} == set(first)
    assert len(scores(course)) == len(ORDINARY)
    scratch = set(Path(tempfile.gettempdir()).glob(TASK_PREFIX + "*")) - before
    leftovers = [p for p in scratch if dead(p)]
    assert not leftovers  # a killed worker's scratch is swept by the next task


def dead(path):
    try:
        os.kill(int(path.name[len(TASK_PREFIX) :].split("-")[0]), 0)
    except ProcessLookupError:
        return True
    return False


def test_a_lost_scheduler_is_a_clear_error_and_the_next_run_resumes(tmp_path):
    course = a_class(tmp_path / "class", ["ana", "bo", "cy", "dee"])
    cluster = dask_cluster(tmp_path / "dask", workers=1)
    first = []

    def lose_scheduler(outcome):
        first.append(outcome.student)
        if len(first) == 1:
            os.killpg(cluster.processes[0].pid, signal.SIGKILL)

    with cluster, pytest.raises(GradingError, match="lost the Dask scheduler"):
        autograde(course, cluster=cluster.address, settings=SETTINGS, on_record=lose_scheduler)
    second = []
    autograde(course, jobs=1, settings=SETTINGS, on_record=lambda o: second.append(o.student))
    assert sorted(first + second) == ["ana", "bo", "cy", "dee"] and len(first) >= 1
    assert len(scores(course)) == 4


def test_dask_jobqueue_grades_through_its_local_cluster_class(tmp_path):
    course = a_class(tmp_path, ["ana", "bo", "cy"])
    jobqueue = {
        "cores": 1,
        "memory": "2GiB",
        "interface": "lo",
        "scheduler_options": {"dashboard": False},
    }
    course = Course(course.root, ClusterGrading={"jobqueue": jobqueue, "jobs": 2})
    outcomes = autograde(course, cluster="jobqueue-local", settings=SETTINGS)
    problems = {o.student: o.problems for o in outcomes if not o.ok}
    assert {o.student: o.ok for o in outcomes} == {"ana": True, "bo": True, "cy": True}, problems
    assert scores(course).sum(axis=1).to_dict() == {"ana": 3, "bo": 1, "cy": 0}


def test_cluster_specs_are_parsed_or_refused_clearly():
    assert parse("local:3") == ("local", 3) and parse(None)[0] == "local"
    assert parse("tcp://10.0.0.1:8786") == ("tcp", "tcp://10.0.0.1:8786")
    assert parse("slurm") == ("slurm", None)
    for wrong in ("local:0", "local:x", "kubernetes"):
        with pytest.raises(GradingError, match="--cluster"):
            parse(wrong)


def alive_in_sessions(sessions):
    """Pids of live (not zombie) processes whose session is one of ``sessions``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) in sessions:
            found.append(int(stat.parent.name))
    return found


def test_a_local_cluster_ends_with_the_process_that_started_it(tmp_path):
    """``local:N``'s scheduler and workers (nannies and their workers) do not outlive an
    instructor's process killed with SIGKILL."""
    script = (
        "import os, signal\n"
        "from pixelschool_admin.grading.cluster.loopback import Loopback\n"
        "from distributed import Client\n"
        "cluster = Loopback(2).__enter__()\n"
        "Client(cluster.address, timeout=30, security=cluster.security)"
        ".wait_for_workers(2, timeout=120)\n"
        "print(*(p.pid for p in cluster.processes), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    sessions = {int(pid) for pid in done.stdout.split()}
    assert len(sessions) == 3, done.stderr
    for _ in range(300):
        if not alive_in_sessions(sessions):
            break
        time.sleep(0.1)
    assert not alive_in_sessions(sessions)


def test_a_local_cluster_admits_only_the_process_that_started_it():
    """``local:N`` talks TLS with a certificate of its own, kept where only the instructor
    can read it: a client without it, or with another certificate, is refused."""
    from distributed.security import Security

    with Loopback(1) as cluster:
        with Client(cluster.address, timeout=30, security=cluster.security) as client:
            client.wait_for_workers(1, timeout=120)
            workers = list(client.scheduler_info()["workers"])
            assert client.submit(sum, [40, 2]).result() == 42
        assert cluster.address.startswith("tls://") and workers[0].startswith("tls://")
        assert (cluster.folder.stat().st_mode & 0o077) == 0
        for address in (cluster.address, cluster.address.replace("tls://", "tcp://")):
            for security in (None, Security.temporary()):
                with pytest.raises(Exception):  # noqa: B017, PT011  (refused, for whatever reason)
                    Client(address, timeout=5, security=security).close()
