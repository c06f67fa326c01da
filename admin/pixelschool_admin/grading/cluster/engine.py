"""The grading engine: Dask distributed, one code path for a machine, a cluster or a batch system.

``--cluster`` says where submissions run:

- ``local:N``: a scheduler and N worker processes of one thread each on this machine, each
  a process of its own (``loopback.py``; the default, N = cores);
- ``tcp://HOST:PORT``: an existing scheduler (``dask scheduler``, and ``dask worker`` on
  each node, in the kit's environment);
- ``slurm``, ``pbs``, ``sge``, ``lsf``, ``htcondor``: dask-jobqueue, configured by
  ``ClusterGrading.jobqueue`` in the course's config (``admin/nbgrader_config.py``), its
  ``jobs`` kept running (``jobqueue.py``: a job that ends is replaced);
  ``jobqueue-local`` is dask-jobqueue's own class that runs the jobs as local processes.

Tasks carry bytes (``task.run_task``); each assignment's bundle is scattered once (again if
the worker that held it died). At most as many tasks are in flight as workers have threads,
plus one (``SPARE``), so a worker that dies takes only its own task with it (and perhaps the
one queued there); the scheduler runs that task again elsewhere, and a task that killed
``ClusterGrading.attempts`` workers comes back as a ``KilledWorker`` (the engine sets the
scheduler's ``allowed_failures`` to ``attempts - 1``).
Since a worker's death also counts against a task only queued there, each task announces
its start (``task.STARTED``): one that started ``attempts`` times without finishing is
graded 0 with the reason; a bystander is sent again. A result lost with its worker before
it came here (a batch job that ended) is sent again too, and a bundle is scattered again only
once a worker is there to take it.
"""

import os
import tempfile
import time
import uuid
from collections import Counter, deque
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from pixelschool_admin.grading.cluster import jobqueue
from pixelschool_admin.grading.cluster.jobqueue import JOBQUEUE
from pixelschool_admin.grading.cluster.loopback import Loopback
from pixelschool_admin.grading.errors import GradingError
from pixelschool_admin.grading.settings import ClusterGrading
from pixelschool_admin.grading.worker.task import STARTED, Outcome, run_task, sweep

LOST = "scheduler-connection-lost"
INLINE_BYTES = 8 * 2**20  # bigger submissions are scattered rather than sent in the task
SPARE = 1  # tasks in flight beyond the workers' threads: the first free worker takes it at once


def lost(future):
    """Was ``future`` cancelled because the scheduler went away?"""
    cancelled = getattr(getattr(future, "_state", None), "exception", None)
    return future.status == "cancelled" and getattr(cancelled, "reason", LOST) == LOST


@dataclass
class Task:
    """One submission to run: its files (name -> bytes), as they were read once.

    ``host``: run it on a worker of this host while it has one (the canary of each node)."""

    assignment: str
    student: str
    files: dict
    problems: list
    host: str | None = None
    canary: bool = False


def parse(spec):
    """(kind, argument) of a ``--cluster`` value; kind is local, tcp or a JOBQUEUE name."""
    spec = (spec or "local").strip()
    if spec == "local" or spec.startswith("local:"):
        count = spec.partition(":")[2] or str(os.cpu_count() or 1)
        if not count.isdigit() or int(count) < 1:
            raise GradingError(f"--cluster {spec}: local:N needs a number of workers N ≥ 1")
        return "local", int(count)
    if spec.startswith(("tcp://", "tls://")):
        return "tcp", spec
    if spec in JOBQUEUE:
        return spec, None
    raise GradingError(
        f"--cluster {spec}: use local:N, tcp://HOST:PORT or one of {', '.join(JOBQUEUE)}"
    )


def _allow_failures(count, dask_scheduler=None):
    dask_scheduler.allowed_failures = count


def _start_client(kind, argument, config, log=print):
    """(client, cluster or None) for a parsed ``--cluster``."""
    from distributed import Client

    if kind == "local":
        with ExitStack() as stack:
            cluster = stack.enter_context(Loopback(argument))
            client = Client(
                cluster.address, timeout=config.connect_timeout, security=cluster.security
            )
            stack.pop_all()
            return client, cluster
    if kind == "tcp":
        try:
            return Client(argument, timeout=config.connect_timeout), None
        except (OSError, TimeoutError) as error:
            raise GradingError(f"cannot reach the Dask scheduler at {argument}: {error}") from None
    try:
        cluster = jobqueue.start(kind, config, log)
    except (TypeError, ValueError) as error:
        raise GradingError(f"--cluster {kind}: ClusterGrading.jobqueue: {error}") from None
    return Client(cluster), cluster


@contextmanager
def connect(spec, course_config=None, log=print):
    """An ``Engine`` on the cluster ``spec``; everything it started is stopped on exit."""
    kind, argument = parse(spec)
    config = ClusterGrading(config=course_config)
    client, cluster = _start_client(kind, argument, config, log)
    try:
        try:
            # all of this machine's workers, so that each has its protections checked
            client.wait_for_workers(argument if kind == "local" else 1, config.worker_timeout)
        except TimeoutError:
            raise GradingError(
                f"no Dask worker joined {spec} within {config.worker_timeout:.0f} s"
            ) from None
        client.run_on_scheduler(_allow_failures, config.attempts - 1)
        yield Engine(client, kind, config.attempts, log, config.worker_timeout)
    finally:
        client.close(timeout=10)
        if cluster is not None:
            cluster.close(timeout=30)
        if kind != "tcp":  # workers of this machine: what a killed one left behind
            sweep(tempfile.gettempdir())


class Engine:
    """Runs ``Task`` lists on a Dask client, yielding each ``Outcome`` as it arrives."""

    def __init__(self, client, kind, attempts, log=print, worker_timeout=600):
        self.client, self.kind, self.attempts, self.log = client, kind, attempts, log
        self.worker_timeout = worker_timeout
        self.local = kind == "local"
        self._bundles = {}
        self.started = Counter()  # task key -> starts announced
        client.subscribe_topic(STARTED, self._started)

    def _started(self, event):
        _, message = event
        self.started[message.get("key")] += 1

    def bundle(self, assignment, make):
        """The scattered bundle of ``assignment``: ``make()`` builds it, sent once, and again
        when the workers that held it died (Dask keeps one copy of what nothing waits on).

        It goes to every worker: Dask puts a task only on workers that hold its
        dependencies, so a bundle on one worker would queue the first tasks there while the
        others wait to steal them."""
        future = self._bundles.get(assignment)
        if future is None or future.status != "finished":
            future = self.scatter(make(), broadcast=True)
            self._bundles[assignment] = future
        return future

    def scatter(self, data, broadcast=False, tries=3):
        """``client.scatter`` once a worker is there, tried again when a worker it sent to
        went away meanwhile (a batch job that ended): an ``OSError`` on its own connection."""
        for attempt in range(tries):
            self.wait_for_a_worker()
            try:
                return self.client.scatter(data, hash=False, broadcast=broadcast)
            except OSError:
                if self.client.status != "running" or attempt == tries - 1:
                    raise
                time.sleep(1)

    def wait_for_a_worker(self):
        """Return once a worker is there (batch jobs that ended are replaced meanwhile):
        scattering to none fails."""
        if self.client.nthreads():
            return
        self.log("no Dask worker now: waiting for one")
        try:
            self.client.wait_for_workers(1, self.worker_timeout)
        except TimeoutError:
            raise GradingError(
                f"no Dask worker came back within {self.worker_timeout:.0f} s "
                "(c.ClusterGrading.worker_timeout); what was recorded stays, run autograde "
                "again to grade the rest"
            ) from None

    def slots(self):
        return max(1, sum(self.client.nthreads().values()))

    def hosts(self):
        """The hosts of the workers now, sorted (one name per node), at least one: asked of
        the scheduler (the client's ``scheduler_info`` is a copy refreshed every few seconds,
        empty at first, and no host would mean no canary)."""
        self.wait_for_a_worker()
        return sorted({urlsplit(address).hostname for address in self.client.nthreads()})

    def run_everywhere(self, function, *args):
        """{worker address: function(*args)} on every worker."""
        return self.client.run(function, *args)

    def run(self, tasks, bundles, settings, desc="autograde"):
        """Yield ``(task, Outcome)`` for each of ``tasks``, in the order they finish.

        ``bundles(assignment)``: the scattered bundle of an assignment; ``settings(task)``:
        the ``Settings`` it runs with, asked when it is sent."""
        batch = _Batch(self, tasks, bundles, settings)
        try:
            yield from batch.outcomes(desc)
        except OSError as error:  # the scheduler's connection closed under a call
            raise GradingError(f"{self.lost_message(batch.unfinished())} ({error})") from None

    def outcome_of(self, future, task, starts):
        """The task's ``Outcome``; a zero with the reason when it killed its workers; None
        when it should be sent again."""
        from concurrent.futures import CancelledError

        from distributed import KilledWorker

        if future.status == "finished":
            try:
                return future.result()
            except CancelledError:  # its result was lost with its worker, and its bundle too
                return None
        error = future.exception() if future.status == "error" else None
        outcome = Outcome(task.assignment, task.student)
        if starts >= self.attempts and (error is None or isinstance(error, KilledWorker)):
            outcome.problems.append(
                f"execution failed: its grading worker died on each of {self.attempts} "
                "attempts; graded 0"
            )
            return outcome
        if error is None or isinstance(error, KilledWorker):
            return None  # cancelled with lost data, or queued where others killed workers
        text = f"{type(error).__name__}: {error}"
        if "lost" in text.lower() or "missing dependenc" in text.lower():
            return None
        outcome.problems.append(f"execution failed: {text[:500]}")
        return outcome

    def lost_message(self, unfinished):
        return (
            f"lost the Dask scheduler ({LOST}); {unfinished} submission(s) were not "
            "recorded. What was recorded stays; run autograde again to grade the rest."
        )


class _Batch:
    """One ``Engine.run``: at most one task per worker thread in flight, plus ``SPARE``."""

    def __init__(self, engine, tasks, bundles, settings):
        self.engine, self.client = engine, engine.client
        self.bundles, self.settings = bundles, settings
        self.total, self.pending, self.running = len(tasks), deque(tasks), {}
        self.keys, self.resent = {}, Counter()  # per task: its futures' keys, sends again

    def unfinished(self):
        return len(self.pending) + len(self.running)

    def send(self, task):
        files = task.files
        if sum(len(data) for data in files.values()) > INLINE_BYTES:
            files = self.engine.scatter(files)  # to a worker, not the scheduler
        future = self.client.submit(
            run_task,
            task.assignment,
            task.student,
            files,
            self.bundles(task.assignment),
            self.settings(task),
            key=f"grade-{task.assignment}-{uuid.uuid4().hex}",
            pure=False,
            workers=[task.host] if task.host else None,
            allow_other_workers=bool(task.host),  # never waits for a host that lost its workers
        )
        self.running[future] = task
        self.keys.setdefault(id(task), []).append(future.key)
        self.done.add(future)

    def fill(self):
        free = self.engine.slots() + SPARE - len(self.running)
        while self.pending and free > 0:
            self.send(self.pending.popleft())
            free -= 1

    def outcomes(self, desc):
        from distributed import as_completed

        self.done = as_completed()
        self.fill()
        with tqdm(total=self.total, desc=desc, unit="nb", smoothing=0.1) as bar:
            for future in self.done:
                task = self.running.pop(future)
                if self.client.status != "running" or lost(future):
                    raise GradingError(self.engine.lost_message(self.unfinished() + 1))
                starts = sum(self.engine.started[k] for k in self.keys[id(task)])
                outcome = self.engine.outcome_of(future, task, starts)
                future.release()
                if outcome is None:  # a bystander, or its data was lost: send it again
                    self.resent[id(task)] += 1
                    if self.resent[id(task)] <= self.engine.attempts:
                        self.pending.appendleft(task)
                        self.fill()
                        continue
                    outcome = Outcome(task.assignment, task.student)
                    outcome.problems.append(
                        f"execution failed: sent {self.engine.attempts + 1} times, never finished"
                    )
                outcome.problems = task.problems + outcome.problems
                bar.update(1)
                self.fill()  # before the caller records this one: no worker waits for that
                yield task, outcome
