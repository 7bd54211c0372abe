"""Benchmarks: each compares hookline against a baseline measured in the same run."""
