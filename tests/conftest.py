"""Suite-wide settings: never download, and run notebooks in fast mode."""

import os

os.environ["COURSE_OFFLINE"] = "1"
os.environ.setdefault("COURSE_FAST", "1")
