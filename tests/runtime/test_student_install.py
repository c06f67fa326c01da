"""What students install: the wheel of the repository's root project, in a fresh venv.

The wheel holds the runtime (checks with their visible recordings, datasets, plots, styles)
and no answer: nothing of the instructor's side, and no function that passes a check. The
fresh venv reaches the project venv's third-party packages (offline: a ``.pth`` line, which
does not run the project's editable-install hooks) but not the checkout.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from pixelschool_admin.paths import REPO_ROOT, SOLUTIONS_DIR

pytestmark = pytest.mark.xdist_group("student_install")

WHEELHOUSE = REPO_ROOT / ".venv" / "wheelhouse"  # the runtime's dependencies (`make test`)
FORBIDDEN = ("pixelschool_admin/", "tests/", "solutions/", "admin/", "benchmarks/", ".ipynb")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(REPO_ROOT)],
        check=True,
    )  # fmt: skip
    [path] = out.glob("pixelschool-*.whl")
    return path


@pytest.fixture(scope="module")
def student_python(wheel, tmp_path_factory):
    """A fresh venv with the wheel installed and the project venv's other packages."""
    venv = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "project-packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True,
    )  # fmt: skip
    return python


def run_in(python, code, cwd, **env):
    return subprocess.run(
        [str(python), "-c", code], cwd=cwd, capture_output=True, text=True, env=env or None
    )


def test_the_wheel_holds_the_runtime_and_nothing_of_the_instructor(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "problem_unittests.py" in names
    assert "pixelschool/custom.css" in names and "pixelschool/checks/__init__.py" in names
    assert any(n.startswith("pixelschool/checks/recordings/") for n in names)
    assert not [n for n in names if any(part in n for part in FORBIDDEN)]


def test_the_runtime_imports_from_any_folder_without_the_checkout(student_python, tmp_path):
    code = (
        "import pixelschool, problem_unittests, importlib.util as u; "
        "print(pixelschool.__file__); "
        "print([m for m in ('pixelschool_admin', 'tests') if u.find_spec(m)])"
    )
    done = run_in(student_python, code, tmp_path)
    assert done.returncode == 0, done.stderr
    where, reachable = done.stdout.splitlines()
    assert not where.startswith(str(REPO_ROOT)) and reachable == "[]"


def test_a_finished_notebook_runs_in_fast_mode_from_a_temporary_folder(student_python, tmp_path):
    notebook = tmp_path / "01_data_preparation.ipynb"  # every answer filled in
    notebook.write_bytes((SOLUTIONS_DIR / notebook.name).read_bytes())
    code = (
        "import nbformat, nbclient, os; "
        "nb = nbformat.read('01_data_preparation.ipynb', 4); "
        "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', "
        "resources={'metadata': {'path': os.getcwd()}}).execute(); "
        "nbformat.write(nb, 'executed.ipynb')"
    )
    done = run_in(student_python, code, tmp_path, COURSE_FAST="1", PATH="/usr/bin:/bin")
    assert done.returncode == 0, done.stderr[-3000:]
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    printed = "".join(
        "".join(out.get("text", ""))
        for cell in executed["cells"]
        for out in cell.get("outputs", [])
    )
    assert "\u2714 read_cifar_batch: all tests passed." in printed
    assert "\u2714 one_hot: all tests passed." in printed


def test_no_function_a_student_installs_passes_any_check(student_python, tmp_path):
    done = subprocess.run(
        [str(student_python), str(REPO_ROOT / "tests" / "leaks.py")],
        cwd=tmp_path, capture_output=True, text=True,
        env={"COURSE_FAST": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " 0 leak(s)" in " " + done.stdout.splitlines()[-1]


def readme_student_line():
    """The README's line that installs the runtime's wheel, as a student types it."""
    readme = (REPO_ROOT / "README.md").read_text()
    lines = [line.split("#")[0].strip() for line in readme.splitlines()]
    [line] = [line for line in lines if line.startswith("pip install ./pixelschool-")]
    return line


def test_the_readme_student_line_installs_offline_into_a_bare_venv(wheel, tmp_path):
    """Exactly the README's line, in the folder holding the wheel, in a venv with nothing
    but pip: no index (the name is never looked up), the dependencies from a local folder."""
    line = readme_student_line()
    assert line.split()[-1] == f"./{wheel.name}", "the README names another wheel than make's"
    if not (WHEELHOUSE / ".done").exists():
        pytest.skip("the runtime's dependencies as wheels: `make test` downloads them")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    shutil.copy(wheel, downloads)
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # pip from ensurepip
    offline = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(WHEELHOUSE),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(line, shell=True, cwd=downloads, env=offline, capture_output=True)
    assert done.returncode == 0, done.stdout.decode()[-2000:] + done.stderr.decode()[-2000:]
    code = (
        "import numpy as np, problem_unittests as tests, pixelschool\n"
        "from pixelschool import datasets, plots\n"
        "print(pixelschool.__file__)\n"
        "tests.test_one_hot(lambda vector, n: np.eye(n, dtype=np.float32)[vector])\n"
    )
    checked = run_in(venv / "bin" / "python", code, tmp_path, **offline)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert checked.stdout.startswith(str(venv)) and "one_hot: all tests passed" in checked.stdout
