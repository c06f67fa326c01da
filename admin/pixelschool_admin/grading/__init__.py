"""The instructor's pipeline on nbgrader, one subpackage per stage a submission goes through.

- ``intake``: notebooks out to students and back (nbgrader's exchange, LMS zips), the
  roster, and the rule for names that come from outside;
- ``cluster``: where submissions run (Dask: this machine, a scheduler, a batch system);
- ``worker``: what a node does with one submission, bytes in and bytes out;
- ``sandbox``: the student's kernel on that node (bubblewrap, limits, warm kernels, watch);
- ``record``: back in the instructor's process, the one writer of the gradebook: the
  autograde loop, the grader's judgement, manual grades kept, the ledger, the canary;
- ``results``: what people read (grades for the LMS, the report, feedback pages, all
  sanitised).

Beside them: ``course`` (the folder and every path in it), ``settings`` (every grading
setting), ``events`` and ``incidents`` (what the instructor is told) and ``errors``.
The fresh checks imported inside students' kernels are ``pixelschool.pristine`` (the runtime).
"""
