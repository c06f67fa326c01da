"""Intake: notebooks to students and back, the roster, and names from outside checked."""
