"""Two shims that make nbgrader record a submission faster, same results: its cell metadata
schema checked once, and one SQLAlchemy engine per gradebook database. ``install()`` puts
them in place; ``Course`` calls it, so every process that grades (instructor or worker) has
them, and importing a module changes nothing in nbgrader."""

import json

import jsonschema
import nbgrader.api
import nbgrader.nbgraderformat.common
import sqlalchemy


class SchemaCheckedOnce:
    """``jsonschema`` as nbgrader's cell metadata validator uses it, with its schema checked
    once: ``jsonschema.validate`` checks the schema against the meta-schema again for every
    cell, a third of the time it takes to record a submission. Same validation, same errors."""

    validators = {}  # the schema as JSON -> its validator (nbgrader loads it for each use)

    @classmethod
    def validate(cls, instance, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in cls.validators:
            kind = jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            cls.validators[key] = kind(schema)
        error = jsonschema.exceptions.best_match(cls.validators[key].iter_errors(instance))
        if error is not None:
            raise error


class OneEnginePerDatabase:
    """``create_engine`` as nbgrader's ``Gradebook`` uses it, with one SQLAlchemy engine per
    database: nbgrader opens a gradebook about eleven times to record one submission, each
    with an engine of its own that compiles every SQL statement again (a quarter of the
    recording time). A shared engine keeps its compiled statements; ``Gradebook.close()``
    still closes its connections (``dispose``), so nothing stays open between uses."""

    engines = {}  # (url, options) -> engine

    @classmethod
    def create_engine(cls, url, **options):
        key = (str(url), tuple(sorted(options.items())))
        if key not in cls.engines:
            cls.engines[key] = sqlalchemy.create_engine(url, **options)
        return cls.engines[key]


def install():
    """Put both shims in nbgrader's place (idempotent)."""
    nbgrader.nbgraderformat.common.jsonschema = SchemaCheckedOnce
    nbgrader.api.create_engine = OneEnginePerDatabase.create_engine
