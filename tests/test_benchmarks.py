"""Every benchmark still imports: one that does not is a defect (benchmarks/ never runs in CI)."""

import importlib
import pkgutil

import pytest

import benchmarks

MODULES = sorted(info.name for info in pkgutil.iter_modules(benchmarks.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_imports(name):
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(module.main)


def test_feedback_checks_benchmark_runs_on_one_check(capsys):
    from benchmarks import feedback_checks

    feedback_checks.main(["conv_output_size"])
    out = capsys.readouterr().out
    assert "import problem_unittests:" in out and "conv_output_size" in out
