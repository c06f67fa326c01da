"""Warm kernels, on the grader's side: one zygote per grading process forks each kernel.

A cold kernel starts Python, ipykernel and the notebook's imports (numpy, matplotlib,
scikit-learn: seconds) for every submission. ``Zygote`` starts ``zygote.py`` once, in a
bubblewrap sandbox like a kernel's, where it imports the modules the assignment's own
notebooks import; each kernel is then a fork of it, in namespaces of its own (see
``zygote.py`` for what a kernel gets). ``SandboxedKernelManager`` uses it when its
``warm_area`` names a running one, and falls back to a cold start otherwise.

The zygote is checked before any student depends on it: it must fork a probe through the
whole kernel set-up. After each kernel it removes what that kernel wrote in its ``/tmp``;
if anything else changed there, it is replaced by a fresh one before the next kernel.
"""

import atexit
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from pixelschool_admin.grading.sandbox.bubblewrap import (
    KERNEL_ARGUMENTS,
    KERNEL_UIDS,
    MAX_BOUND_ENTRIES,
    ZYGOTE,
    KernelSandbox,
    font_cache,
    kernel_python,
    running_as_root,
    sandbox_problem,
    with_parents,
)
from pixelschool_admin.grading.settings import Limits

# These start threads or devices when imported: a fork of them is not safe.
NEVER_PRELOADED = ("keras", "tensorflow", "jax", "jaxlib", "torch")
ROOT_CAPABILITIES = (  # a root zygote's: unshare and mount, uids, and clean-up after kernels
    "CAP_SYS_ADMIN",
    "CAP_SYS_CHROOT",  # entering a kernel's mount namespace to seal its runtime folder
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_KILL",
    "CAP_FOWNER",
    "CAP_DAC_OVERRIDE",
)
START_SECONDS = 120
REPLY_SECONDS = 30
IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+(?:\s*,\s*[\w.]+)*))", re.M)


class ZygoteError(RuntimeError):
    """The zygote did not start, broke, or answered what it should not."""


def preload_names(sources):
    """The modules ``sources`` (the assignment's own notebook code) import, fork-safe ones."""
    names = []
    for source in sources:
        for match in IMPORT.finditer(source):
            for name in re.split(r"\s*,\s*", match.group(1) or match.group(2)):
                if name.split(".")[0] not in NEVER_PRELOADED and name not in names:
                    names.append(name)
    return tuple(names)


class Zygote:
    """A running ``zygote.py``: ``fork`` kernels, ``reset`` after each, ``close``."""

    def __init__(self, parent, preload=(), limits=None, keras_home=None):
        self.preload, self.keras_home = tuple(preload), keras_home
        self.limits = limits or Limits()
        self.area = Path(
            tempfile.mkdtemp(prefix=f"pixelschool-task-{os.getpid()}-warm-", dir=parent)
        )
        self.files, self.runtime = self.area / "files", self.area / "run"
        for folder in (self.files, self.runtime):
            folder.mkdir(mode=0o755)
        self.failed = {}  # preloads that did not import: {name: error}
        self.lock = threading.Lock()
        self.busy = threading.Lock()  # one kernel at a time: they share the zygote's /tmp
        self.process = None
        try:
            self.start()
        except BaseException:
            shutil.rmtree(self.area, ignore_errors=True)  # no scratch left behind
            raise
        _running[str(self.area)] = self

    @property
    def key(self):
        return zygote_key(self.preload, self.limits, self.keras_home)

    def sandbox(self):
        fonts = {}
        if (found := font_cache()) is not None:
            fonts["font_cache"] = str(self.area / found[0])
            (self.area / found[0]).write_bytes(found[1])
            (self.area / found[0]).chmod(0o644)
        return KernelSandbox(
            workdir=self.area,
            runtime_dir=self.runtime,
            limits=self.limits,
            keras_home=self.keras_home,
            uid=0 if running_as_root() else None,
            **fonts,
        )

    def command(self):
        sandbox = self.sandbox()
        done = set()
        # not root: all of them, in its own user namespace only
        args = sandbox.system_args(done, ROOT_CAPABILITIES if running_as_root() else ("ALL",))
        args += with_parents(self.files, done)
        args += ["--ro-bind", str(self.files), str(self.files)]
        args += ["--bind", str(self.runtime), str(self.runtime)]
        args += sandbox.final_args(done)
        preloads = [arg for name in self.preload for arg in ("--preload", name)]
        return [*args, kernel_python(), str(ZYGOTE), "--area", str(self.area), *preloads]

    def start(self):
        log = open(self.area / "zygote.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
        )
        log.close()
        ready = self.reply(START_SECONDS)
        self.failed = ready.get("failed", {})
        self.probe()

    def log(self):
        path = self.area / "zygote.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def reply(self, seconds=REPLY_SECONDS):
        """The zygote's next answer, as a dict."""
        out = self.process.stdout
        ready, _, _ = select.select([out], [], [], seconds)
        line = out.readline() if ready else b""
        if not line:
            self.stop()
            raise ZygoteError(f"the zygote stopped answering: {self.log()}")
        answer = json.loads(line)
        if "error" in answer:
            raise ZygoteError(answer["error"])
        return answer

    def request(self, **request):
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                raise ZygoteError(f"the zygote is not running: {self.log()}")
            try:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            except OSError as error:
                raise ZygoteError(f"the zygote is gone: {error}") from error
            return self.reply()

    def probe(self):
        """Fork a kernel's whole set-up (namespaces, view, identity, limits) that stops where
        ipykernel would start; it must report its uid, with no capabilities left."""
        runtime, files = self.kernel_folders("probe")
        uid = KERNEL_UIDS[0] if running_as_root() else None
        kernel = self.fork(runtime, files, self.area / "probe-work", uid=uid, probe=True)
        try:
            status = kernel.wait(START_SECONDS)
        except subprocess.TimeoutExpired:
            status = None
        text = (runtime / "stderr.log").read_text(errors="replace")
        self.discard("probe")
        clean = self.request(op="reset")["clean"]
        if status != 0 or "probe: uid" not in text or not clean:
            self.stop()
            raise ZygoteError(f"a forked kernel did not get its sandbox: {text[-2000:]}")

    def kernel_folders(self, name):
        """(runtime folder, files folder) for the kernel ``name``, both new."""
        runtime, files = self.runtime / name, self.files / name
        for folder in (runtime, files):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(mode=0o755)
        return runtime, files

    def discard(self, name):
        shutil.rmtree(self.runtime / name, ignore_errors=True)
        shutil.rmtree(self.files / name, ignore_errors=True)

    def fork(
        self,
        runtime,
        files,
        workdir,
        uid=None,
        environment=None,
        watch=None,
        probe=False,
        limits=None,
        stderr=None,
    ):
        """A ``ForkedKernel`` whose working folder is ``workdir`` (a path it creates) with the
        files of ``files``, read-only, under ``limits``; it serves ``runtime``/kernel.json
        and writes its standard error to ``stderr`` (default: runtime/stderr.log)."""
        limits = limits or self.limits
        request = {
            "op": "fork",
            "connection_file": str(runtime / "kernel.json"),
            "arguments": list(KERNEL_ARGUMENTS),
            "stderr": str(stderr or runtime / "stderr.log"),
            "files": str(files),
            "workdir": str(workdir),
            "disk": limits.disk,
            "uid": uid,
            "limits": {
                "memory": limits.memory,
                "file_size": limits.file_size,
                "open_files": limits.open_files,
                "cpu": limits.cpu_seconds,
                "processes": limits.processes,
            },
            "environment": environment or {},
            "watch": watch,
            "probe": probe,
        }
        if uid is not None:
            os.chown(runtime, uid, uid)
        return ForkedKernel(self, self.request(**request)["pid"])

    def claim(self):
        """Reserve the zygote for one kernel (until ``reset``); False if it is in use."""
        if self.process is None or self.process.poll() is not None:
            return False
        return self.busy.acquire(blocking=False)

    def reset(self):
        """After a kernel: True when the zygote is as it started (else it is replaced)."""
        try:
            for child in self.runtime.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
            try:
                clean = self.request(op="reset")["clean"]
            except ZygoteError:
                clean = False
            if not clean:
                self.stop()
                try:
                    self.start()
                except ZygoteError:
                    pass  # its next kernel starts cold (process is None)
            return clean
        finally:
            if self.busy.locked():
                self.busy.release()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self):
        self.stop()
        _running.pop(str(self.area), None)
        shutil.rmtree(self.area, ignore_errors=True)


class ForkedKernel:
    """What jupyter_client's provisioner needs of a ``Popen``, for a kernel the zygote forked."""

    stdin = stdout = stderr = None

    def __init__(self, zygote, pid):
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self):
        if self.returncode is None:
            try:
                self.returncode = self.zygote.request(op="poll", pid=self.pid)["status"]
            except ZygoteError:
                self.returncode = -9  # the zygote took its kernels with it
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, number):
        if self.poll() is None:
            self.zygote.request(op="signal", pid=self.pid, signal=int(number))

    def kill(self):
        self.send_signal(9)

    def terminate(self):
        self.send_signal(15)


def fork_for(manager, zygote):
    """A ``ForkedKernel`` for ``SandboxedKernelManager`` ``manager``: its working folder,
    runtime folder, uid, limits, environment, pipes and watch, as a cold start has them."""
    runtime, pipes = manager._runtime_dir, manager._pipes
    sandbox = KernelSandbox(
        workdir=manager._workdir,
        runtime_dir=runtime,
        limits=manager._limits(),
        keras_home=manager.keras_home or None,
        watch=str(pipes.watch.path),
        connection_file=manager.connection_file,
    )
    files = zygote.files / runtime.name
    files.mkdir()
    share_files(manager._workdir, files)
    allowed, skeleton = sandbox.watched()
    watch = {"pipe": sandbox.watch, "allow": allowed, "skeleton": skeleton}
    return zygote.fork(
        runtime,
        files,
        manager._workdir,
        manager._uid,
        sandbox.environment(),
        watch,
        limits=sandbox.limits,
        stderr=pipes.stderr.path,
    )


def discard_kernel(manager, zygote):
    """After ``fork_for``'s kernel ended: its files go, then ``zygote.reset``."""
    zygote.discard(manager._runtime_dir.name)
    zygote.reset()


def share_files(workdir, files):
    """Hard links (or copies) of ``workdir``'s entries in ``files``, as a kernel sees them."""
    for entry in sorted(Path(workdir).iterdir())[:MAX_BOUND_ENTRIES]:
        target = files / entry.name
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True, copy_function=link_or_copy)
        elif not entry.is_symlink():
            link_or_copy(entry, target)


def link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


_running = {}  # area -> Zygote, in this process
_refused = {}  # key -> why no zygote could start here


def zygote_key(preload, limits, keras_home):
    """What makes a zygote: its imports, its /tmp's size and the datasets it shows."""
    return (tuple(preload), limits.disk, keras_home)


def get(area):
    """The running zygote whose area is ``area``, or None."""
    return _running.get(str(area))


def for_assignment(parent, preload, limits, keras_home):
    """(zygote, None) for this process and these settings, or (None, why not)."""
    if sandbox_problem() is not None:
        return None, sandbox_problem()
    key = zygote_key(preload, limits, keras_home)
    if key in _refused:
        return None, _refused[key]
    for zygote in list(_running.values()):
        if zygote.key == key and zygote.process and zygote.process.poll() is None:
            return zygote, None
        zygote.close()
    try:
        return Zygote(parent, preload, limits, keras_home), None
    except (ZygoteError, OSError) as error:
        _refused[key] = str(error)
        return None, str(error)


@atexit.register
def close_all():
    for zygote in list(_running.values()):
        zygote.close()
