"""Simulated callers and agents, for the demo (wall clock) and `acd117 simulate` (virtual clock)."""
