"""Benchmarks: each prints its figures next to a raw limit measured in the same run."""
