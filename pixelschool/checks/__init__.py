"""Feedback checks, one module per notebook (or notebook section); see framework.py."""
