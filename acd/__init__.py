"""acd117: the automatic call distributor behind Indonesia's 117 disaster emergency line."""
