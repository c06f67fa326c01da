"""nbgrader configuration for the course (read by `python -m pixelschool_admin` and by nbgrader).

The course's single source is ``solutions/``; the kit copies each notebook into
nbgrader's ``source/<notebook name>/`` so that every notebook is one assignment.
"""

c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "image-classification"

# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading runs every notebook in fast mode (nbgrader sets NBGRADER_EXECUTION while it
# autogrades, which pixelschool.config.fast_mode() honours); a cell that runs longer than
# this is stopped and the notebook graded as it stands.
c.Execute.timeout = 120

# Late work: nbgrader's default ("none") shows a late submission as late with no penalty;
# "zero" gives a late notebook zero. Due dates are set per assignment in the formgrader or
# with `nbgrader db assignment add NAME --duedate=...`. The export applies the penalty.
# c.LateSubmissionPlugin.penalty_method = "zero"

# Where autograde runs submissions (see README.md, "Grading on a cluster"): --cluster slurm
# (pbs, sge, lsf, htcondor) starts `jobs` batch jobs with these dask-jobqueue options.
# c.ClusterGrading.jobqueue = {"queue": "cpu", "cores": 16, "processes": 16, "memory": "64GB",
#                              "walltime": "02:00:00"}
# c.ClusterGrading.jobs = 4
# A submission that kills its worker this many times is graded 0, with the reason.
c.ClusterGrading.attempts = 3
