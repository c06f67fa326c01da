"""The grader's end of a kernel: its standard error and watch, its runtime folder, the
state check.

A kernel writes its standard error and its watch (``launch.py``'s audit hook) into two named
pipes in its runtime folder; the grader opened their other ends before the kernel started
and drains them, as the kernel runs, into its own log files, which the kernel cannot see.
What the kernel wrote cannot be truncated or taken back, and no more than ``LOG_BYTES`` of
each reaches the grader's disk. Once the kernel is up (its sockets made, its watch's key
read), the pipes' names go and the runtime folder becomes read-only in the kernel's view
(``seal``): nothing it writes there reaches the host's disk.

Before each graded cell the grader sends the kernel ``pixelschool.pristine``'s state request
with a nonce (``check_state``). The watch puts the kernel's state back and writes the nonce
and what it found into its pipe, signed with the key it drew before any student code and
wrote first. A missing or badly signed answer means the watch was switched off, its pipe
cut, or the answer forged; all are reported.
"""

import asyncio
import hmac
import json
import os
import queue
import secrets
import select
import subprocess
import threading
import time
from pathlib import Path

from pixelschool.pristine import REQUEST, UNDONE
from pixelschool_admin.grading.sandbox.bubblewrap import ZYGOTE, kernel_python, sandbox_problem
from pixelschool_admin.grading.sandbox.launch import KEY_LINE, STATE_LINE, sign

LOG_BYTES = 1 << 20  # of a kernel's standard error, and of what its watch saw
UP_SECONDS = 120  # for a kernel to make its sockets and its watch to speak
LONGEST_LINE = 1 << 16
ANSWER_SECONDS = 2  # for the watch's answer, once the kernel replied


class Pipe:
    """A named pipe at ``path`` for a kernel to write, drained into the file ``log`` (none:
    read and dropped). The grader also holds a write end: reading never meets an end of file
    while the kernel has none open."""

    def __init__(self, path, log, uid=None):
        self.path = Path(path)
        self.path.unlink(missing_ok=True)
        os.mkfifo(self.path, 0o600)
        if uid is not None:
            os.chown(self.path, uid, uid)
        self.reader = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        self.writer = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        self.log = open(log, "ab") if log else None  # noqa: SIM115
        self.kept = self.dropped = 0
        self.partial = b""

    def read(self):
        """Take what is in the pipe now; False once it is closed."""
        while True:
            try:
                data = os.read(self.reader, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                return True
            self.take(data)

    def take(self, data):
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        if len(self.partial) > LONGEST_LINE:
            lines.append(self.partial)
            self.partial = b""
        for line in lines:
            self.line(line + b"\n")

    def line(self, line):
        self.keep(line)

    def keep(self, data):
        if self.log is None:
            return
        room = max(0, LOG_BYTES - self.kept)
        if room:
            self.log.write(data[:room])
            self.log.flush()
        self.kept += min(room, len(data))
        self.dropped += len(data) - min(room, len(data))

    def close(self):
        self.read()
        if self.partial:
            self.line(self.partial)
            self.partial = b""
        for fd in (self.reader, self.writer):
            os.close(fd)
        if self.log is not None:
            if self.dropped:
                self.log.write(f"[{self.dropped:,} more bytes not kept]\n".encode())
            self.log.close()
        self.path.unlink(missing_ok=True)


class Watch(Pipe):
    """The watch's pipe: its key, then event lines (to the log) and signed state answers."""

    def __init__(self, path, log, uid=None):
        super().__init__(path, log, uid)
        self.key = None
        self.answers = {}  # nonce -> [sentences] from a rightly signed answer
        self.forged = set()  # nonces of answers that were not
        self.changed = threading.Condition()

    def line(self, line):
        kind, _, rest = line.decode("utf-8", "replace").rstrip("\n").partition("\t")
        with self.changed:
            if self.key is None and kind == KEY_LINE:
                self.key = bytes.fromhex(rest)
            elif kind == STATE_LINE:
                self.answer_line(rest)
            else:
                self.keep(line)
            self.changed.notify_all()

    def answer_line(self, rest):
        mac, _, text = rest.partition("\t")
        try:
            nonce, found = json.loads(text)
        except ValueError:
            return
        if self.key and hmac.compare_digest(sign(self.key, text), mac) and isinstance(found, list):
            self.answers[str(nonce)] = [str(f)[:300] for f in found]
        else:
            self.forged.add(str(nonce))

    def wait(self, test, seconds):
        """``test()``'s value once true, waiting at most ``seconds``."""
        with self.changed:
            return self.changed.wait_for(test, seconds)


class Pipes:
    """A kernel's standard error and watch pipes in ``folder``, drained by one thread."""

    def __init__(self, folder, uid, stderr_log, watch_log):
        self.stderr = Pipe(Path(folder, "stderr"), stderr_log, uid)
        self.watch = Watch(Path(folder, "watch"), watch_log, uid)
        self.lock = threading.Lock()
        self.wake = os.pipe()  # close() ends the thread's wait at once
        self.thread = threading.Thread(target=self.run, name="kernel pipes", daemon=True)
        self.thread.start()

    def run(self):
        pipes = {p.reader: p for p in (self.stderr, self.watch)}
        while True:
            ready, _, _ = select.select([*pipes, self.wake[0]], [], [])
            if self.wake[0] in ready:
                return
            self.drain(pipes[fd] for fd in ready)

    def drain(self, pipes=None):
        """Take what the pipes hold now (the thread does it as data comes)."""
        with self.lock:
            for pipe in pipes or (self.stderr, self.watch):
                pipe.read()

    def unlink(self):
        """Take the pipes' names away once the kernel has opened them: nothing else can."""
        for pipe in (self.stderr, self.watch):
            pipe.path.unlink(missing_ok=True)

    def close(self):
        os.write(self.wake[1], b"x")
        self.thread.join()
        with self.lock:
            self.stderr.close()
            self.watch.close()
        for fd in self.wake:
            os.close(fd)


async def seal(manager):
    """Once ``manager``'s kernel is up (its sockets exist, its watch wrote its key): the pipes'
    names go and its runtime folder becomes read-only in its view (``zygote.seal``, by the
    zygote for a warm kernel). No student code has run yet."""
    pipes, ports = manager._pipes, manager.get_connection_info()
    names = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
    sockets = [Path(f"{manager.ip}-{ports[n]}") for n in names if manager.transport == "ipc"]
    deadline = time.monotonic() + UP_SECONDS
    while not (pipes.watch.key and all(path.exists() for path in sockets)):
        ended = await manager.provisioner.poll() is not None
        if ended or time.monotonic() > deadline:
            pipes.drain()
            late = f"was not up after {UP_SECONDS} s (its sockets, its watch)"
            raise RuntimeError(f"the kernel {'ended before it was up' if ended else late}")
        await asyncio.sleep(0.01)
    pipes.unlink()
    if sandbox_problem() is not None:
        return  # no namespace to seal it in: the protections table says the disk is open
    runtime = str(manager._runtime_dir)
    if getattr(manager, "_warm", None) is not None:
        pid = manager.provisioner.process.pid
        return manager._warm.request(op="seal", pid=pid, path=runtime)
    bwrap = manager.provisioner.process.pid  # its child is the sandbox's first process
    child = Path(f"/proc/{bwrap}/task/{bwrap}/children").read_text().split()[0]
    helper = [kernel_python(), "-S", str(ZYGOTE), "--seal", child, runtime]  # -S: no site
    done = subprocess.run(helper, capture_output=True, text=True, timeout=UP_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"the kernel's runtime folder was not sealed: {done.stderr[-2000:]}")


async def check_state(client, watch, seconds):
    """Ask the kernel of ``client`` to put its state back (before a graded cell).

    Returns (found, problem): the watch's sentences for what it put back, and '' or why its
    answer is missing or cannot be trusted."""
    nonce = secrets.token_hex(16)
    request = client.session.msg(REQUEST, {"nonce": nonce})
    client.shell_channel.send(request)
    deadline, replied = time.monotonic() + seconds, False
    while not replied and (left := deadline - time.monotonic()) > 0:
        try:
            reply = await client.shell_channel.get_msg(timeout=left)
        except queue.Empty:
            break
        replied = reply.get("parent_header", {}).get("msg_id") == request["header"]["msg_id"]
    watch.wait(lambda: nonce in watch.answers or nonce in watch.forged, ANSWER_SECONDS)
    found = watch.answers.get(nonce, [])
    undone = [f for f in found if f.startswith(UNDONE)]
    if nonce in watch.forged:
        problem = "an answer to the state check that the watch did not sign (forged)"
    elif not replied:
        problem = "the kernel did not reply to the state check (its handler replaced or removed)"
    elif nonce not in watch.answers:
        problem = "the watch did not answer the state check (switched off, or its pipe cut)"
    elif undone:
        problem = f"the kernel {undone[0]}"
    else:
        problem = ""
    return found, problem
