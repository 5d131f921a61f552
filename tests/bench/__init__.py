"""Benchmarks: see tests/bench/run.sh."""
