"""Feedback checks for notebook 02, k-nearest neighbours."""

__all__ = []
