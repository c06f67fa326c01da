"""One submission on a grading node: executed in a scratch course, bytes in and bytes out.

Nothing here reads or writes the course folder."""
