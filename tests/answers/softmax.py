"""Wrong answers to notebook 03 (the references are the solution notebook's own functions)."""
