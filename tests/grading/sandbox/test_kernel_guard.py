# ruff: noqa: F811  (pytest fixtures imported from tests.grading.sandbox.test_warm_kernels)
"""Hostile tests for what a student's kernel can do to the grading of its own notebook (issue
20): rewrite or silence a graded cell through IPython's hooks, the interpreter or the kernel
(``pixelschool.pristine``'s state check), hide from the report (the watch's pipe, its key, the
state check's nonce), fill the host's disk through its runtime folder (sealed once the kernel
is up), and slip past the static scan. Cold and warm kernels; the grader is root here (each
kernel has a uid of its own); ``test_a_grader_that_is_not_root`` runs some as another user.

Each attack is written as a student would write it, and each test failed before the defence
it tests was in place."""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from pixelschool_admin.grading.intake import integrity
from pixelschool_admin.grading.sandbox.bubblewrap import running_as_root, sandbox_problem
from pixelschool_admin.grading.worker import executor
from pixelschool_admin.grading.worker.executor import SandboxedExecute
from pixelschool_admin.paths import REPO_ROOT
from tests.grading.sandbox.test_warm_kernels import zygote  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(
    sandbox_problem() is not None, reason=f"the sandbox needs bubblewrap: {sandbox_problem()}"
)

SETUP = "import numpy as np\nimport problem_unittests as tests"
WRONG = "def one_hot(vector, number_classes):\n    return np.eye(number_classes)[vector].T"
GRADED = "tests.test_one_hot(one_hot)\nprint('graded')"
SECRET = "open('/root/answers.txt')"  # outside the sandbox: the watch reports it
RUNTIME = "from ipykernel.connect import get_connection_file\n" + (
    "runtime = os.path.dirname(get_connection_file())"
)


def cell(source, graded=False, name="setup"):
    meta = {"grade": graded, "solution": not graded, "locked": graded, "schema_version": 3}
    meta.update(grade_id=name, points=1 if graded else 0)
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def grade(answers, zygote=None, graded=GRADED, **settings):
    """Run SETUP, then each answer cell and a graded cell after it. Returns ([outputs of each
    cell after SETUP, as "kind: text" lines], [(incident kind, detail)], what the watch saw)."""
    folder = Path(tempfile.mkdtemp(prefix="guard-"))
    try:
        cells = [cell(SETUP)]
        for n, answer in enumerate(answers):
            cells += [cell(answer, name=f"answer{n}"), cell(graded, True, f"graded{n}")]
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3"}
        manager = {
            "activity_log": str(folder / "activity.log"),
            "stderr_log": str(folder / "kernel.log"),
            "warm_area": str(zygote.area) if zygote else "",
            "memory": 3 * 2**30,
        }
        execute = {"incident_log": str(folder / "incidents.log"), **settings}
        config = Config({"SandboxedKernelManager": manager, "SandboxedExecute": execute})
        SandboxedExecute(config=config, timeout=60).preprocess(
            nb, {"metadata": {"path": str(folder)}}
        )
        outputs = [
            [f"{o.output_type}: {o.get('ename') or o.get('text', '')}".strip() for o in c.outputs]
            for c in nb.cells[1:]
        ]
        log = folder / "incidents.log"
        lines = log.read_text().splitlines() if log.exists() else []
        incidents = [(i["kind"], i["detail"]) for i in map(json.loads, lines)]
        return outputs, incidents, (folder / "activity.log").read_text()
    finally:
        shutil.rmtree(folder)


FAILED = ["error: AssertionError"]  # the wrong one_hot, as its graded cell must report it


def of_graded(outputs):
    return outputs[1::2]


def said(incidents, kind):
    return " ".join(detail for k, detail in incidents if k == kind)


# --- rewriting or silencing a graded cell ------------------------------------------------

ATTACKS = {
    # the red team's: any cell that mentions the check becomes `pass`
    "input transformer": (
        "get_ipython().input_transformers_cleanup.append(\n"
        "    lambda lines: ['pass\\n'] if any('test_one_hot' in l for l in lines) else lines)",
        "cleanup_transforms",
    ),
    "late input transformer": (
        "get_ipython().input_transformers_post.append(\n"
        "    lambda lines: ['pass\\n'] if any('test_one_hot' in l for l in lines) else lines)",
        "input_transformers_post",
    ),
    "class property": (
        "type(get_ipython()).input_transformers_post = property(lambda self: [\n"
        "    lambda lines: ['pass\\n'] if any('test_one_hot' in l for l in lines) else lines])",
        "ZMQInteractiveShell.input_transformers_post",
    ),
    "AST transformer": (
        "import ast\nclass Quiet(ast.NodeTransformer):\n"
        "    def visit_Expr(self, node):\n"
        "        return ast.Pass() if 'test_one_hot' in ast.dump(node) else node\n"
        "get_ipython().ast_transformers.append(Quiet())",
        "ast_transformers",
    ),
    # the red team's second: no traceback, and a post_run_cell callback clears the error
    "callback": (
        "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
        "def forget(result):\n    result.error_in_exec = None\n"
        "ip.events.register('post_run_cell', forget)",
        "post_run_cell",
    ),
    "traceback hook": ("get_ipython()._showtraceback = lambda *a: None", "_showtraceback"),
    "traceback class": (
        "type(get_ipython())._showtraceback = lambda self, *a: None",
        "ZMQInteractiveShell._showtraceback",
    ),
    "traceback code": (
        "type(get_ipython())._showtraceback.__code__ = (lambda self, e, v, s: None).__code__",
        "_showtraceback",
    ),
    "custom exception": (
        "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)",
        "custom_exceptions",
    ),
    "display hook": (
        "session = get_ipython().displayhook.session\nsend = session.send\n"
        "def quiet(stream, kind, *args, **kwargs):\n"
        "    if kind != 'error':\n        return send(stream, kind, *args, **kwargs)\n"
        "session.send = quiet",
        "Session.send",
    ),
    "trace function": (
        "import linecache, sys\n"
        "def skip(frame, event, arg):\n"
        "    if 'test_one_hot' in linecache.getline(frame.f_code.co_filename, frame.f_lineno):\n"
        "        frame.f_lineno += 1\n    return skip\n"
        "sys.settrace(lambda frame, event, arg: skip if 'ipykernel' in"
        " frame.f_code.co_filename else None)",
        "settrace",
    ),
    "builtins": (
        "import builtins, types\nreal = builtins.__import__\n"
        "fake = types.SimpleNamespace(test_one_hot=lambda *a, **k: None)\n"
        "kit = types.SimpleNamespace(pristine=types.SimpleNamespace(checks=lambda: fake))\n"
        "builtins.__import__ = lambda name, *a, **k: kit if name == 'pixelschool.pristine'"
        " else real(name, *a, **k)",
        "builtins['__import__']",
    ),
    "modules": (
        "import sys, types\nfake = types.SimpleNamespace(test_one_hot=lambda *a, **k: None)\n"
        "kit = types.ModuleType('pixelschool')\n"
        "kit.pristine = types.SimpleNamespace(checks=lambda: fake)\n"
        "sys.modules['pixelschool'] = kit",
        "sys.modules['pixelschool']",
    ),
    "kernel handler": (
        "kernel = get_ipython().kernel\nreal = kernel.shell_handlers['execute_request']\n"
        "def rewrite(stream, ident, parent):\n"
        "    if 'test_one_hot' in parent['content']['code']:\n"
        "        parent['content']['code'] = 'print(\"graded\")'\n"
        "    return real(stream, ident, parent)\n"
        "kernel.shell_handlers['execute_request'] = rewrite",
        "shell_handlers",
    ),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_kernel_hook_cannot_rewrite_or_silence_a_graded_cell(zygote, attack):
    source, named = ATTACKS[attack]
    outputs, incidents, _ = grade([WRONG + "\n" + source], zygote)
    assert of_graded(outputs) == [FAILED], outputs
    assert named in said(incidents, "kernel tampering"), incidents
    assert "put back before this cell" in said(incidents, "kernel tampering")


@pytest.mark.parametrize("attack", ["input transformer", "callback", "builtins"])
def test_the_state_check_guards_cold_kernels_too(attack):
    source, named = ATTACKS[attack]
    outputs, incidents, _ = grade([WRONG + "\n" + source])
    assert of_graded(outputs) == [FAILED], outputs
    assert named in said(incidents, "kernel tampering"), incidents


def test_a_thread_that_puts_its_hook_back_costs_the_graded_cell(zygote):
    # the state is put back before the graded cell; a thread of the student's puts the
    # transformer back as it runs: the check after the cell finds it, and the cell's
    # outputs are dropped
    source = ATTACKS["input transformer"][0].replace(
        "get_ipython().input_transformers_cleanup.append(", "hook = ("
    ) + (
        "\nimport threading, time\ndef again():\n    while True:\n"
        "        if hook not in get_ipython().input_transformers_cleanup:\n"
        "            get_ipython().input_transformers_cleanup.append(hook)\n"
        "        time.sleep(0.0001)\nthreading.Thread(target=again, daemon=True).start()"
    )
    outputs, incidents, _ = grade([WRONG + "\n" + source], zygote)
    assert of_graded(outputs) in ([FAILED], [["error: KernelChanged"]]), outputs
    assert "cleanup_transforms" in said(incidents, "kernel tampering")


def test_honest_notebooks_are_graded_as_without_the_check(zygote):
    # matplotlib's inline backend adds its callbacks, IPython tees the output streams, a
    # magic runs: nothing of it is reported, and the outputs are those of a kernel unchecked
    honest = (
        "%matplotlib inline\nimport matplotlib.pyplot as plt, sys, io, contextlib\n"
        "plt.plot([1, 2, 3]); plt.show()\nwith contextlib.redirect_stdout(io.StringIO()):\n"
        "    print('hidden')\nprint(sys.gettrace())\n" + WRONG.replace(".T", "")
    )
    for kernel in (zygote, None):
        checked = grade([honest, "print(1)"], kernel)
        unchecked = grade([honest, "print(1)"], kernel, state_check=False)
        assert checked[0] == unchecked[0]
        assert all(out[-1].endswith("graded") for out in of_graded(checked[0])), checked[0]
        assert checked[1] == unchecked[1] == []


# --- hiding from the report --------------------------------------------------------------

FIND_FD = (
    "import os\ndef fds(*names):\n    found = []\n    for fd in os.listdir('/proc/self/fd'):\n"
    "        try:\n            target = os.readlink(f'/proc/self/fd/{fd}')\n"
    "        except OSError:\n            continue\n"
    "        if any(name in target for name in names):\n            found.append(int(fd))\n"
    "    return found\n"
)


def test_truncating_the_watch_log_erases_nothing(zygote):
    # the red team: the watch's log was a file the kernel had open; truncating it erased
    # every event. It is a pipe the grader drains now.
    erase = (
        f"try:\n    {SECRET}\nexcept OSError:\n    pass\n{FIND_FD}"
        "for fd in fds('activity.log', 'watch', 'pipe:'):\n"
        "    try:\n        os.ftruncate(fd, 0)\n    except OSError:\n        pass\n"
        "for path in [os.readlink(f'/proc/self/fd/{fd}') for fd in fds('activity.log')]:\n"
        "    open(path, 'w').close()"
    )
    for kernel in (zygote, None):
        _, _, watched = grade([WRONG + "\n" + erase], kernel)
        assert "open /root/answers.txt" in watched


def test_switching_the_watch_off_through_gc_is_reported_and_the_graded_cell_not_run(zygote):
    # the red team: the audit hook's state is reachable through gc. Switched off, it writes
    # nothing more; its answer to the next state check is missing, which is reported, and the
    # graded cell does not run in a kernel that cannot be checked.
    silence = (
        "import gc\nfor f in gc.get_objects():\n"
        "    if type(f).__name__ == 'function' and 'busy' in f.__code__.co_freevars:\n"
        "        f.__closure__[f.__code__.co_freevars.index('busy')].cell_contents.append(1)\n"
        f"try:\n    {SECRET}\nexcept OSError:\n    pass"
    )
    outputs, incidents, _ = grade([WRONG.replace(".T", "") + "\n" + silence], zygote)
    assert of_graded(outputs) == [["error: StateCheckFailed"]]
    assert "the watch did not answer" in said(incidents, "kernel unchecked")


CUT = FIND_FD + "for fd in fds('watch'):\n    os.close(fd)"
# a class that refuses to be put back: its metaclass swapped for one that refuses changes
BEYOND = (
    "shell = type(get_ipython())\nshell._showtraceback = lambda self, *a: None\n"
    "class Stuck(type(shell)):\n    def __setattr__(cls, name, value):\n"
    "        raise TypeError('stuck')\n    def __delattr__(cls, name):\n"
    "        raise TypeError('stuck')\n"
    "shell.__class__ = Stuck"
)
FORGE = (
    FIND_FD
    + (
        "import json\nwatch = fds('watch')[0]\nkernel = get_ipython().kernel\n"
        "def answer(stream, ident, parent):\n    nonce = parent['content']['nonce']\n"
        "    line = 'state\\t' + '0' * 64 + '\\t' + json.dumps([nonce, []]) + '\\n'\n"
        "    os.write(watch, line.encode())\n"
        "    reply = {'nonce': nonce}\n"
        "    kernel.session.send(stream, 'pixelschool_state_reply', reply, parent, ident)\n"
        "kernel.shell_handlers['pixelschool_state_request'] = answer\n"
    )
    + ATTACKS["input transformer"][0]
)
MUTE = (
    "get_ipython().kernel.shell_handlers.pop('pixelschool_state_request')\n"
    + (ATTACKS["input transformer"][0])
)


@pytest.mark.parametrize(
    "attack, problem",
    [
        (CUT, "the watch did not answer"),
        (FORGE, "did not sign (forged)"),
        (MUTE, "did not reply to the state check"),
        (BEYOND, "could not be put back"),
    ],
    ids=["cut", "forged", "no reply", "beyond repair"],
)
def test_a_kernel_that_cannot_be_checked_does_not_run_the_graded_cell(zygote, attack, problem):
    outputs, incidents, _ = grade([WRONG + "\n" + attack], zygote, state_check_seconds=3)
    assert of_graded(outputs) == [["error: StateCheckFailed"]], outputs
    assert problem in said(incidents, "kernel unchecked"), incidents


# --- the runtime folder and the host's disk ----------------------------------------------

SEALED = str([f"kernel-{n}" for n in range(1, 6)] + ["kernel.json"])  # sockets, connection
FILL = RUNTIME + (
    "\nwritten = made = 0\nchunk = b'x' * 2**20\ntry:\n"
    "    with open(os.path.join(runtime, 'fill'), 'wb') as f:\n"
    "        for _ in range(1024):\n            written += f.write(chunk)\n"
    "except OSError as error:\n    print(type(error).__name__, error.errno)\n"
    "for i in range(200_000):\n    try:\n"
    "        open(os.path.join(runtime, f'f{i}'), 'w').close()\n        made += 1\n"
    "    except OSError:\n        pass\n"
    "for i in range(1000):\n    try:\n        os.mkdir(os.path.join(runtime, f'd{i}'))\n"
    "        made += 1\n    except OSError:\n        pass\n"
    "print(written, made, sorted(os.listdir(runtime)))"
)


def test_a_kernel_cannot_fill_the_host_disk_through_its_runtime_folder(zygote):
    # the red team: the runtime folder (connection file, sockets) was a bind of the host's
    # /tmp, writable: 1 GiB and 200,000 files went onto the disk that holds the gradebook.
    # It is read-only to the kernel once the kernel is up; the attempts are reported.
    for kernel in (zygote, None):
        outputs, _, watched = grade(["import os\n" + FILL], kernel, graded="print('graded')")
        # read-only (EROFS): not one byte, not one file; the pipes' names are gone
        assert outputs[0] == ["stream: OSError 30", f"stream: 0 0 {SEALED}"], outputs
        assert "/fill" in watched and "file\t100000\t" in watched


# --- the static scan ---------------------------------------------------------------------


def test_the_scan_reads_added_cells_magics_and_says_what_it_cannot_parse(tmp_path):
    # the red team: the scan read only answer cells and skipped any that ast.parse refused,
    # which includes every cell with a magic line
    released = nbformat.v4.new_notebook(cells=[cell(SETUP), cell(WRONG), cell(GRADED, True)])
    submitted = nbformat.from_dict(released)
    submitted.cells[1].source = "%time import sys\n" + ATTACKS["modules"][0]
    submitted.cells.insert(2, nbformat.v4.new_code_cell(ATTACKS["callback"][0]))
    submitted.cells.insert(3, nbformat.v4.new_code_cell("%timeit get_ipython().ast_transformers"))
    submitted.cells.insert(4, nbformat.v4.new_code_cell("def broken(:\n    pass"))
    path = tmp_path / "nb.ipynb"
    nbformat.write(submitted, path)
    found = {(f.cell, f.what) for f in integrity.scan_notebook(path, released, "s", "a")}
    answer = released.cells[1].metadata.nbgrader["grade_id"]
    assert (answer, "edits sys.modules") in found
    assert ("cell 3", "registers IPython event callbacks (events.register)") in found
    assert any(c == "cell 4" and "ast_transformers" in what for c, what in found)
    unparsed = [what for c, what in found if c == "cell 5"]
    assert unparsed and integrity.event_kind(unparsed[0]) == "not scanned"
    # the instructor's own code, unchanged, is not the student's
    assert not integrity.scan_notebook(path.with_name("r.ipynb"), released, "s", "a")[1:]


# --- a grader that is not root -----------------------------------------------------------


AS_ANOTHER_USER = ["unshare", "--user", "--map-user=1000", "--map-group=1000"]


def another_user():
    """'' when this process can run a command as uid 1000 in a user namespace, else why not."""
    if not running_as_root():
        return "already not root: the other tests are it"
    try:
        subprocess.run([*AS_ANOTHER_USER, "true"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as error:
        return f"no user namespace for another user here: {error}"
    return ""


@pytest.mark.skipif(bool(another_user()), reason=another_user())
def test_a_grader_that_is_not_root(tmp_path):
    # The grader as uid 1000 in a user namespace of its own (its files are its own there):
    # bubblewrap gives each kernel user namespaces of its own, which the grader enters to
    # seal the runtime folder. Cold kernels (a zygote needs /proc mounts it cannot make here).
    script = tmp_path / "not_root.py"
    script.write_text(
        "import json, sys\nsys.path.insert(0, sys.argv[1])\n"
        "from tests.grading.sandbox import test_kernel_guard as t\n"
        "attack = t.ATTACKS['input transformer'][0]\n"
        "print(json.dumps([t.grade([t.WRONG + '\\n' + attack])[:2],"
        " t.grade(['import os\\n' + t.FILL], graded=\"print('graded')\")[::2]]))"
    )
    command = [*AS_ANOTHER_USER, sys.executable, str(script), str(REPO_ROOT)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (outputs, incidents), (filled, watched) = json.loads(done.stdout.splitlines()[-1])
    assert of_graded(outputs) == [FAILED] and "cleanup_transforms" in str(incidents)
    assert filled[0] == ["stream: OSError 30", f"stream: 0 0 {SEALED}"] and "/fill" in watched


def test_the_state_check_costs_little(zygote, monkeypatch):
    # before and after each graded cell: a few milliseconds each
    from pixelschool_admin.grading.sandbox.watch import check_state

    seconds = []

    async def timed(*args):
        start = time.perf_counter()
        try:
            return await check_state(*args)
        finally:
            seconds.append(time.perf_counter() - start)

    monkeypatch.setattr(executor, "check_state", timed)
    grade(["import matplotlib.pyplot as plt\nx = 1"] + ["x = 1"] * 19, zygote, graded="pass")
    assert len(seconds) == 40 and max(seconds) < 0.5
    mean = sum(seconds) / len(seconds)
    print(f"state check: {mean * 1000:.1f} ms mean, {max(seconds) * 1000:.1f} ms at most")
    assert mean < 0.05


def test_the_kernel_and_the_grader_name_the_watch_s_events_alike():
    from pixelschool import pristine
    from pixelschool_admin.grading.sandbox import launch

    assert (launch.INSTALL_EVENT, launch.CHECK_EVENT) == (
        pristine.INSTALL_EVENT,
        pristine.CHECK_EVENT,
    )


def test_the_kernel_has_no_way_to_the_grader_s_logs(zygote):
    # its standard error and watch are pipes with no name once it is up; the files they end
    # in are the grader's, outside the sandbox
    look = RUNTIME + "\nprint(sorted(os.listdir(runtime)))"
    outputs, _, _ = grade(["import os\n" + look], zygote, graded="print('graded')")
    listed = outputs[0][0]
    assert "stderr" not in listed and "watch" not in listed and "kernel.json" in listed
