"""The kernel manager of graded notebooks: each kernel starts inside ``bubblewrap.KernelSandbox``
under ``bubblewrap.Limits``, cold or forked from a warm zygote (``warm.py``), with its watch and
standard error drained by the grader (``watch.py``). This module sits above those three, so
none of them imports it."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, Unicode, default

from pixelschool_admin.grading.sandbox import warm, watch
from pixelschool_admin.grading.sandbox.bubblewrap import (
    KERNEL_ARGUMENTS,
    KernelSandbox,
    default_keras_home,
    kernel_uid,
    running_as_root,
    sandbox_problem,
)
from pixelschool_admin.grading.settings import Limits


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start inside ``KernelSandbox`` and under ``Limits``.

    Uses IPC transport: the kernel has no network, not even the grader's loopback.
    Configured like any traitlets class (``SandboxedKernelManager.memory = ...``).
    """

    memory = Integer(Limits.memory, help="address-space limit, bytes").tag(config=True)
    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU-time limit, seconds").tag(config=True)
    processes = Integer(Limits.processes, help="processes and threads").tag(config=True)
    disk = Integer(Limits.disk, help="bytes per writable folder").tag(config=True)
    keras_home = Unicode(
        help="a Keras folder whose datasets/ graded notebooks may read (default: the "
        "grader's own Keras cache, when it has datasets)"
    ).tag(config=True)
    activity_log = Unicode("", help="file for what the kernel's watch saw").tag(config=True)
    stderr_log = Unicode("", help="file for the kernel's standard error").tag(config=True)
    runtime_parent = Unicode(
        "", help="folder for the kernels' private runtime folders (default: the temporary one)"
    ).tag(config=True)
    font_cache = Unicode(
        "", help="matplotlib's font list (a file from font_cache()) shown to sandboxed kernels"
    ).tag(config=True)
    warm_area = Unicode(
        "", help="the folder of a running warm.Zygote to fork kernels from (else: cold starts)"
    ).tag(config=True)

    @default("keras_home")
    def _keras_home_default(self):
        return default_keras_home()

    async def _async_pre_start_kernel(self, **kw):

        self._workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
        kw.setdefault("stdout", subprocess.DEVNULL)
        self._uid = getattr(self, "_uid", None)
        if getattr(self, "_warm", None) is None:
            zygote = self._zygote()  # claimed before its runtime folder is made under it
            self._warm = zygote if zygote is not None and zygote.claim() else None
        if sandbox_problem() is None and self.transport != "ipc":
            # A private folder for the connection file and the sockets: the only part of
            # the grader's file system, besides the notebook's files, that the kernel sees.
            runtime_dir = Path(self._mkdtemp())
            self._runtime_dir = runtime_dir
            self.transport = "ipc"
            self.ip = str(runtime_dir / "kernel")
            self.connection_file = str(runtime_dir / "kernel.json")
            if running_as_root():
                self._uid = kernel_uid()
        elif sandbox_problem() is not None and not getattr(self, "_runtime_dir", None):
            # No sandbox: still a HOME of its own, not the grader's (its IPython profile,
            # caches and configuration stay out of reach and out of the report).
            self._runtime_dir = Path(self._mkdtemp())
            (self._runtime_dir / "home").mkdir()
        # Its standard error (bubblewrap's and the launcher's too: when a kernel will not
        # start, it holds the real cause) and its watch go into pipes the grader drains.
        if getattr(self, "_pipes", None) is not None:
            self._pipes.close()
        self._pipes = watch.Pipes(
            self._runtime_dir, self._uid, self.stderr_log or None, self.activity_log or None
        )
        kw.setdefault("stderr", self._pipes.stderr.writer)
        command, kw = await super()._async_pre_start_kernel(**kw)
        if self._uid is not None:
            for path in (self._runtime_dir, self.connection_file):
                os.chown(path, self._uid, self._uid)
        return command, kw

    @property
    def watch(self):
        """The kernel's ``watch.Watch`` (its answers to the state check), once started."""
        pipes = getattr(self, "_pipes", None)
        return pipes.watch if pipes is not None else None

    async def _async_post_start_kernel(self, **kw):

        await watch.seal(self)
        await super()._async_post_start_kernel(**kw)

    def _limits(self):
        return Limits(
            memory=self.memory,
            cpu_seconds=self.cpu_seconds,
            processes=self.processes,
            disk=self.disk,
        )

    def _zygote(self):
        """The warm zygote to fork this kernel from, or None (a cold start)."""

        if not self.warm_area or sandbox_problem() is not None:
            return None
        return warm.get(self.warm_area)

    def _mkdtemp(self):
        zygote = getattr(self, "_warm", None)
        parent = zygote.runtime if zygote else self.runtime_parent or None
        return tempfile.mkdtemp(prefix="pixelschool-kernel-", dir=parent)

    async def _async_launch_kernel(self, kernel_cmd, **kw):

        zygote = getattr(self, "_warm", None)
        if zygote is None:  # cold, or the zygote is busy or broken
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        process = warm.fork_for(self, zygote)
        self.provisioner.process, self.provisioner.pid = process, process.pid
        self.provisioner.pgid = None
        self._reconcile_connection_info(self.provisioner.connection_info)

    async def _async_cleanup_resources(self, restart=False):

        await super()._async_cleanup_resources(restart=restart)
        if getattr(self, "_pipes", None) is not None:
            self._pipes.close()
            self._pipes = None
        if getattr(self, "_warm", None) is not None and not restart:
            # (a restart keeps its runtime folder and starts cold; SandboxedExecute uses a
            # new manager for each kernel instead)
            warm.discard_kernel(self, self._warm)
            self._warm = None
        if not restart and getattr(self, "_runtime_dir", None):
            shutil.rmtree(self._runtime_dir, ignore_errors=True)

    # nbclient calls cleanup_resources() after a kernel died: jupyter_client binds that name
    # to its own function, which would skip the above (the zygote would stay claimed)
    cleanup_resources = _async_cleanup_resources

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        command += [arg for arg in KERNEL_ARGUMENTS if arg not in command]
        sandbox = KernelSandbox(
            workdir=getattr(self, "_workdir", None) or Path.cwd(),
            runtime_dir=Path(self.connection_file).resolve().parent,
            limits=self._limits(),
            keras_home=self.keras_home or None,
            watch=str(self._pipes.watch.path),
            connection_file=str(Path(self.connection_file).resolve()),
            uid=getattr(self, "_uid", None),
            **(
                {"font_cache": self.font_cache or None}
                if sandbox_problem() is None
                else {"home": str(self._runtime_dir / "home")}
            ),
        )
        return sandbox.command(command)
