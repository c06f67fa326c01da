"""A single-node SLURM on localhost, for the tests and the benchmarks.

``SingleNodeSlurm`` starts munged, slurmctld and slurmd as this (root) user with a minimal
configuration: one node (``localhost``, this machine's CPUs and memory), one partition, no
cgroups and no accounting, so that it also runs in a container. Its key, state, spool and logs
live in a temporary folder, removed on exit. While it runs, ``SLURM_CONF`` points SLURM's
commands (sbatch, squeue, scancel, as dask-jobqueue calls them) at it.

    if missing() is None:
        with SingleNodeSlurm() as slurm:
            ...  # slurm.partition, slurm.cpus, slurm.memory_mb

``python -m tests.slurm`` starts one and waits (Ctrl-C or SIGTERM stops it).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

COMMANDS = ("slurmctld", "slurmd", "munged", "sinfo", "sbatch", "squeue", "scancel")
PARTITION = "debug"
NODE = "localhost"


def missing():
    """Why a single-node SLURM cannot start here, or None when it can."""
    if any(shutil.which(command) is None for command in COMMANDS):
        return "needs slurmctld, slurmd and munge: apt-get install slurm-wlm munge"
    if os.geteuid() != 0:
        return "needs root to start a single-node SLURM"
    return None


def free_ports(count):
    """``count`` distinct TCP ports free on 127.0.0.1 now."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def detected():
    """(CPUs, memory in MB) of this machine as slurmd sees them (``slurmd -C``)."""
    cpus, memory = os.cpu_count() or 1, 1024
    try:
        text = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        text = ""
    fields = dict(word.split("=", 1) for word in text.split() if "=" in word)
    return int(fields.get("CPUs", cpus)), int(fields.get("RealMemory", memory))


def slurm_conf(folder, cpus, memory_mb, ports):
    """The configuration: one node, one partition, plugins that need no cgroups."""
    munge = f"socket={folder / 'munge.socket'}"
    return f"""\
ClusterName=pixelschool
SlurmctldHost={NODE}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
AuthType=auth/munge
AuthInfo={munge}
CredType=cred/munge
StateSaveLocation={folder / "state"}
SlurmdSpoolDir={folder / "spool"}
SlurmctldPidFile={folder / "slurmctld.pid"}
SlurmdPidFile={folder / "slurmd.pid"}
SlurmctldLogFile={folder / "slurmctld.log"}
SlurmdLogFile={folder / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
KillWait=10
NodeName={NODE} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
"""


class SingleNodeSlurm:
    """munged, slurmctld and slurmd on localhost; a context manager (see the module)."""

    def __init__(self, start_timeout=90):
        self.start_timeout = start_timeout
        self.partition, self.processes, self.folder = PARTITION, [], None
        self.cpus, self.memory_mb = detected()
        self._saved_conf = None

    def __enter__(self):
        reason = missing()
        if reason:
            raise RuntimeError(reason)
        self.folder = Path(tempfile.mkdtemp(prefix="slurm-"))
        self._saved_conf = os.environ.get("SLURM_CONF")
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        folder = self.folder
        for name in ("state", "spool"):
            (folder / name).mkdir()
        key = folder / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        conf = folder / "slurm.conf"
        conf.write_text(slurm_conf(folder, self.cpus, self.memory_mb, free_ports(2)))
        os.environ["SLURM_CONF"] = str(conf)
        self._daemon(
            "munged",
            "--foreground",
            "--force",
            f"--key-file={key}",
            f"--socket={folder / 'munge.socket'}",
            f"--pid-file={folder / 'munged.pid'}",
            f"--log-file={folder / 'munged.log'}",
            f"--seed-file={folder / 'munged.seed'}",
        )
        self._wait(lambda: (folder / "munge.socket").exists(), "munged")
        self._daemon("slurmctld", "-D", "-i", "-f", str(conf))
        self._wait(lambda: self._sinfo() is not None, "slurmctld")
        self._daemon("slurmd", "-D", "-N", NODE, "-f", str(conf))
        self._wait(lambda: self._sinfo() == "idle", "slurmd (the node idle)")

    def _daemon(self, *command):
        with open(self.folder / f"{command[0]}.out", "ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)

    def _sinfo(self):
        """The node's state (idle, alloc, ...), or None while slurmctld does not answer."""
        done = subprocess.run(
            ["sinfo", "--noheader", "--Node", "--format=%t"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            return None
        return done.stdout.strip().rstrip("*~#$@^-") or None

    def _wait(self, ready, what):
        deadline = time.monotonic() + self.start_timeout
        while not ready():
            dead = [p.args[0] for p in self.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = (
                    f"{', '.join(dead)} exited" if dead else f"not ready in {self.start_timeout} s"
                )
                raise RuntimeError(f"single-node SLURM: {what}: {why}\n{self.logs()}")
            time.sleep(0.2)

    def logs(self, lines=20):
        """The last lines of each daemon's log, for an error message."""
        parts = []
        for path in sorted(self.folder.glob("*.log")) + sorted(self.folder.glob("*.out")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def grading_config(self, jobs=2, cores=1, memory="4GiB"):
        """``c.ClusterGrading`` for ``--cluster slurm`` on this SLURM, as an instructor
        writes it: dask-jobqueue's options (partition, cores = worker processes of one thread,
        memory and walltime per job; the scheduler and workers on loopback, the jobs' logs
        in this SLURM's folder) and the number of jobs."""
        jobqueue = {
            "queue": self.partition,
            "cores": cores,
            "memory": memory,
            "walltime": "00:30:00",
            "interface": "lo",
            "log_directory": str(self.folder / "jobs"),
            "scheduler_options": {"dashboard_address": ":0"},
        }
        return {"jobqueue": jobqueue, "jobs": jobs}

    def course(self, course, **options):
        """``course`` (a ``Course``) with ``grading_config(**options)`` written at the end of
        its folder's ``nbgrader_config.py``, as the instructor's own lines."""
        from pixelschool_admin.grading.course import Course

        lines = [f"c.ClusterGrading.{k} = {v!r}" for k, v in self.grading_config(**options).items()]
        with (course.root / "nbgrader_config.py").open("a") as config:
            config.write("\n".join(["", "# --cluster slurm", *lines, ""]))
        return Course(course.root)

    def jobs(self):
        """{job id: state} of the jobs SLURM knows now (squeue)."""
        done = subprocess.run(
            ["squeue", "--noheader", "--format=%i %T"], capture_output=True, text=True, timeout=30
        )
        return dict(line.split() for line in done.stdout.splitlines() if line.strip())

    def cancel(self, job_id):
        subprocess.run(["scancel", str(job_id)], check=True, timeout=30)

    def __exit__(self, *exc):
        if any(p.args[0] == "slurmctld" and p.poll() is None for p in self.processes):
            subprocess.run(["scancel", f"--partition={PARTITION}"], timeout=30, check=False)
            deadline = time.monotonic() + 30
            while self.jobs() and time.monotonic() < deadline:
                time.sleep(0.5)
        for process in reversed(self.processes):  # slurmd, slurmctld, then munged
            stop(process)
        self.processes = []
        if self._saved_conf is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = self._saved_conf
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def stop(process, timeout=15):
    """SIGTERM, then SIGKILL, to a daemon started by ``SingleNodeSlurm``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main():
    """Start one and wait; SIGINT (Ctrl-C) or SIGTERM stops it."""
    reason = missing()
    if reason:
        raise SystemExit(reason)

    def leave(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    with SingleNodeSlurm() as slurm:
        print(f"SLURM_CONF={os.environ['SLURM_CONF']}  ({slurm.cpus} CPUs, {slurm.memory_mb} MB)")
        while True:
            signal.pause()


if __name__ == "__main__":
    main()
