"""The students' runtime of the image-classification course: datasets, plots, styles and the
feedback checks with their recordings (the instructor's side is ``pixelschool_admin``)."""

__version__ = "0.1.0"
