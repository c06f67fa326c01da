"""Run a student's kernel in a sandbox: bubblewrap for files and network, limits for resources.

What the sandbox does (see ``admin/instructor-notes.md``, "Grading untrusted notebooks"):

- **Files.** The kernel sees a read-only system (``/usr``, ``/etc/fonts``, the Python it runs
  on, the venv), the course's check package (``pixelschool/`` and ``problem_unittests.py``),
  the grader's Keras datasets folder if there is one (public data), the files of its own
  submission (read-only) and two small private tmpfs folders it may write: its working folder
  and ``/tmp``, each capped at ``Limits.disk`` bytes. It does not see ``solutions/``, the
  gradebook, ``admin/``, other students' submissions or anyone's home folder, and what it
  writes vanishes with it.
- **Network.** A network namespace of its own with only a loopback device: no route out.
  The kernel talks to the grader over IPC (Unix) sockets in a private runtime folder, which
  is read-only to it once they are made (``seal``): nothing it writes there reaches the
  host's disk. Its standard error and its watch go into pipes there that the grader drains
  (``watch.py``).
- **Processes.** Its own PID namespace; it dies with the grader (``--die-with-parent``).
  ``Limits.processes`` caps processes and threads. Linux does not apply that cap to root, so
  a root grader runs each kernel as an unprivileged uid of its own (``launch.py``).
- **Resources.** rlimits, set by ``launch.py`` just before the kernel starts: address space
  (memory bombs raise ``MemoryError`` or kill only the kernel), file size, open files, CPU.
- **Environment.** Cleared; only the variables in ``KEPT_ENVIRONMENT`` pass.
- **Watch.** ``launch.py``'s audit hook logs paths opened outside the sandbox's folders,
  network use and new processes, for the instructor's report, and answers the grader's
  state check before each graded cell (``pixelschool.pristine``).

Without bubblewrap (not installed, not allowed, or not Linux) kernels run with the limits
that still apply; ``protections()`` says which, and callers print it.
"""

import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pixelschool.datasets.paths import keras_datasets_dir
from pixelschool_admin.grading.settings import GIB, MIB, Limits

LAUNCHER = Path(__file__).with_name("launch.py")
ZYGOTE = Path(__file__).with_name("zygote.py")  # warm kernels (warm.py); imports launch.py
KEPT_ENVIRONMENT = (
    "NBGRADER_EXECUTION",
    "COURSE_FAST",
    "KERAS_BACKEND",
    "LANG",
    "LC_ALL",
    "TZ",
    "OMP_NUM_THREADS",
)
# For every kernel, cold or warm: IPython's history in memory, no database and no thread to
# save it (a cell's thread count then matches a cold kernel's, whose database fails to open).
KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:",)
# Uids for kernels started by a root grader: far above any real account, one per kernel.
KERNEL_UIDS = (2**24, 2**30)
MAX_BOUND_ENTRIES = 256  # files of one submission shown to its kernel


def kernel_uid():
    """A uid for one kernel, drawn from the system's randomness: Python's ``random`` can be
    seeded by any library in the grader (Keras's ``set_random_seed``), and a repeated uid
    finds what an earlier kernel left in its user keyring, which Linux keeps after it ends."""
    return random.SystemRandom().randrange(*KERNEL_UIDS)


def running_as_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def user_tasks():
    """Processes and threads of this user now (Linux), else None."""
    proc = Path("/proc")
    if not (proc / "self" / "status").exists():
        return None
    total, uid = 0, os.getuid()
    for status in proc.glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("Threads", "1"))
    return total


def kernel_python():
    """The Python the kernel runs: this one, through its real folder (a venv reached by a
    symlink is not on the sandbox's paths under the link's name)."""
    exe = Path(sys.executable)
    return str(exe.parent.resolve() / exe.name)


def both_names(path):
    """``{(resolved path, name to show it under)}``: the path itself, and its link if any."""
    path = Path(path).absolute()
    real = path.resolve()
    return {(real, real), (real, path)}


@cache
def readable_paths():
    """(source, destination) pairs a kernel must read: the Python, the venv, the student
    runtime (``pixelschool`` and ``problem_unittests``, wherever they are installed) and the
    launcher and zygote. The rest of the instructor's side (``pixelschool_admin``, solutions, hidden
    expectations) is not among them."""
    pairs = both_names(LAUNCHER) | both_names(ZYGOTE)
    for path in (sys.base_prefix, sys.prefix, Path(sys.executable).parent):
        pairs |= both_names(path)
    for module in ("pixelschool", "problem_unittests"):
        spec = importlib.util.find_spec(module)
        path = Path(spec.origin)
        pairs |= both_names(path.parent if path.name == "__init__.py" else path)
    return tuple(sorted(pairs))


def with_parents(dest, done):
    """``--dir`` arguments (mode 755) for the folders above ``dest`` not made yet: bubblewrap
    would copy the host's modes, and a private parent (``/root``, 700) hides the rest from a
    kernel that runs as another user."""
    args = []
    for parent in reversed(Path(dest).parents):
        if str(parent) in ("/", "/tmp", "/usr") or parent in done:
            continue
        done.add(parent)
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


@dataclass(frozen=True)
class KernelSandbox:
    """Everything one kernel's command line needs, on the grader's side."""

    workdir: Path  # the notebook's folder: its files shown read-only, a tmpfs over it
    runtime_dir: Path  # the connection file and the IPC sockets (sealed once the kernel is up)
    limits: Limits = Limits()
    keras_home: str | None = None  # a Keras folder whose datasets/ notebooks may read
    watch: str | None = None  # the pipe launch.py's watch writes into (watch.Pipes)
    connection_file: str | None = None  # the one file of runtime_dir it reads
    uid: int | None = None  # run the kernel as this uid (a root grader)
    home: str = "/tmp/home"  # the kernel's HOME; without bubblewrap, a private folder
    font_cache: str | None = None  # matplotlib's font list, shown read-only (font_cache())

    def environment(self):
        """What the kernel's environment sets, with or without bubblewrap."""
        environment = {name: os.environ[name] for name in KEPT_ENVIRONMENT if name in os.environ}
        environment.update(
            HOME=self.home,
            PATH=f"{Path(kernel_python()).parent}:/usr/bin:/bin",
            MPLCONFIGDIR=f"{self.home}/.matplotlib",
            TF_CPP_MIN_LOG_LEVEL="2",
            COURSE_OFFLINE="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.keras_home:
            environment["KERAS_HOME"] = str(self.keras_home)
        return environment

    def bwrap_args(self):
        """The bubblewrap prefix that shows the kernel only what it needs."""
        done = set()
        args = self.system_args(done, () if self.uid is None else ("CAP_SETUID", "CAP_SETGID"))
        args += with_parents(self.runtime_dir, done)
        args += ["--bind", str(self.runtime_dir), str(self.runtime_dir)]  # sealed once up
        args += with_parents(self.workdir, done)
        args += ["--perms", "0777", "--size", str(self.limits.disk), "--tmpfs", str(self.workdir)]
        for entry in sorted(self.workdir.iterdir())[:MAX_BOUND_ENTRIES]:
            args += ["--ro-bind", str(entry), str(entry)]
        return args + self.final_args(done)

    def system_args(self, done, capabilities):
        """bubblewrap's namespaces and the read-only system, Python, runtime and fonts; the
        sandboxed process keeps ``capabilities`` (in its own user namespace, if it has one).

        A root grader gets no user namespace: the kernel switches to ``uid`` itself
        (launch.py, zygote.py), so the process limit, which Linux keys on the real uid,
        applies; it loses its capabilities with the switch."""
        args = ["bwrap", "--die-with-parent", "--new-session", "--clearenv"]
        if self.uid is None:
            args += ["--unshare-all"]
        else:
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
            args += ["--unshare-cgroup-try"]
        args += [arg for cap in capabilities for arg in ("--cap-add", cap)]
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
        disk = str(self.limits.disk)
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "01777", "--size", disk, "--tmpfs", "/tmp"]
        args += ["--perms", "0777", "--dir", self.home]
        if self.font_cache:
            config = f"{self.home}/.matplotlib"
            args += ["--perms", "0777", "--dir", config]
            args += ["--ro-bind", self.font_cache, f"{config}/{Path(self.font_cache).name}"]
        for source, dest in readable_paths():
            args += with_parents(dest, done) + ["--ro-bind", str(source), str(dest)]
        return args

    def final_args(self, done):
        """The datasets, the environment and the working folder, after the other mounts."""
        args = []
        if self.keras_home:
            args += with_parents(self.keras_home, done)
            args += ["--ro-bind", str(self.keras_home), str(self.keras_home)]
        for name, value in sorted(self.environment().items()):
            args += ["--setenv", name, value]
        return args + ["--chdir", str(self.workdir), "--"]

    def launcher_args(self, sandboxed):
        """``python launch.py <limits> --`` for inside the sandbox (or instead of it)."""
        limits = self.limits
        processes = limits.processes
        if not sandboxed:
            # Without a user namespace or a uid of its own the limit counts every process
            # of this user: allow what runs already, plus the kernel's share.
            tasks = user_tasks()
            processes = None if running_as_root() or tasks is None else tasks + processes
        args = [kernel_python(), str(LAUNCHER)]
        values = {
            "--memory": limits.memory,
            "--file-size": limits.file_size,
            "--open-files": limits.open_files,
            "--cpu": limits.cpu_seconds,
            "--processes": processes,
            "--uid": self.uid if sandboxed else None,
            "--watch": self.watch,
        }
        for flag, value in values.items():
            if value is not None:
                args += [flag, str(value)]
        if not sandboxed:  # bubblewrap sets these itself, in a cleared environment
            args += [
                a for k, v in sorted(self.environment().items()) for a in ("--env", f"{k}={v}")
            ]
        return args + (self.watch_args() if self.watch else []) + ["--"]

    def watch_args(self):
        """``--allow`` and ``--skeleton`` arguments for launch.py (see ``watched``)."""
        allowed, skeleton = self.watched()
        return [arg for path in allowed for arg in ("--allow", path)] + [
            arg for path in skeleton for arg in ("--skeleton", path)
        ]

    def watched(self):
        """(allowed, skeleton): the folders the kernel sees; the folders under /tmp that
        bubblewrap made only to hold those mounts (anything else in them is the grader's)."""
        readable = sorted({str(dest) for _, dest in readable_paths()})
        mine = [str(self.workdir), self.connection_file or str(self.runtime_dir)]
        mine += [str(self.keras_home)] if self.keras_home else []
        allowed = ["/usr", "/proc", "/sys", "/dev", "/etc", self.home, "/bin", "/lib", "/lib64"]
        allowed += readable + mine
        # Python looks for problem_unittests' bytecode beside it (and finds none).
        allowed += sorted({str(Path(path).parent / "__pycache__") for path in readable})
        parents = {str(parent) for path in readable + mine for parent in Path(path).parents}
        skeleton = sorted(p for p in parents if Path(p).is_relative_to("/tmp") and p != "/tmp")
        return allowed, skeleton

    def command(self, kernel_cmd):
        """The whole command that starts ``kernel_cmd`` in the sandbox (or under limits)."""
        if kernel_cmd and Path(kernel_cmd[0]).resolve() == Path(sys.executable).resolve():
            kernel_cmd = [kernel_python(), *kernel_cmd[1:]]
        if sandbox_problem() is not None:
            return self.launcher_args(False) + kernel_cmd
        return self.bwrap_args() + self.launcher_args(True) + kernel_cmd


def default_keras_home():
    """The grader's Keras folder, when it holds datasets; else ''."""
    datasets = keras_datasets_dir()
    return str(datasets.parent) if datasets.is_dir() else ""


@cache
def font_cache():
    """(file name, bytes) of the font list matplotlib builds in a kernel's sandbox, or None.

    Each kernel starts with an empty ``MPLCONFIGDIR``, so matplotlib would scan the system's
    fonts in every kernel (about a second). The list is built once per grading process, in
    the same sandbox with no student code, and each kernel gets a read-only copy: the same
    list it would have built itself, which no other kernel can have touched."""
    if sandbox_problem() is not None:
        return None
    with tempfile.TemporaryDirectory(prefix="pixelschool-fonts-") as tmp:
        folders = [Path(tmp, name) for name in ("work", "run", "config")]
        for folder in folders:
            folder.mkdir()
        sandbox = KernelSandbox(workdir=folders[0], runtime_dir=folders[1])
        args = sandbox.bwrap_args()
        at = len(args) - 3  # before "--chdir", workdir, "--"
        args[at:at] = ["--bind", str(folders[2]), f"{sandbox.home}/.matplotlib"]
        script = "import matplotlib.font_manager"
        try:
            subprocess.run([*args, kernel_python(), "-c", script], capture_output=True, timeout=300)
        except (OSError, subprocess.SubprocessError):
            return None
        found = sorted(folders[2].glob("fontlist-*.json"))
        return (found[0].name, found[0].read_bytes()) if found else None


@cache
def sandbox_problem():
    """None when bubblewrap works here, else a sentence saying why it does not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--", "true"]
    result = subprocess.run(probe, capture_output=True, text=True)
    if result.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {result.stderr.strip()}"
    return None


def protections(limits=None):
    """[(protection, in force here?, how or why not)] for the banner and the report."""
    limits = limits or Limits()
    problem = sandbox_problem()
    boxed = problem is None
    linux = sys.platform.startswith("linux")
    if boxed:
        processes = f"at most {limits.processes} processes and threads per kernel"
    elif running_as_root() or not linux:
        processes = "none: without bubblewrap a root grader cannot cap processes"
    else:
        processes = f"this user's processes now plus {limits.processes}"
    rows = [
        ("files hidden", boxed, "bubblewrap" if boxed else problem),
        ("no network", boxed, "bubblewrap" if boxed else problem),
        ("process limit", boxed or (linux and not running_as_root()), processes),
        (
            "disk limit",
            boxed,
            f"{limits.disk // MIB} MiB per writable folder" if boxed else "per file only",
        ),
        ("memory limit", linux, f"{limits.memory / GIB:g} GiB" if linux else "not enforced"),
        ("cell time limit", True, "per cell, from the grading settings"),
    ]
    return rows
