"""Wrong answers to notebook 05 (the references are the solution notebook's own functions)."""
