"""The sandbox of a student's kernel: bubblewrap's binds, limits, uids, the watch."""

import json
import subprocess
import sys

import pytest

from pixelschool_admin.grading.sandbox.bubblewrap import (
    LAUNCHER,
    KernelSandbox,
    font_cache,
    kernel_python,
    sandbox_problem,
)
from pixelschool_admin.grading.settings import GIB, Limits
from pixelschool_admin.paths import REPO_ROOT

needs_bwrap = pytest.mark.skipif(bool(sandbox_problem()), reason=str(sandbox_problem()))


def test_sandbox_binds_no_instructor_folder(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "tiny.ipynb").write_text("{}")
    for uid in (None, 2**24):
        args = KernelSandbox(tmp_path / "work", tmp_path / "run", uid=uid).bwrap_args()
        bound = {args[i + 1] for i, a in enumerate(args) if a in ("--bind", "--ro-bind")}
        for secret in ("solutions", "admin", "course", "tests"):
            assert str(REPO_ROOT / secret) not in bound
        assert "--clearenv" in args and "--unshare-net" in args or "--unshare-all" in args
        assert str(tmp_path / "work" / "tiny.ipynb") in bound  # read-only, under a tmpfs
        assert args[args.index(str(tmp_path / "work")) - 1] == "--tmpfs"


@needs_bwrap
def test_kernels_get_the_font_list_built_in_the_sandbox_read_only(tmp_path):
    name, data = font_cache()  # built once per grading process, with no student code
    assert name.startswith("fontlist-") and json.loads(data)["ttflist"]
    (tmp_path / name).write_bytes(data)
    for folder in ("work", "run"):
        (tmp_path / folder).mkdir()
    sandbox = KernelSandbox(tmp_path / "work", tmp_path / "run", font_cache=str(tmp_path / name))
    code = (
        "import os, matplotlib.font_manager\n"
        "folder = os.environ['MPLCONFIGDIR']\n"
        "try:\n"
        f"    open(os.path.join(folder, {name!r}), 'a')\n"
        "except OSError:\n"
        "    print('read-only')\n"
        "print(*sorted(os.listdir(folder)))\n"
    )
    command = [*sandbox.bwrap_args(), kernel_python(), "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["read-only", name]  # used as it is, never rebuilt
    assert "font" not in result.stderr.lower()
    assert (tmp_path / name).read_bytes() == data


def test_launcher_sets_rlimits_then_runs_the_command(tmp_path):
    probe = "import resource as r; print(r.getrlimit(r.RLIMIT_AS)[0], r.getrlimit(r.RLIMIT_CPU)[0])"
    sandbox = KernelSandbox(tmp_path, tmp_path, Limits(memory=GIB, cpu_seconds=60))
    prefix = sandbox.launcher_args(sandboxed=False)
    result = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.split() == [str(GIB), "60"], result.stderr


def test_kernel_uids_do_not_follow_a_seeded_random():
    """Keras's ``set_random_seed`` seeds Python's ``random`` in the grader's process; the
    kernels' uids must still differ from run to run (a user keyring outlives its kernel)."""
    import random

    from pixelschool_admin.grading.sandbox.bubblewrap import KERNEL_UIDS, kernel_uid

    draws = []
    for _ in range(2):
        random.seed(0)
        draws.append(kernel_uid())
    assert draws[0] != draws[1] and all(KERNEL_UIDS[0] <= uid < KERNEL_UIDS[1] for uid in draws)


def test_the_watch_lets_a_kernel_list_the_folders_on_the_way_to_its_code(tmp_path):
    """Python's import system lists the folder that holds the kit (under /tmp in a clone
    there): not a probe. Opening something else in it still is."""
    project = tmp_path / "project"
    (project / "pixelschool").mkdir(parents=True)
    (project / "secret").write_text("x")
    log = tmp_path / "watch.log"
    probe = (
        "import os, sys\nsys.path.insert(0, sys.argv[1])\nimport launch\n"
        "launch.watch(sys.argv[2], [sys.argv[3] + '/pixelschool', '/usr'], [sys.argv[3]])\n"
        "os.listdir(sys.argv[3])\nopen(sys.argv[3] + '/secret').read()\n"
    )
    args = [str(LAUNCHER.parent), str(log), str(project)]
    subprocess.run([sys.executable, "-c", probe, *args], check=True)
    watched = log.read_text()
    assert f"os.listdir {project}\n" not in watched and f"open {project}/secret" in watched
