"""Reference answers and realistic wrong answers, one module per check module.

``answers/<module>.py`` holds the wrong answers and correct variants of the exercises checked
in ``pixelschool/checks/<module>.py`` and registers them in :mod:`.registry` when imported.
They test the feedback checks (every check must pass its reference and reject every wrong
answer with a message containing ``says``), ``make build`` records the named mistakes, and
the demo class pastes them into partial submissions. They belong to the instructor's
package, which neither the student wheel nor a grading kernel can import.
"""

import importlib
import pkgutil

# Every answers module, by name: found in this folder, not listed by hand.
MODULES = tuple(m.name for m in pkgutil.iter_modules(__path__) if m.name != "registry")


def import_all():
    """Import every answers module, registering all references and wrong answers."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
