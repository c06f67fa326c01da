"""Start a student's kernel: set its limits, drop root, watch what it does, run ipykernel.

Run by path, inside the sandbox, before any student code (standard library only)::

    python launch.py --memory B --file-size B --open-files N --cpu S --processes N
                     [--uid UID] [--env NAME=VALUE ...] [--watch PIPE --allow DIR ...]
                     -- python -m ipykernel_launcher ...

- **Limits** are rlimits; ``--processes`` is ``RLIMIT_NPROC``, which Linux does not enforce on
  root, so a root grader passes ``--uid``: the launcher switches to that unprivileged uid
  (one per kernel, so each kernel has its own process budget) before anything else runs.
- **Environment**: ``--env`` sets variables (HOME and the like) where no sandbox does.
- **Watch**: a Python audit hook (PEP 578; it cannot be removed once added) writes one line
  per notable event into ``PIPE``, a named pipe whose other end the grader holds and drains
  (nothing written can be taken back): files opened or listed outside the ``--allow``
  folders, network use, new processes. It also answers the grader's state check before each
  graded cell (``pixelschool.pristine``): it puts back IPython's state as the kernel started and
  writes what it found, signed with a key it drew before any student code ran. It is the
  student's own process that runs it, so it is a report for the instructor, not a
  protection: the sandbox is the protection; a watch switched off or cut is itself reported
  (its answer to the next check is missing).
"""

import argparse
import hashlib
import hmac
import json
import os
import resource
import runpy
import sys

LIMITS = {
    "memory": "RLIMIT_AS",
    "file_size": "RLIMIT_FSIZE",
    "open_files": "RLIMIT_NOFILE",
    "cpu": "RLIMIT_CPU",
    "processes": "RLIMIT_NPROC",
}
LINES_PER_KIND = 20  # then only every 10th, 100th, ... occurrence is written
PROCESS_EVENTS = {"os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "os.exec"}
NETWORK_EVENTS = {"socket.connect", "socket.sendto", "socket.getaddrinfo", "socket.bind"}
LISTING_EVENTS = {"os.listdir", "os.scandir", "os.chdir"}
# Events that make or change a path: the argument that names it
WRITING_EVENTS = {"os.mkdir": 0, "os.remove": 0, "os.rmdir": 0, "os.truncate": 0, "os.rename": 1}
WRITING_EVENTS |= {"os.symlink": 1, "os.link": 1, "os.chmod": 0, "os.chown": 0, "os.utime": 0}
QUIET_PROGRAMS = {"uname", "fc-list"}  # platform.uname(), matplotlib's fonts: not students
QUIET_PATHS = ("/tmp/ipykernel_",)  # ipykernel's cell files, read back for tracebacks
# Imported before the notebook's folder is on sys.path: a submitted pixelschool/ or
# problem_unittests.py cannot stand in for the kit's fresh checks (pixelschool.pristine).
PINNED = ("pixelschool.pristine",)
# What the watch writes besides events (the grader's watch.py reads them): the key first,
# then one signed line per state check. The audit events that ask for them are
# pixelschool.pristine's (a copy here: this file imports nothing of the kit).
KEY_LINE, STATE_LINE = "key", "state"
INSTALL_EVENT, CHECK_EVENT = "pixelschool.pristine.install", "pixelschool.pristine.check"


def set_limits(args):
    for name, rlimit in LIMITS.items():
        value = getattr(args, name)
        if value is None or not hasattr(resource, rlimit):
            continue
        try:
            resource.setrlimit(getattr(resource, rlimit), (value, value))
        except (OSError, ValueError):
            pass  # a limit this system does not offer; sandbox.protections() says so


def drop_root(uid):
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def inside(path, roots):
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def sign(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def watch(pipe, allowed, skeleton=()):
    """Add the audit hook that reports into the named pipe ``pipe``.

    A path is outside when it is not under ``allowed``, and, under ``/tmp`` (the kernel's
    own scratch), when it is under ``skeleton``: the folders bubblewrap made only to hold
    the mounts, where anything else is the grader's, hidden.

    Two events of ``pixelschool.pristine`` are its own: ``INSTALL_EVENT`` hands it the function
    that puts the kernel's state back (the first one only, before any student code), and
    ``CHECK_EVENT`` (a nonce from the grader) runs it and writes the nonce and what it found,
    signed."""
    fd = os.open(pipe, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    key = os.urandom(32)
    on_the_way = {os.path.dirname(path.rstrip("/")) for path in allowed}
    while "/" not in on_the_way or any(os.path.dirname(p) not in on_the_way for p in on_the_way):
        on_the_way |= {os.path.dirname(p) for p in on_the_way}
    counts = {}
    busy = []
    restore = []

    def write(line):
        data = line.replace("\r", " ").replace("\n", " ").encode("utf-8", "replace") + b"\n"
        while data:
            data = data[os.write(fd, data) :]

    def note(kind, detail):
        counts[kind] = n = counts.get(kind, 0) + 1
        if n <= LINES_PER_KIND or str(n).rstrip("0") == "1":
            write(f"{kind}\t{n}\t{detail[:300]}")

    def check(args):
        nonce, answered = args
        try:
            found = restore[0]() if restore else ["the kernel's state was never recorded"]
        except Exception as error:  # noqa: BLE001
            found = [f"the state check failed ({type(error).__name__})"]
        text = json.dumps([str(nonce), found])
        write(f"{STATE_LINE}\t{sign(key, text)}\t{text}")
        answered.append(True)

    def hook(event, args):
        if busy:
            return
        busy.append(1)
        try:
            if event == CHECK_EVENT:
                check(args)
            elif event == INSTALL_EVENT:
                restore[:] = restore or args[:1]
            elif event == "open" or event in LISTING_EVENTS or event in WRITING_EVENTS:
                path = args[WRITING_EVENTS.get(event, 0)] if args else None
                if isinstance(path, str | bytes) and path:
                    full = os.path.abspath(os.fsdecode(path))
                    scratch = (
                        inside(full, ["/tmp"])
                        and not inside(full, skeleton)
                        and os.path.isdir(os.path.dirname(full))  # a grader's path is not
                    )
                    # Listing a folder on the way to one it may read shows only that one
                    # (Python's import system lists them; the sandbox holds nothing else).
                    way = event in LISTING_EVENTS and full.rstrip("/") in on_the_way
                    if not (
                        inside(full, allowed) or scratch or way or full.startswith(QUIET_PATHS)
                    ):
                        note("file", f"{event} {full}")
            elif event in NETWORK_EVENTS:
                note("network", f"{event} {args[1] if len(args) > 1 else ''}")
            elif event in PROCESS_EVENTS or event == "subprocess.Popen":
                program = os.fsdecode(args[0]) if args and isinstance(args[0], str | bytes) else ""
                if os.path.basename(program) not in QUIET_PROGRAMS:
                    note("process", f"{event} {program}")
        except Exception:  # noqa: BLE001  (the watch must never break the kernel)
            pass
        finally:
            busy.pop()

    write(f"{KEY_LINE}\t{key.hex()}")
    sys.addaudithook(hook)


def run_kernel(argv):
    """ipykernel with ``argv``, through ``pixelschool.pristine`` (which records the kernel's
    state for the watch) when the kit is there, else as ``python -m ipykernel_launcher``."""
    sys.argv = ["ipykernel_launcher", *argv]
    pristine = sys.modules.get(PINNED[0])
    if pristine is not None:
        return pristine.start_kernel(argv)
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def main(argv):
    split = argv.index("--")
    parser = argparse.ArgumentParser()
    for name in LIMITS:
        parser.add_argument("--" + name.replace("_", "-"), type=int)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--watch")
    parser.add_argument("--allow", action="append", default=[])
    parser.add_argument("--skeleton", action="append", default=[])
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE to set")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    os.environ.update(item.split("=", 1) for item in args.env)
    if args.uid is not None and os.getuid() == 0:
        drop_root(args.uid)
    set_limits(args)
    if args.watch:
        watch(args.watch, [os.path.abspath(a) for a in args.allow], args.skeleton)
    if command[1:3] == ["-m", "ipykernel_launcher"] and args.watch:
        # Run ipykernel in this process, so the audit hook stays on.
        for name in PINNED:
            try:
                __import__(name)
            except ImportError:
                pass  # a kernel without the kit (the sandbox's own tests)
        sys.path[0] = os.getcwd()
        run_kernel(command[3:])
    else:
        os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
