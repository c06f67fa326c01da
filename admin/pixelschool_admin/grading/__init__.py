"""The instructor's pipeline on nbgrader: release, collect, autograde, feedback, export, report.

The fresh checks imported inside students' kernels are ``pixelschool.pristine`` (the runtime).
"""
