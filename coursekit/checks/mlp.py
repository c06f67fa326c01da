"""Feedback checks for notebook 05, the NumPy multi-layer perceptron."""

__all__ = []
