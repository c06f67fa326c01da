"""Authoring: build the student notebooks from solutions/ and check the course for mistakes."""
