"""The set-up files agree with each other, and the code is ruff clean."""

import re
import subprocess
import sys

import yaml

from pixelschool_admin.paths import REPO_ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^;\s]+)\s*(;.*)?$")


def requirement_lines(name):
    lines = (REPO_ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_every_requirement_is_pinned_exactly():
    for name in ["requirements.txt", "requirements-dev.txt", "constraints.txt"]:
        for line in requirement_lines(name):
            assert PIN.match(line), f"{name}: '{line}' is not pinned with =="


def test_tensorflow_wheel_depends_on_platform():
    markers = {
        PIN.match(line)[1]: PIN.match(line)[3] for line in requirement_lines("requirements.txt")
    }
    assert "x86_64" in markers["tensorflow-cpu"] and "darwin" in markers["tensorflow"]
    versions = {
        PIN.match(line)[1]: PIN.match(line)[2] for line in requirement_lines("requirements.txt")
    }
    assert versions["tensorflow-cpu"] == versions["tensorflow"]


def test_constraints_do_not_repin_direct_requirements():
    def names(file):
        return {PIN.match(line)[1].lower().replace("_", "-") for line in requirement_lines(file)}

    direct = names("requirements.txt") | names("requirements-dev.txt")
    assert not direct & names("constraints.txt")


def test_conda_environment_installs_the_same_pins():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-r requirements.txt", "-r requirements-dev.txt", "-c constraints.txt", "-e ."]


def test_makefile_installs_the_same_files():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "-r requirements.txt -r requirements-dev.txt -c constraints.txt" in makefile


def test_readme_starts_with_the_two_commands():
    readme = (REPO_ROOT / "README.md").read_text()
    setup = readme.index("## Set-up")
    assert readme.index("make demo") > setup and readme.index("make test") > setup
    assert setup < readme.index("## Course map")


def test_ci_runs_the_readme_test_command():
    script = (REPO_ROOT / ".ci" / "run").read_text()
    assert "dataset-fashion-mnist" in script and script.rstrip().endswith("make test")


def test_code_is_ruff_clean_and_formatted():
    for command in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout
