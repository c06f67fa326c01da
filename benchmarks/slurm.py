"""Autograde on SLURM versus the local cluster, side by side, on copies of one class in one run.

``--cluster slurm`` with two batch jobs of one core each (dask-jobqueue's SLURMCluster on a
single-node SLURM started on this machine, ``tests/slurm.py``; its start is not counted, the
jobs' start is) and ``local:2``. The submissions: full marks, realistic mistakes and blank
notebooks from the demo class (as ``benchmarks.autograde``). The grades must agree.

Per configuration: the whole run (seconds, submissions per minute), the steady state after
the first quarter of the results (submissions per minute), the start-up (cluster or jobs,
canary, first task) and seconds per task in the workers.
Run: python -m benchmarks.slurm [students] [notebook]   (default: 40 01_data_preparation)
Needs root and Debian's slurm-wlm and munge (it says so otherwise).
"""

import os
import sys
import tempfile
from pathlib import Path

from benchmarks.autograde import class_template, copy_course, grades, ours
from tests.slurm import SingleNodeSlurm, missing


def main(size=40, notebook="01_data_preparation"):
    reason = missing()
    if reason:
        print(f"benchmarks.slurm: {reason}")
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-slurm-") as tmp:
        template = class_template(Path(tmp) / "template", notebook, size)
        local = copy_course(template, Path(tmp) / "local")
        rows.append(("ours, local:2", *ours(local, notebook, "local:2", 2)))
        reference = grades(local)
        with SingleNodeSlurm() as slurm:  # started before the clock, as a cluster's SLURM is
            course = slurm.course(copy_course(template, Path(tmp) / "slurm"), jobs=2)
            rows.append(("ours, --cluster slurm, 2 jobs", *ours(course, notebook, "slurm", 2)))
        same = [True, grades(course).equals(reference)]
    print(f"{size} submissions of {notebook} on {os.cpu_count()} cores")
    print("whole run: seconds, submissions per minute; steady state (after the first quarter")
    print("of the results): submissions per minute; start-up: seconds to the first result")
    print(
        f"{'':<31}{'seconds':>8}{'/min':>7}{'steady/min':>11}{'start-up s':>11}{'task s':>7}"
        "  same grades"
    )
    for (name, seconds, figures), agree in zip(rows, same):
        line = f"{name:<31}{seconds:>8.1f}{size / seconds * 60:>7.1f}"
        if figures["ran"] > 1:
            line += f"{60 / figures['interval']:>11.1f}{figures['start-up']:>11.1f}"
            line += f"{figures['task']:>7.2f}"
        print(f"{line}  {agree}")


if __name__ == "__main__":
    main(*(int(sys.argv[1]),) if len(sys.argv) > 1 else (), *sys.argv[2:3])
