"""The one exception the dataset helpers raise."""


class DatasetError(Exception):
    """A dataset is missing, corrupt or in the wrong format.

    The message names the file (or URL) and says how to fix the problem.
    """
