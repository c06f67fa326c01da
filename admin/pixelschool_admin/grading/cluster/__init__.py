"""The grading engine: Dask on this machine, on a scheduler's workers, or as batch jobs."""
