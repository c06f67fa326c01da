"""The recording pass's executor: the outputs of the sandboxed run, put back in the notebook.

``ReplayExecution`` replaces nbgrader's ``Execute`` in the second, serial pass, which is
nbgrader's own ``autograde`` on the course: nbgrader then scores and records exactly what
the sandboxed run produced (``worker/executor.py``).
"""

from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from pixelschool_admin.authoring.notebooks import cell_grade_id, nbgrader_meta, read_notebook


class ReplayExecution(NbGraderPreprocessor):
    """Put the outputs of an earlier execution into the notebook instead of executing it.

    ``executed_root``: a folder with ``<student>/<assignment>/<notebook>.ipynb`` executed
    notebooks (nbgrader's autograded layout). Cells are matched by position and must have the
    same source and grade id; a notebook that does not match is an error, never a guess.
    """

    executed_root = Unicode("", help="where the executed notebooks are").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        path = (
            Path(self.executed_root)
            / info["student"]
            / info["assignment"]
            / f"{info['notebook']}.ipynb"
        )
        executed = read_notebook(path)
        if len(executed.cells) != len(nb.cells):
            raise ValueError(f"{path} has {len(executed.cells)} cells, not {len(nb.cells)}")
        for cell, done in zip(nb.cells, executed.cells, strict=True):
            same_id = cell_grade_id(cell) == cell_grade_id(done)
            if cell.source != done.source or not same_id:
                raise ValueError(f"{path}: cell {nbgrader_meta(cell).get('grade_id')} differs")
            if cell.cell_type == "code":
                cell.outputs = done.outputs
                cell.execution_count = done.get("execution_count")
        nb.metadata["language_info"] = executed.metadata.get("language_info", {})
        return nb, resources
