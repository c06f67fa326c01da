"""Feedback checks for notebook 04, backpropagation."""

__all__ = []
