"""Benchmarks: throughput and memory of the pipeline and its stages."""
