"""Warm kernels: a process that imported the course's modules once forks each student's kernel.

Run by path, inside a bubblewrap sandbox built like a kernel's (``warm.py`` starts it)::

    python zygote.py --preload numpy --preload matplotlib.pyplot ...

It never runs student code. It imports the modules, then answers one JSON request per line
on its standard input (the grader's pipe; no kernel can reach it):

- ``{"op": "fork", ...}``: a kernel (see ``become_kernel``); answers ``{"pid": pid}``.
- ``{"op": "poll", "pid": pid}``: ``{"status": exit code or null}``.
- ``{"op": "signal", "pid": pid, "signal": n}``: SIGINT interrupts the kernel, others kill it.
- ``{"op": "seal", "pid": pid, "path": path}``: once the kernel is up, its runtime folder
  ``path`` becomes read-only in its view (``seal``); answers ``{"sealed": True}``.
- ``{"op": "reset"}``: after a kernel: removes what it wrote in the shared ``/tmp`` and says
  whether everything else is as it was (``{"clean": bool, "changed": [...]}``).

``python zygote.py --seal PID PATH`` does the same for a cold kernel, from the grader's side.

Each kernel gets what a sandbox of its own would give it: new PID, mount and IPC namespaces
with an init as PID 1, as bubblewrap's (it cannot see the zygote or anything a previous
kernel started, and all its processes die with it), its own ``/proc``, a private working
folder with the submission's files read-only, no capabilities, the uid the grader chose (a
root grader), its limits and the watch (``launch.py``). The modules it finds imported are
the zygote's, untouched by any student: each kernel is forked from the same state.
"""

import ctypes
import fcntl
import importlib
import json
import os
import shutil
import signal
import stat
import sys
import time
import traceback
from types import SimpleNamespace

import launch  # beside this file: limits, dropping root, the watch

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x08000000, 0x20000000
CLONE_NEWUSER, NS_GET_USERNS = 0x10000000, 0xB701
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 1, 24, 47, 4
LIBC = ctypes.CDLL(None, use_errno=True)
KERNEL_FAILED = 70  # exit status of a kernel whose set-up failed (its stderr says why)


def check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def mount(source, target, kind, flags, data=None):
    encode = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    check(LIBC.mount(encode(source), encode(target), encode(kind), flags, encode(data)), target)


def bind_read_only(source, target):
    mount(source, target, None, MS_BIND | MS_REC)
    read_only(target)


# statvfs flags and the mount flags that keep them: a remount that would clear one of them is
# refused in a user namespace (bubblewrap's, when the grader is not root)
KEPT_FLAGS = {
    os.ST_NOSUID: MS_NOSUID,
    os.ST_NODEV: MS_NODEV,
    os.ST_NOEXEC: MS_NOEXEC,
    os.ST_NOATIME: 1024,
    os.ST_NODIRATIME: 2048,
    os.ST_RELATIME: 1 << 21,
}


def read_only(path):
    """Remount the mount at ``path`` read-only (and nosuid), keeping its other flags."""
    have = os.statvfs(path).f_flag
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
    flags |= sum(ms for st, ms in KEPT_FLAGS.items() if have & st)
    mount(None, path, None, flags)


def seal(pid, path):
    """Make ``path`` read-only in the mount namespace of process ``pid``, from a process of
    one thread (``setns`` wants it). When a user namespace of its own owns that mount
    namespace (bubblewrap's first one, for a grader that is not root: the grader owns it),
    enter it first."""
    mounts = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
    owner = fcntl.ioctl(mounts, NS_GET_USERNS)
    if os.fstat(owner).st_ino != os.stat("/proc/self/ns/user").st_ino:
        check(LIBC.setns(owner, CLONE_NEWUSER), f"entering the user namespace of {pid}")
    check(LIBC.setns(mounts, CLONE_NEWNS), f"entering the mount namespace of {pid}")
    read_only(path)
    return 0


def drop_capabilities():
    """Lose every capability (the sandbox's user namespace gave the zygote all of them)."""
    LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    last = int(open("/proc/sys/kernel/cap_last_cap").read())  # noqa: SIM115
    for cap in range(last + 1):
        LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    check(LIBC.capset(header, (ctypes.c_uint32 * 6)()), "capset")


def capabilities():
    """{'CapEff': int, ...} of this process."""
    lines = open("/proc/self/status").read().splitlines()  # noqa: SIM115
    return {k: int(v, 16) for k, v in (line.split(":\t") for line in lines if line[:3] == "Cap")}


def make_view(request):
    """In the new namespaces: a private mount table, its own /proc, the working folder."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    workdir, disk = request["workdir"], request["disk"]
    os.makedirs(workdir, exist_ok=True)
    # Nothing but /tmp (and its own folders) writable: not the sandbox's / and /dev, not the
    # other kernels' runtime folders (all the same uid when the grader is not root).
    runtime = os.path.dirname(request["connection_file"])
    mount(runtime, runtime, None, MS_BIND)
    for path in ("/", "/dev", os.path.dirname(runtime)):
        read_only(path)
    mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0777,size={disk}")
    files = request["files"]
    for name in sorted(os.listdir(files)):
        source, target = os.path.join(files, name), os.path.join(workdir, name)
        if os.path.isdir(source) and not os.path.islink(source):
            os.mkdir(target)
        else:
            open(target, "w").close()  # noqa: SIM115  (a mount point)
        bind_read_only(source, target)


def become_student(request):
    """The kernel's identity (no capabilities; a root grader: its own uid), environment,
    working folder, limits and watch."""
    uid = request.get("uid")
    if uid is not None:
        launch.drop_root(uid)
    else:
        drop_capabilities()
    left = {k: v for k, v in capabilities().items() if k in ("CapPrm", "CapEff", "CapAmb") and v}
    if left:
        raise PermissionError(f"capabilities left: {left}")
    os.environ.clear()
    os.environ.update(request["environment"])
    os.chdir(request["workdir"])
    launch.set_limits(SimpleNamespace(**request["limits"]))
    if request.get("watch"):
        watch = request["watch"]
        launch.watch(watch["pipe"], watch["allow"], watch.get("skeleton", ()))


def in_child(body):
    """Fork; the child runs ``body()`` and exits with its code (or KERNEL_FAILED). The pid."""
    pid = os.fork()
    if pid == 0:
        code = KERNEL_FAILED
        try:
            code = body()
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    return pid


def wait_for(child):
    """Pass SIGINT on to ``child``, turn other signals into SIGKILL for it, reap every child
    (an init must), and return ``child``'s exit status, 0-255."""

    def relay(number, _):
        try:
            os.kill(child, number if number == signal.SIGINT else signal.SIGKILL)
        except ProcessLookupError:
            pass

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, relay)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return KERNEL_FAILED
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code


def become_kernel(request):
    """The forked child: three processes, like a kernel bubblewrap starts.

    This one stays in the zygote's namespaces as the grader's handle on the kernel. Its
    child is PID 1 of new PID, mount and IPC namespaces: it makes the kernel's view, then
    acts as init (reaps orphans; if it dies, everything in its namespace dies, and it dies
    with the handle: PR_SET_PDEATHSIG). Its child, PID 2, becomes the student's kernel. Each
    passes SIGINT on (an interrupt) and turns other signals into SIGKILL for the kernel."""
    check(LIBC.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")

    def init():
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        make_view(request)
        return wait_for(in_child(kernel))

    def kernel():
        become_student(request)
        if request.get("probe"):  # the grader's check of the set-up, before any kernel
            print(f"probe: uid {os.getuid()}, capabilities {capabilities()}", file=sys.stderr)
            return 0
        return run_ipykernel(request["connection_file"], request["workdir"], request["arguments"])

    os._exit(wait_for(in_child(init)))


def run_ipykernel(connection_file, workdir, arguments):
    """ipykernel, as ``python -m ipykernel_launcher -f connection_file *arguments`` would."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()  # a kernel of its own draws its own numbers
        # OpenBLAS starts its threads when numpy is imported, and a fork has none: start them
        # now, as a cold kernel has them (they count against the process limit)
        numpy.ones((256, 256)) @ numpy.ones((256, 256))
    sys.path.insert(0, workdir)
    try:
        launch.run_kernel(["-f", connection_file, *arguments])
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else 1
    return 0


def fork(request):
    def handle():
        for fd, target in ((0, os.devnull), (1, os.devnull), (2, request["stderr"])):
            # (stderr: the grader's pipe, or the probe's file)
            mode = os.O_RDWR if fd < 2 else os.O_WRONLY | os.O_CREAT | os.O_APPEND
            os.dup2(os.open(target, mode, 0o600), fd)
        os.closerange(3, 1 << 16)  # the zygote's pipe to the grader, among others
        os.setsid()
        become_kernel(request)

    return {"pid": in_child(handle)}


class Zygote:
    """The request loop's state: its children, their exit codes, ``/tmp`` as it started."""

    def __init__(self, area):
        self.exited = {}
        self.roots = scratch_roots(area)
        self.pristine = {root: snapshot(root) for root in self.roots}

    def poll(self, pid):
        if pid not in self.exited:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                self.exited[pid] = os.waitstatus_to_exitcode(status)
        return self.exited.get(pid)

    def handle(self, request):
        op = request["op"]
        if op == "fork":
            return fork(request)
        if op == "poll":
            return {"status": self.poll(request["pid"])}
        if op == "signal":
            if self.poll(request["pid"]) is None:
                os.kill(request["pid"], request["signal"])
            return {"ok": True}
        if op == "seal":
            helper = in_child(lambda: seal(request["pid"], request["path"]))
            if os.waitstatus_to_exitcode(os.waitpid(helper, 0)[1]) != 0:
                raise OSError(f"the runtime folder of kernel {request['pid']} was not sealed")
            return {"sealed": True}
        if op == "reset":
            left = end_the_others()
            self.exited.clear()
            changed = [f"process {pid} still there" for pid in left]
            for root in self.roots:
                changed += restore(root, self.pristine[root])
            return {"clean": not changed, "changed": changed[:20]}
        raise ValueError(f"unknown request {op!r}")


def end_the_others(seconds=10):
    """Kill every process of this PID namespace but bubblewrap's init (1) and this one, and
    wait until they are gone: nothing of the last kernel can still write. Those left."""
    me, deadline = os.getpid(), time.monotonic() + seconds
    while True:
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        if not others or time.monotonic() > deadline:
            return others
        time.sleep(0.005)


def scratch_roots(area):
    """The folders a kernel may write in that outlive it: /tmp, and the one that holds the
    working folders (the grader's temporary folder, the zygote's area's parent) if not in it."""
    parent = os.path.dirname(area)
    return ["/tmp"] + ([] if parent == "/tmp" or parent.startswith("/tmp/") else [parent])


def snapshot(root):
    """{path: (kind, mode, uid, size, mtime, attributes)} of ``root``'s tree (no size or time
    for folders: kernels add and remove entries), not entering mount points (binds). Walked
    by folder descriptors: a deep tree costs its size, not its depth squared."""
    found, device = {}, os.stat(root).st_dev
    for folder, dirs, files, fd in os.fwalk(root):
        for name in dirs + files:
            info = os.lstat(name, dir_fd=fd)
            kind = stat.S_IFMT(info.st_mode)
            content = (0, 0) if kind == stat.S_IFDIR else (info.st_size, info.st_mtime_ns)
            path = os.path.join(folder, name)
            try:
                attributes = tuple(sorted(os.listxattr(path, follow_symlinks=False)))
            except OSError:
                attributes = ()
            found[path] = (
                kind,
                stat.S_IMODE(info.st_mode),
                info.st_uid,
                *content,
                attributes,
            )
        dirs[:] = [d for d in dirs if os.lstat(d, dir_fd=fd).st_dev == device]
    return found


def restore(root, pristine):
    """Remove what is under ``root`` and not in ``pristine``; the paths that changed."""
    now = snapshot(root)
    for path in sorted(set(now) - set(pristine)):
        if not os.path.lexists(path):
            continue  # inside a folder removed already
        if now[path][0] == stat.S_IFDIR:
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    after = snapshot(root)
    return sorted(p for p in set(pristine) | set(after) if pristine.get(p) != after.get(p))


def preload(names):
    """Import ``names``; {name: error} for those that failed."""
    failed = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001
            failed[name] = f"{type(error).__name__}: {error}"
    return failed


def main(argv):
    if argv[:1] == ["--seal"]:
        return seal(int(argv[1]), argv[2])
    names = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--preload"]
    area = argv[argv.index("--area") + 1]
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # what the modules print goes to the log, not into the replies
    del sys.path[0], sys.modules["launch"]  # kernels must not import launch or zygote
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    failed = preload(["ipykernel.kernelapp", *launch.PINNED, *names])
    zygote = Zygote(area)
    replies.write(json.dumps({"ready": True, "failed": failed}) + "\n")
    for line in sys.stdin:
        try:
            reply = zygote.handle(json.loads(line))
        except Exception as error:  # noqa: BLE001
            reply = {"error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
