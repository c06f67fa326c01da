"""What happened while one submission ran, as events for the instructor's report.

Three sources, all gathered after the sandboxed run:

- ``SandboxedExecute``'s incident log: cells stopped at the time limit, kernels that died,
  outputs cut, changes to the kernel put back before graded cells, a watch that did not
  answer the state check (JSON lines);
- ``launch.py``'s watch log, as the grader drained it from its pipe (``watch.py``): paths
  opened or listed outside the sandbox's folders, network use, processes started
  (tab-separated: kind, count, detail);
- the executed notebook's error outputs: limits the kernel ran into (memory, disk, processes).
"""

import json
from collections import defaultdict
from pathlib import Path

from pixelschool_admin.authoring.notebooks import cell_grade_id, readable_notebooks
from pixelschool_admin.grading.events import Event

STEP = "autograde"
WATCHED = {"file": "blocked file", "network": "blocked network", "process": "processes"}
SHOWN = 3  # examples per kind in one event's detail
# Error text in an output -> the limit it means.
LIMIT_SIGNS = {
    "MemoryError": "memory limit",
    "[Errno 27] File too large": "disk limit",
    "[Errno 28] No space left on device": "disk limit",
    "[Errno 11] Resource temporarily unavailable": "process limit",
}


def note(path, kind, cell, detail):
    """Append one incident to the JSON-lines log at ``path`` ('' : no log), as the steps of a
    grading write them (execution, the judge, the sanitiser) and :func:`incident_events` reads
    them back."""
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"kind": kind, "cell": cell, "detail": detail}) + "\n")


def incident_events(path, assignment, student):
    """Events from ``SandboxedExecute``'s incident log at ``path``."""
    events = []
    for line in _lines(path):
        try:
            item = json.loads(line)
        except ValueError:
            continue
        detail = f"{item.get('cell')}: {item.get('detail')}"
        events.append(Event(STEP, assignment, student, item.get("kind", "?"), detail))
    return events


def watch_events(path, assignment, student, sandboxed):
    """Events from ``launch.py``'s watch log at ``path``: one per kind, with a count."""
    seen = defaultdict(list)
    counts = defaultdict(int)
    for line in _lines(path):
        kind, _, rest = line.partition("\t")
        count, _, detail = rest.partition("\t")
        if kind not in WATCHED or not count.isdigit():
            continue
        counts[kind] = max(counts[kind], int(count))
        if detail not in seen[kind]:
            seen[kind].append(detail)
    events = []
    for kind, details in seen.items():
        examples = "; ".join(details[:SHOWN])
        where = "" if sandboxed or kind == "process" else " (no sandbox here: not blocked)"
        detail = f"{counts[kind]}× {examples}{' …' if len(details) > SHOWN else ''}{where}"
        events.append(Event(STEP, assignment, student, WATCHED[kind], detail))
    return events


def limit_events(folder, assignment, student):
    """Events for the limits that error outputs in ``folder``'s notebooks show were hit."""
    found = {}
    for _, nb in readable_notebooks(sorted(Path(folder).glob("*.ipynb"))):
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                text = " ".join(
                    str(output.get(key, "")) for key in ("ename", "evalue", "text")
                ) + " ".join(output.get("traceback", []))
                for sign, kind in LIMIT_SIGNS.items():
                    if sign in text and kind not in found:
                        grade_id = cell_grade_id(cell)
                        found[kind] = f"{grade_id or f'cell {index + 1}'}: {sign}"
    return [Event(STEP, assignment, student, kind, detail) for kind, detail in found.items()]


def _lines(path):
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except (OSError, TypeError):
        return []
    return [line for line in text.splitlines() if line.strip()]
