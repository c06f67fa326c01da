"""Wrong answers to notebook 04 (the references are the solution notebook's own functions)."""
