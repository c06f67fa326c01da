"""The student's kernel on a grading node: bubblewrap, limits, warm kernels, the watch.

``launch.py`` and ``zygote.py`` run as scripts inside the sandbox and import nothing of the kit."""
