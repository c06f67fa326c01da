"""The instructor's side of the course kit: authoring, grading, the demo class, the CLI.

It imports the student runtime (``coursekit``), never the reverse, and is not part of
what students install.
"""
