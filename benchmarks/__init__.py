"""Benchmarks: throughput and memory of the pipeline and its stages."""

from __future__ import annotations

import os


def one_core() -> int | None:
    """Pin this process to the first core it may run on, and return that core (None where
    the system cannot pin a process)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core
