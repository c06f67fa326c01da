"""Which mistake a check's failure names: a stable key beside the message a student reads.

A check fails with an ``AssertionError`` whose text the student reads. The grader also wants
to count the class's mistakes (``reports/mistakes.csv``), so each failure carries a key that
does not depend on the student's values: :func:`named` attaches one (the message is
unchanged, the exception is still a plain ``AssertionError``), and :func:`mistake_of` reads it
back, or derives one from where the check raised.

The keys:

- a recorded mistake: its key in the check's messages (``batch_max``);
- a relation: the function's qualified name (``only_zeros_and_ones``,
  ``penalty_relations.wrong_sign``), or the key of the check's message it returned;
- nothing explains the values (the ``otherwise`` message or the default one):
  :data:`NO_NAMED_MISTAKE`;
- the generic rules of the framework: :data:`PLACEHOLDER`, :data:`RAISED`, ... (words with
  spaces, so that no key of a check's messages can be one);
- any other rule of a check's code: ``code:<module>.<function>+<line>``, the line counted
  from the function's ``def`` (stable while that function is not edited above it; every
  submission is regraded when ``pixelschool/`` changes, so one run's keys agree).

Only the grader's own run of a check (``hidden.judge_results``) decides a key that counts.
"""

# What an unfinished template returns, as compare.placeholder says it (a judge that raises it
# itself, with ``expect``, is keyed PLACEHOLDER by these texts).
RETURNED_NONE = "it returned None: is a `return` statement missing?"
RETURNED_EMPTY_LIST = "it returned an empty list: the template's placeholder is still there."
RETURNED_INPUT = "it returned its input unchanged: the template's placeholder is still there."
PLACEHOLDER_TEXTS = (RETURNED_NONE, RETURNED_EMPTY_LIST, RETURNED_INPUT)

NO_NAMED_MISTAKE = "no named mistake"  # wrong values that no recorded mistake or relation explains
PLACEHOLDER = "template placeholder"  # an unfinished template's result (None, its input)
RAISED = "raised an exception"  # the student's function raised (not NotImplementedError)
TOO_SLOW = "too slow"  # still running at the call's time limit
CHANGED_INPUT = "changed its input"  # changed an argument in place
NOT_AN_ARRAY = "not an array"
WRONG_SHAPE = "wrong shape"
WRONG_DTYPE = "wrong dtype"
WRONG_VALUE_COUNT = "wrong number of values"  # not a tuple of the expected length
NOT_CALLED = "not called on every input"
PYTHON_LOOP = "python loop"  # a loop where the exercise asks for whole-array operations
UNKNOWN = "code"  # an AssertionError raised outside the checks' modules

# Modules whose frames are helpers: the key names the check that called them.
HELPER_MODULES = {
    "pixelschool.checks.framework",
    "pixelschool.checks.compare",
    "pixelschool.checks.transcript",
    __name__,
}


def named(message, mistake):
    """An ``AssertionError(message)`` that says which mistake it names (``mistake``)."""
    error = AssertionError(message)
    error.mistake = mistake
    return error


def says_placeholder(message):
    """True for ``<function>: <placeholder text>``, as checks say it with ``expect``; not for
    a message that only ends so: some quote the kernel's text last (a probe's error)."""
    function, _, said = message.partition(": ")
    return function.isidentifier() and said in PLACEHOLDER_TEXTS


def mistake_of(error):
    """The key of the mistake an ``AssertionError`` from a check names (see the module)."""
    mistake = getattr(error, "mistake", None)
    if isinstance(mistake, str) and mistake:
        return mistake
    if says_placeholder(str(error)):
        return PLACEHOLDER
    site = None
    tb = error.__traceback__
    while tb is not None:  # outermost first: the innermost frame in a check module wins
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith("pixelschool.checks.") and module not in HELPER_MODULES:
            site = tb
        tb = tb.tb_next
    if site is None:
        return UNKNOWN
    code = site.tb_frame.f_code
    name = getattr(code, "co_qualname", code.co_name).replace(".<locals>", "")
    module = site.tb_frame.f_globals["__name__"].rsplit(".", 1)[-1]
    return f"code:{module}.{name}+{site.tb_lineno - code.co_firstlineno}"
