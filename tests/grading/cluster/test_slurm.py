"""Autograde on a real single-node SLURM (``tests/slurm.py``) with ``--cluster slurm`` and two
batch jobs: one job cancelled (``scancel``) while it grades, later every job at once (as a
walltime ends them), and every grade still recorded once, and right. Also the job keeper's
rules (``grading/cluster/jobqueue.py``) on a stand-in cluster, which need no SLURM."""

import os
import shutil
import time
from collections import Counter

import dask
import pytest
from distributed import default_client

from pixelschool_admin.grading.cluster.jobqueue import JobKeeper, job_of
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.record.ledger import Ledger
from tests.grading.cluster.test_cluster import ORDINARY, SETTINGS, a_class, scores, time_limit
from tests.slurm import SingleNodeSlurm, missing

pytestmark = pytest.mark.xdist_group("cluster")
NO_SLURM = missing()
needs_slurm = pytest.mark.skipif(NO_SLURM is not None, reason=NO_SLURM or "")
LOST_AFTER = "distributed.deploy.lost-worker-timeout"
TOTALS = {"ana": 3, "bo": 1, "cy": 0, "dee": 2, "eli": 1, "hal": 3}  # of a_class's answers


@pytest.fixture
def deadline():
    with time_limit(420, "test_slurm"):
        yield


def twelve(root):
    """a_class's six ordinary students, and a second of each (``ana2`` hands in ana's)."""
    course = a_class(root, ORDINARY)
    for student in ORDINARY:
        folder = course.path("submitted", student, "tiny")
        shutil.copytree(folder, course.path("submitted", f"{student}2", "tiny"))
    return course, {**TOTALS, **{f"{s}2": total for s, total in TOTALS.items()}}


def busy_job():
    """The SLURM job id of a worker of this process's Dask client that grades now."""
    client = default_client()
    for _ in range(600):
        busy = [
            worker
            for worker, keys in client.processing().items()
            if any(str(key).startswith("grade-") for key in keys)
        ]
        if busy:
            return client.run(os.getenv, "SLURM_JOB_ID", workers=busy[:1])[busy[0]]
        time.sleep(0.05)
    return None


def replacement_joined(slurm, old_jobs):
    """Has a job other than ``old_jobs`` started, and do two workers serve the run again?"""
    return bool(set(slurm.jobs()) - old_jobs) and len(default_client().nthreads()) == 2


def wait_for(condition, seconds=120):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.5)
    return condition()


@needs_slurm
def test_jobs_cancelled_mid_run_lose_no_grade_and_grade_none_twice(tmp_path, deadline):
    course, expected = twelve(tmp_path / "class")
    recorded, cancelled, replaced, said = Counter(), [], [], []
    # a job is replaced once its workers stayed away this long (15 s by default)
    with dask.config.set({LOST_AFTER: "5s"}), SingleNodeSlurm() as slurm:
        course = slurm.course(course, jobs=2)  # c.ClusterGrading: jobqueue and jobs

        def on_record(outcome):
            recorded[outcome.student] += 1
            if len(recorded) == 2:  # one of the two jobs, while it grades a submission
                first = set(slurm.jobs())
                job = busy_job()
                slurm.cancel(job)
                cancelled.append(job)
                replaced.append(wait_for(lambda: replacement_joined(slurm, first | {job})))
            elif len(recorded) == 5:  # every job at once, as their walltime ends them
                for job in slurm.jobs():
                    slurm.cancel(job)
                    cancelled.append(job)

        outcomes = autograde(
            course, cluster="slurm", settings=SETTINGS, on_record=on_record, log=said.append
        )
    assert cancelled[0] is not None and len(cancelled) >= 3, cancelled
    assert replaced == [True], "no job was submitted in place of the cancelled one"
    # the first cancel, and the jobs of the second whose workers the keeper saw leave: when
    # both go at once it has replaced one of them at least (once seen 2 in all, not 3)
    assert sum("ended: its workers left" in str(line) for line in said) >= 2, said
    assert set(recorded.values()) == {1} and set(recorded) == set(expected)
    assert {o.student for o in outcomes} == set(expected) and all(o.ok for o in outcomes)
    assert scores(course).sum(axis=1).to_dict() == expected
    assert set(Ledger(course).keys("tiny")) == set(expected)


def test_without_slurm_the_test_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert missing() == "needs slurmctld, slurmd and munge: apt-get install slurm-wlm munge"
    for command in ("slurmctld", "slurmd", "munged", "sinfo", "sbatch", "squeue", "scancel"):
        (tmp_path / command).write_text("#!/bin/sh\n")
        (tmp_path / command).chmod(0o755)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert missing() == "needs root to start a single-node SLURM"


class Job:
    def __init__(self, job_id):
        self.job_id, self.closed = job_id, False

    async def close(self):
        self.closed = True


class StandIn:
    """What ``JobKeeper`` reads and calls of a dask-jobqueue cluster."""

    status = "running"

    def __init__(self, names):
        self.worker_spec = {name: {} for name in names}
        self.workers = {name: Job(str(i)) for i, name in enumerate(names)}
        self.scheduler_info = {"workers": {}}
        self.scaled, self.callbacks = [], []
        self.loop = self

    def add_callback(self, callback):
        self.callbacks.append(callback)

    def scale(self, jobs):
        self.scaled.append(jobs)
        for name in self.worker_spec:
            self.workers.setdefault(name, Job("new"))

    def join(self, *workers):
        self.scheduler_info["workers"] = {f"tcp://w{w}": {"name": w} for w in workers}


def test_a_job_whose_workers_left_is_replaced_once_after_the_grace():
    cluster, now, said = StandIn(["J-0", "J-1", "J-2"]), [0.0], []
    keeper = JobKeeper(cluster, 3, said.append, grace=15, clock=lambda: now[0])
    cluster.join("J-0-0", "J-0-1", "J-1-0", "J-1-1")  # J-2 is still queued
    keeper.check()
    cluster.join("J-0-0", "J-1-0", "J-1-1")  # a nanny restarts J-0-1: J-0 stays
    now[0] = 20
    keeper.check()
    cluster.join("J-0-0", "J-0-1")  # J-1 ended
    now[0] = 30
    keeper.check()
    now[0] = 44
    keeper.check()
    assert not cluster.scaled and not said
    old = cluster.workers["J-1"]
    now[0] = 45
    keeper.check()
    assert cluster.scaled == [3] and cluster.workers["J-1"] is not old
    assert [c.__self__ for c in cluster.callbacks] == [old]  # closed: cancelled if queued
    assert said == ["batch job 1 (J-1) ended: its workers left; submitting another"]
    now[0] = 100  # the new J-1 has not joined yet, and J-2 never did: nothing more
    keeper.check()
    assert cluster.scaled == [3] and keeper.replaced == 1


def test_workers_are_matched_to_their_job():
    jobs = ["SLURMCluster-1", "SLURMCluster-10"]
    assert job_of("SLURMCluster-1", jobs) == "SLURMCluster-1"
    assert job_of("SLURMCluster-10-3", jobs) == "SLURMCluster-10"
    assert job_of("SLURMCluster-1-0", jobs) == "SLURMCluster-1"
    assert job_of("local-0", jobs) is None
