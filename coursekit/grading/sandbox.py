"""Run a student's kernel in a sandbox: bubblewrap for files and network, rlimits for resources.

What the sandbox does (see ``admin/instructor-notes.md``, "Sandbox"):

- **Files.** The kernel sees a read-only system (``/usr``, ``/etc/fonts``, the Python it runs
  on, the venv), the course's check package (``coursekit/`` and ``problem_unittests.py``),
  the grader's Keras datasets folder if there is one (public data), its own working folder
  (read-write) and an empty ``/tmp``. It does not see ``solutions/``,
  the gradebook, ``admin/``, other students' submissions or anyone's home folder.
- **Network.** A network namespace of its own with only a loopback device: no route out.
  The kernel talks to the grader over IPC (Unix) sockets in a private runtime folder.
- **Processes.** Its own PID namespace; it dies with the grader (``--die-with-parent``).
- **Resources.** rlimits, set just before the kernel starts: address space (memory bombs
  raise ``MemoryError`` or kill only the kernel), file size, open files and CPU time.
- **Environment.** Cleared; only the variables in ``KEPT_ENVIRONMENT`` pass.

Without bubblewrap (``bwrap`` not installed or not allowed), kernels run with the rlimits
only and ``sandbox_problem()`` says why, so callers can warn.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, Unicode, default

from coursekit.config import REPO_ROOT
from coursekit.datasets.paths import keras_datasets_dir

GIB = 2**30
MIB = 2**20
KEPT_ENVIRONMENT = (
    "NBGRADER_EXECUTION",
    "COURSE_FAST",
    "KERAS_BACKEND",
    "LANG",
    "LC_ALL",
    "TZ",
    "OMP_NUM_THREADS",
)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one kernel (bytes and seconds)."""

    memory: int = 4 * GIB  # address space: TensorFlow alone maps about 2.5 GiB
    file_size: int = 256 * MIB
    open_files: int = 1024
    cpu_seconds: int = 1800

    def command_prefix(self):
        """A prefix that sets the limits, then runs the rest of the command in their place.

        Python's ``resource`` rather than util-linux's ``prlimit``, so it also runs on macOS
        (which accepts but does not enforce an address-space limit).
        """
        values = (self.memory, self.file_size, self.open_files, self.cpu_seconds)
        return [sys.executable, "-c", SET_LIMITS_THEN_EXEC, *map(str, values), "--"]


SET_LIMITS_THEN_EXEC = """\
import os, resource, sys
for name, value in zip(("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CPU"), sys.argv[1:5]):
    try:
        resource.setrlimit(getattr(resource, name), (int(value), int(value)))
    except (AttributeError, OSError, ValueError):
        pass  # a limit this system does not offer
os.execvp(sys.argv[6], sys.argv[6:])
"""


def readable_paths():
    """What a kernel must read: the Python it runs on, the venv and the course's checks."""
    paths = {Path(sys.base_prefix), Path(sys.prefix)}
    paths |= {REPO_ROOT / "coursekit", REPO_ROOT / "problem_unittests.py"}
    return sorted(path.resolve() for path in paths if path.exists())


def bwrap_args(workdir, runtime_dir, keras_home=None):
    """A bubblewrap command prefix that shows the kernel only what it needs.

    ``workdir``: the notebook's folder (read-write, the kernel's cwd); ``runtime_dir``: the
    folder holding the kernel's connection file and IPC sockets (read-write);
    ``keras_home``: a Keras folder whose ``datasets/`` the notebooks may read (read-only,
    exported as KERAS_HOME); datasets not there fall back to fast mode's stand-ins.
    """
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    args += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/", link)
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.exists():
            args += ["--ro-bind", str(target), str(target)]
    for path in ("/etc/fonts", "/etc/localtime", "/etc/alternatives", "/etc/ssl"):
        if Path(path).exists():
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/home"]
    for path in readable_paths():
        args += ["--ro-bind", str(path), str(path)]
    for path in (runtime_dir, workdir):
        args += ["--bind", str(path), str(path)]
    environment = {name: os.environ[name] for name in KEPT_ENVIRONMENT if name in os.environ}
    environment.update(
        HOME="/tmp/home",
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        MPLCONFIGDIR="/tmp/home/.matplotlib",
        TF_CPP_MIN_LOG_LEVEL="2",
        COURSE_OFFLINE="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if keras_home is not None:
        args += ["--ro-bind", str(keras_home), str(keras_home)]
        environment["KERAS_HOME"] = str(keras_home)
    for name, value in sorted(environment.items()):
        args += ["--setenv", name, value]
    args += ["--chdir", str(workdir), "--"]
    return args


@cache
def sandbox_problem():
    """None when bubblewrap works here, else a sentence saying why it does not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian: apt-get install bubblewrap)"
    probe = ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--", "true"]
    result = subprocess.run(probe, capture_output=True, text=True)
    if result.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {result.stderr.strip()}"
    return None


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start inside ``bwrap_args`` and under ``Limits``.

    Uses IPC transport: the kernel has no network, not even the grader's loopback.
    Configured like any traitlets class (``SandboxedKernelManager.memory = ...``).
    """

    memory = Integer(Limits.memory, help="address-space limit, bytes").tag(config=True)
    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU-time limit, seconds").tag(config=True)
    keras_home = Unicode(
        help="a Keras folder whose datasets/ graded notebooks may read (default: the "
        "grader's own Keras cache, when it has datasets)"
    ).tag(config=True)

    @default("keras_home")
    def _keras_home_default(self):
        datasets = keras_datasets_dir()
        return str(datasets.parent) if datasets.is_dir() else ""

    async def _async_pre_start_kernel(self, **kw):
        self._workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
        # The kernel's own start-up banner and warnings are not the student's output.
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        if sandbox_problem() is None and self.transport != "ipc":
            # A private folder for the connection file and the sockets: the only part of
            # the grader's file system, besides the notebook's folder, that the kernel sees.
            runtime_dir = Path(tempfile.mkdtemp(prefix="coursekit-kernel-"))
            self._runtime_dir = runtime_dir
            self.transport = "ipc"
            self.ip = str(runtime_dir / "kernel")
            self.connection_file = str(runtime_dir / "kernel.json")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and getattr(self, "_runtime_dir", None):
            shutil.rmtree(self._runtime_dir, ignore_errors=True)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        limits = Limits(memory=self.memory, cpu_seconds=self.cpu_seconds)
        if sandbox_problem() is not None:
            return limits.command_prefix() + command
        workdir = getattr(self, "_workdir", None) or Path.cwd()
        runtime_dir = Path(self.connection_file).resolve().parent
        keras_home = self.keras_home or None
        return limits.command_prefix() + bwrap_args(workdir, runtime_dir, keras_home) + command
