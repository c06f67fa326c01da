"""Wrong answers to notebook 06 (the references are the solution notebook's own functions)."""
