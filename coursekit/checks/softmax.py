"""Feedback checks for notebook 03, the linear softmax classifier."""

__all__ = []
