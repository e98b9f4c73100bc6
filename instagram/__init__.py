"""A plain package for Meta's Instagram API: client, typed errors, webhook signatures and
event parsing. It imports neither Django app."""
