"""A Dask scheduler and workers as processes of this machine, on 127.0.0.1 (``--cluster local:N``).

The scheduler runs in a process of its own, not in the instructor's, where it would share
one interpreter with the gradebook's writer. They talk over TLS with a certificate made for
the run and kept in a folder only the instructor can read: Dask has no other check on who
connects, and anyone who reaches a scheduler runs code as its workers (another user of a
shared machine, a JupyterHub's students; a sandboxed kernel has no network to try).

Each process is ``dask scheduler`` or ``dask worker`` (a nanny that restarts a worker
killed mid-task), in a session of its own: Ctrl-C reaches the instructor's process only,
which stops them all (``close``). They end with it too: each gets SIGTERM when the process
that started it dies (``PR_SET_PDEATHSIG``), and a worker that loses its scheduler closes
after ``DEATH_TIMEOUT`` seconds.
"""

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pixelschool_admin.grading.worker.task import TASK_PREFIX

PR_SET_PDEATHSIG = 1
DEATH_TIMEOUT = 30  # seconds a worker waits for a lost scheduler before it closes
START_TIMEOUT = 60  # seconds for the scheduler to write its address


def _die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Loopback:
    """``dask scheduler`` and ``workers`` ``dask worker --nthreads 1`` on 127.0.0.1.

    ``env``: the processes' environment (default: this one's); ``log``: a file for their
    output (default: none); ``tls``: False for plain TCP, as a hand-started ``dask
    scheduler``. A context manager; ``address`` is the scheduler's, ``security`` what a
    client needs to connect (``Client(address, security=security)``)."""

    def __init__(self, workers, env=None, log=None, tls=True):
        self.workers, self.env, self.log, self.tls = workers, env, log, tls
        self.processes, self.address, self.security = [], None, None
        # named as a task's folder: the next run's sweep removes it if this process was killed
        self.folder = Path(tempfile.mkdtemp(prefix=f"{TASK_PREFIX}{os.getpid()}-dask-"))

    def __enter__(self):
        try:
            if self.address is None:
                self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_):
        self.close()

    def _spawn(self, *args):
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", f"distributed.cli.dask_{args[0]}", *args[1:]],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509  (no threads of ours yet)
            )
        finally:
            if self.log:
                output.close()
        self.processes.append(process)
        return process

    def _credentials(self):
        """The TLS options of ``dask scheduler`` and ``dask worker``, for a new certificate."""
        if not self.tls:
            return []
        from distributed.security import Security

        self.security = Security.temporary()
        files = {
            "--tls-ca-file": self.security.tls_ca_file,
            "--tls-cert": self.security.tls_worker_cert,
            "--tls-key": self.security.tls_worker_key,
        }
        options = []
        for option, contents in files.items():
            path = self.folder / f"{option.strip('-')}.pem"
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(contents)
            options += [option, str(path)]
        return ["--protocol", "tls", *options]

    def start(self):
        file, credentials = self.folder / "scheduler.json", self._credentials()
        scheduler = self._spawn(
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(file), *credentials,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while not (file.exists() and file.read_text().strip()):
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the local Dask scheduler did not start (exit {scheduler.poll()})"
                )
            time.sleep(0.05)
        self.address = json.loads(file.read_text())["address"]
        for number in range(self.workers):
            self._spawn(
                "worker", self.address, "--nthreads", "1", "--host", "127.0.0.1",
                "--no-dashboard", "--name", f"local-{number}",
                "--memory-limit", "0",  # kernels have their own limits: a big one is no fault
                "--death-timeout", str(DEATH_TIMEOUT),
                "--local-directory", str(self.folder), *credentials,
            )  # fmt: skip

    def close(self, timeout=15):
        """Stop every process (SIGTERM to its session, then SIGKILL) and remove the folder."""
        for process in self.processes:
            _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait(5)
        self.processes = []
        shutil.rmtree(self.folder, ignore_errors=True)


def _signal(process, number):
    """Signal the process's session (a nanny and its worker); gone already is fine."""
    try:
        os.killpg(process.pid, number)
    except ProcessLookupError:
        pass
