"""Wrong answers to notebook 07 (the references are the solution notebook's own functions)."""
