"""Batch systems (SLURM, PBS, SGE, LSF, HTCondor) through dask-jobqueue, kept at ``jobs``.

dask-jobqueue submits the jobs once: a job that ends (walltime, ``scancel``, a node lost)
is not replaced, so the run goes on with fewer workers, or waits for ever once none is
left. ``JobKeeper`` watches the scheduler's workers from the cluster's own event loop: a
job whose workers had joined and all left, and stayed away ``grace`` seconds (Dask's
``distributed.deploy.lost-worker-timeout``; a nanny restarts a killed worker sooner), is
dropped and another is submitted in its place. A job that never joined is not resubmitted.
"""

import importlib
import time

import dask
from dask.utils import parse_timedelta

JOBQUEUE = {
    "slurm": "dask_jobqueue.SLURMCluster",
    "pbs": "dask_jobqueue.PBSCluster",
    "sge": "dask_jobqueue.SGECluster",
    "lsf": "dask_jobqueue.LSFCluster",
    "htcondor": "dask_jobqueue.HTCondorCluster",
    "jobqueue-local": "dask_jobqueue.local.LocalCluster",
}
CHECK_MS = 1000  # how often the keeper looks


def options(config):
    """dask-jobqueue's keyword arguments from ``ClusterGrading.jobqueue``: one core and
    4 GiB by default, and one single-threaded worker process per core."""
    kwargs = {"cores": 1, "memory": "4GiB", **config.jobqueue}
    kwargs.setdefault("processes", kwargs["cores"])
    return kwargs


def start(kind, config, log=print):
    """The dask-jobqueue cluster of ``kind`` with ``config.jobs`` jobs submitted and kept.

    Raises ``TypeError`` or ``ValueError`` for options the cluster class refuses."""
    from tornado.ioloop import PeriodicCallback

    module, _, name = JOBQUEUE[kind].rpartition(".")
    cluster = getattr(importlib.import_module(module), name)(**options(config))
    cluster.scale(jobs=config.jobs)
    keeper = JobKeeper(cluster, config.jobs, log)
    callback = PeriodicCallback(keeper.check, CHECK_MS)
    cluster.periodic_callbacks["pixelschool-job-keeper"] = callback  # stopped with the cluster
    cluster.loop.add_callback(callback.start)
    return cluster


def job_of(worker, jobs):
    """The name of the job (of ``jobs``) that started the Dask worker named ``worker``:
    its own name, or with ``-<i>`` after it when a job starts several processes."""
    worker = str(worker)
    if worker in jobs:
        return worker
    return next((name for name in jobs if worker.startswith(f"{name}-")), None)


class JobKeeper:
    """Replaces the jobs of ``cluster`` whose workers left (see the module); ``check()`` runs
    on the cluster's event loop."""

    def __init__(self, cluster, jobs, log=print, grace=None, clock=time.monotonic):
        self.cluster, self.jobs, self.log, self.clock = cluster, jobs, log, clock
        if grace is None:
            grace = parse_timedelta(dask.config.get("distributed.deploy.lost-worker-timeout"))
        self.grace = grace
        # job name -> the id of the job whose workers joined (no reference to the job:
        # SpecCluster.close asserts that every job it still knows of was closed)
        self.joined = {}
        self.away = {}  # job name -> when its last worker was seen leaving
        self.replaced = 0

    def check(self):
        cluster = self.cluster
        if getattr(cluster.status, "name", cluster.status) != "running":
            return
        names = list(cluster.worker_spec)
        present = {job_of(w["name"], names) for w in cluster.scheduler_info["workers"].values()}
        now, lost = self.clock(), []
        for name in names:
            if name in present:
                self.joined[name] = getattr(cluster.workers.get(name), "job_id", None)
                self.away.pop(name, None)
            elif name in self.joined and now - self.away.setdefault(name, now) >= self.grace:
                lost.append(name)
        for name in lost:
            job = cluster.workers.pop(name, None)  # None: Dask dropped it itself
            if job is not None:
                cluster.loop.add_callback(job.close)  # cancels it, if it is still queued
            job_id = self.joined.pop(name) or "?"
            del self.away[name]
            self.replaced += 1
            self.log(f"batch job {job_id} ({name}) ended: its workers left; submitting another")
        if lost:
            cluster.scale(jobs=self.jobs)
