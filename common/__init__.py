"""Small helpers that every app may import: they import none of the project's apps."""
