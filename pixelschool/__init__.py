"""Helpers for the image-classification course: datasets, plots, feedback checks, authoring."""

__version__ = "0.1.0"
