"""Feedback checks for notebook 06, Keras convolutional networks on MNIST."""

__all__ = []
