"""The instructor's side of the course kit: authoring, grading, the demo class, the CLI.

It imports the student runtime (``pixelschool``), never the reverse, and is not part of
what students install.
"""

import importlib
import importlib.util
import sys
import types


def _defer_iri_grammar():
    """jsonschema imports ``rfc3987_syntax``, which builds its IRI grammar at import: 2.4 s
    in every process that reads a notebook (the grader's, each Dask worker's), though
    nothing here checks IRIs. jsonschema gets a stand-in whose one function loads the real
    module when it is first called, so an IRI check still works as before."""
    if "rfc3987_syntax" in sys.modules or importlib.util.find_spec("rfc3987_syntax") is None:
        return
    stand_in = types.ModuleType("rfc3987_syntax")

    def is_valid_syntax(term, value):
        if sys.modules.get("rfc3987_syntax") is stand_in:
            del sys.modules["rfc3987_syntax"]
        return importlib.import_module("rfc3987_syntax").is_valid_syntax(term, value)

    stand_in.is_valid_syntax = is_valid_syntax
    sys.modules["rfc3987_syntax"] = stand_in


_defer_iri_grammar()
