"""Benchmarks run with `make bench`; they report numbers and fail only when a target is missed."""
