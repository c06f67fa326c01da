"""Wrong answers to notebook 02 (the references are the solution notebook's own functions)."""
