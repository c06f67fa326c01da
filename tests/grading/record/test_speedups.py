"""nbgrader's speed shims: the same results, faster."""

import subprocess
import sys

import pytest

from pixelschool_admin.grading.course import Course


def test_nbgrader_metadata_validation_checks_its_schema_once():
    """The shim in ``record/speedups.py`` validates as ``jsonschema.validate`` does, error
    for error."""
    import jsonschema
    from nbformat.v4 import new_code_cell
    from nbgrader.nbgraderformat import MetadataValidator

    from pixelschool_admin.grading.record.speedups import SchemaCheckedOnce, install

    install()

    schema = MetadataValidator().schema
    good = {"schema_version": 3, "grade": True, "solution": False, "locked": True}
    good |= {"points": 1, "grade_id": "q1", "task": False}
    bad = [good | {"points": "one"}, good | {"grade_id": 7, "locked": "yes"}, {"schema_version": 3}]
    jsonschema.validate(good, schema)
    SchemaCheckedOnce.validate(good, schema)
    for metadata in bad:
        with pytest.raises(jsonschema.ValidationError) as theirs:
            jsonschema.validate(metadata, schema)
        with pytest.raises(jsonschema.ValidationError) as ours:
            SchemaCheckedOnce.validate(metadata, schema)
        assert str(ours.value) == str(theirs.value)
    cell = new_code_cell("x = 1", metadata={"nbgrader": bad[0]})
    SchemaCheckedOnce.validators.clear()
    for _ in range(3):  # nbgrader goes through the shim, which keeps one validator
        with pytest.raises(jsonschema.ValidationError):
            MetadataValidator().validate_cell(cell)
    assert len(SchemaCheckedOnce.validators) == 1


def test_the_iri_grammar_loads_only_when_an_iri_is_checked():
    """``pixelschool_admin`` defers ``rfc3987_syntax`` (2.4 s at import); jsonschema's IRI format
    check still gives the real module's answers."""
    probe = (
        "import sys, pixelschool_admin, nbformat\n"
        "from jsonschema import Draft202012Validator, FormatChecker\n"
        "print(getattr(sys.modules['rfc3987_syntax'], 'RFC3987_SYNTAX_PARSER_TYPE', 'deferred'))\n"
        "check = Draft202012Validator({'format': 'iri'}, format_checker=FormatChecker())\n"
        "print([check.is_valid(v) for v in ('http://example.com/ä', 'ht tp://x', 'a:b')])\n"
        "print(getattr(sys.modules['rfc3987_syntax'], 'RFC3987_SYNTAX_PARSER_TYPE', 'deferred'))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.split("\n")[:3] == ["deferred", "[True, False, True]", "earley"], done.stderr


def test_gradebooks_of_one_database_share_one_engine_and_close_their_connections(tmp_path):
    """The shim in ``record/speedups.py``: nbgrader's ``Gradebook``s of one database (nested, as
    nbgrader opens them) share an engine, see each other's writes, and leave no connection."""
    from nbgrader.api import Gradebook

    url = Course(tmp_path / "course").db_url  # (a Course puts the shim in place)
    with Gradebook(url) as outer:
        outer.add_student("ana")
        with Gradebook(url) as inner:
            assert inner.engine is outer.engine
            inner.add_student("bo")
        assert {s.id for s in outer.students} == {"ana", "bo"}
    assert outer.engine.pool.checkedout() == 0
    other = Gradebook(f"sqlite:///{tmp_path / 'other.db'}")
    assert other.engine is not outer.engine and other.students == []
    other.close()
