"""Feedback checks for notebook 07, a convolutional network on CIFAR-10."""

__all__ = []
