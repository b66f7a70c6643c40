"""Benchmarks against peers; `make bench` runs `python -m bench`."""
