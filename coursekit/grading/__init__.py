"""The instructor's pipeline on nbgrader: release, collect, autograde, feedback, export, report.

Kept free of imports: ``coursekit.grading.pristine`` is imported inside students' kernels.
"""
