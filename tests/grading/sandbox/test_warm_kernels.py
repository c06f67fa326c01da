"""Warm kernels (``warm.py``, ``zygote.py``): forked kernels see what a cold one sees, and
nothing of each other. Hostile tests: one kernel tries to reach the next through processes,
files, shared memory and the zygote itself."""

import importlib.util
import os
import sys
import tempfile
import time

import nbformat
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

from pixelschool_admin.grading.sandbox import warm
from pixelschool_admin.grading.sandbox.bubblewrap import LAUNCHER, sandbox_problem
from pixelschool_admin.grading.sandbox.kernel_manager import SandboxedKernelManager
from pixelschool_admin.grading.settings import Limits

pytestmark = pytest.mark.skipif(
    sandbox_problem() is not None, reason=f"warm kernels need bubblewrap: {sandbox_problem()}"
)
PRELOAD = ("numpy", "matplotlib.pyplot", "pixelschool")


@pytest.fixture(scope="module")
def zygote():
    made = warm.Zygote(tempfile.gettempdir(), PRELOAD)
    yield made
    made.close()
    assert not made.area.exists()


def client(cells, folder, zygote=None, timeout=60, **manager):
    """An nbclient for ``cells`` whose kernel (it owns it) runs in ``folder``."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    manager["warm_area"] = str(zygote.area) if zygote else ""
    return NotebookClient(
        nb,
        kernel_manager_class=SandboxedKernelManager,
        config=Config({"SandboxedKernelManager": manager}),
        resources={"metadata": {"path": str(folder)}},
        timeout=timeout,
        allow_errors=True,
    )


def run(cells, folder, zygote=None):
    """The text each cell printed (or its error's name), run in a kernel in ``folder``."""
    runner = client(
        cells,
        folder,
        zygote,
        memory=3 * 2**30,
        activity_log=str(folder / "activity.log"),
        stderr_log=str(folder / "kernel.log"),
    )
    nb = runner.execute()
    text = []
    for cell in nb.cells:
        parts = [
            o.get("text", "") if o.output_type == "stream" else o.get("ename", "")
            for o in cell.outputs
        ]
        text.append("".join(parts))
    return text


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "data.txt").write_text("submitted")
    return tmp_path


VIEW = [
    "import os, sys, resource\nprint(os.getcwd(), sorted(os.listdir('.')))",
    "print(open('data.txt').read())",
    "try:\n    open('data.txt', 'w')\nexcept OSError as e:\n    print(type(e).__name__)",
    "open('mine.txt', 'w').write('x'); print(open('mine.txt').read())",
    "print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)",
    "print([p for p in os.listdir('/proc') if p.isdigit()][:3], os.getpid())",
    "caps = dict(l.split(':\\t') for l in open('/proc/self/status').read().splitlines()"
    " if l.startswith('Cap'))\nprint(caps['CapEff'], caps['CapPrm'])",
    "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
    "except OSError as e:\n    print('no network')",
    "print(os.environ['HOME'], 'COURSE_OFFLINE' in os.environ, 'numpy' in sys.modules)",
    # threads count against the process limit: OpenBLAS's and IPython's as in a cold kernel
    "import numpy, threading\nprint(len(os.listdir('/proc/self/task')), threading.active_count())",
]


def test_a_warm_kernel_sees_what_a_cold_one_sees(zygote, folder):
    warm_view, cold_view = run(VIEW, folder, zygote), run(VIEW, folder)
    last = len(VIEW) - 2  # numpy imported already: the only difference
    assert warm_view[:last] + warm_view[last + 1 :] == cold_view[:last] + cold_view[last + 1 :]
    assert warm_view[0].startswith(f"{folder} ['activity.log', 'data.txt', 'kernel.log']")
    assert warm_view[1:5] == ["submitted\n", "OSError\n", "x\n", "3072\n"]
    assert warm_view[5] == "['1', '2'] 2\n"  # an init, then the kernel, as bubblewrap has it
    assert warm_view[6] == "0000000000000000 0000000000000000\n"
    assert warm_view[7] == "no network\n"
    # the only difference: numpy is imported already (where the time goes)
    assert warm_view[8] == "/tmp/home True True\n" and cold_view[8] == "/tmp/home True False\n"


def test_warm_kernels_are_faster(zygote, folder):
    cells = ["import numpy as np, matplotlib.pyplot as plt\nprint(np.arange(3).sum())"]
    start = time.perf_counter()
    assert run(cells, folder, zygote)[0].endswith("3\n")
    warm_seconds = time.perf_counter() - start
    start = time.perf_counter()
    assert run(cells, folder)[0].endswith("3\n")
    assert warm_seconds < time.perf_counter() - start  # benchmarks/autograde.py has figures


ATTACK = [
    # a process that outlives the kernel and would write into the next one's files
    "import subprocess\nsubprocess.Popen(['sh', '-c', 'while true; do echo x >> /tmp/evil;"
    " sleep 0.1; done'], start_new_session=True)\nprint('started')",
    # files in the shared /tmp, in HOME and in the working folder
    "open('/tmp/answers.txt', 'w').write('42')\nos.makedirs('/tmp/home/.ipython/x', exist_ok=True)"
    "\nopen('/tmp/home/planted.py', 'w').write('x = 1')\nprint('written')",
    # System V shared memory that would outlive the kernel
    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "print(libc.shmget(4242, 4096, 0o1666) >= 0)",
    # signal everything it can see
    "import signal\nfor p in os.listdir('/proc'):\n    if p.isdigit() and int(p) != os.getpid():\n"
    "        try:\n            os.kill(int(p), signal.SIGKILL)\n        except OSError:\n"
    "            pass\nprint('killed')",
]
NEXT = [
    "import os, time, ctypes\ntime.sleep(0.5)\n"
    "print([p for p in os.listdir('/proc') if p.isdigit()])",
    "print(os.path.exists('/tmp/evil'), os.path.exists('/tmp/answers.txt'),"
    " os.path.exists('/tmp/home/planted.py'), os.path.exists('/tmp/home/.ipython/x'))",
    "print(ctypes.CDLL(None).shmget(4242, 0, 0))",
    "print(sorted(os.listdir('.')))",
]


def test_a_kernel_leaves_nothing_for_the_next(zygote, folder):
    before = zygote.process.pid
    assert run(["import os", *ATTACK], folder, zygote)[1:] == [
        "started\n",
        "written\n",
        "True\n",
        "killed\n",
    ]
    seen = run(NEXT, folder, zygote)
    assert seen[0] == "['1', '2']\n"  # its init and itself: the last kernel's are gone
    assert seen[1] == "False False False False\n"
    assert seen[2] == "-1\n"  # a new IPC namespace
    assert seen[3] == "['activity.log', 'data.txt', 'kernel.log']\n"
    assert zygote.process.pid == before  # nothing there made it replace the zygote


def test_an_interrupt_reaches_a_warm_kernel(zygote, folder):
    cells = ["import time\ntime.sleep(60)", "print('after')"]
    start = time.perf_counter()
    runner = client(cells, folder, zygote, timeout=3)
    runner.interrupt_on_timeout = True
    nb = runner.execute()
    assert time.perf_counter() - start < 30
    assert nb.cells[0].outputs[-1].get("ename") == "KeyboardInterrupt"
    assert nb.cells[1].outputs[0]["text"] == "after\n"


def test_a_dead_zygote_is_replaced_without_cost_to_the_student(folder):
    made = warm.Zygote(tempfile.gettempdir(), ("numpy",))
    try:
        made.process.kill()
        made.process.wait()
        # the kernel starts cold; the next task's zygote is a new one
        assert run(["print(1)"], folder, made) == ["1\n"]
        _, why = warm.for_assignment(tempfile.gettempdir(), ("numpy",), Limits(), None)
        assert why is None
    finally:
        warm.close_all()


def test_reset_removes_what_is_new_and_reports_what_changed(tmp_path):
    sys.path.insert(0, str(LAUNCHER.parent))
    try:
        spec = importlib.util.spec_from_file_location("zygote", LAUNCHER.with_name("zygote.py"))
        zygote = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(zygote)
    finally:
        sys.path.remove(str(LAUNCHER.parent))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "keep").write_text("k")
    pristine = zygote.snapshot(str(tmp_path))
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "deep.txt").write_text("x")
    (tmp_path / "home" / "planted").write_text("x")
    assert zygote.restore(str(tmp_path), pristine) == []
    assert sorted(os.listdir(tmp_path)) == ["home"]
    assert os.listdir(tmp_path / "home") == ["keep"]
    (tmp_path / "home").chmod(0o700)
    (tmp_path / "home" / "keep").write_text("changed")
    changed = [str(tmp_path / "home"), str(tmp_path / "home" / "keep")]
    assert zygote.restore(str(tmp_path), pristine) == changed


def test_preloads_are_the_notebooks_fork_safe_imports():
    sources = [
        "import numpy as np\nfrom sklearn.model_selection import train_test_split",
        "import os, matplotlib.pyplot as plt\n# import fake\nimport keras\nfrom jax import numpy",
        "x = 'import nothing'\nimport tensorflow.keras\nimport problem_unittests as tests",
    ]
    assert warm.preload_names(sources) == (
        "numpy",
        "sklearn.model_selection",
        "os",
        "matplotlib.pyplot",
        "problem_unittests",
    )


def test_a_zygote_that_cannot_start_leaves_no_folder(tmp_path, monkeypatch):
    def broken(self):
        raise warm.ZygoteError("no user namespaces here")

    monkeypatch.setattr(warm.Zygote, "start", broken)
    zygote, why = warm.for_assignment(tmp_path, ("json",), Limits(disk=2**20), None)
    assert zygote is None and "no user namespaces" in why
    assert list(tmp_path.iterdir()) == []
