"""Test doubles for acd117's tests and benchmarks."""
