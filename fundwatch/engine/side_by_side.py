"""Independent jobs run at the same time, each on an engine of its own (`Engine.workers`).

One DuckDB query rarely keeps every core busy from start to end (a sort that ends on one
thread, a short query, Python between queries); two side by side fill the gaps. An engine
that parallelises each query itself (Spark) gives one worker, and the jobs run in turn.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def side_by_side(engine, jobs: list[Callable], at_once: int, name: str = "fundwatch-job") -> list:
    """Each job (a function of an engine) run on one of `engine.workers(at_once)`, at most
    `at_once` at a time; results in the order of `jobs`. A job's exception is raised here
    once the jobs already started have ended."""
    engines = engine.workers(at_once)
    try:
        if len(engines) == 1:
            return [job(engine) for job in jobs]
        free: queue.SimpleQueue = queue.SimpleQueue()
        for e in engines:
            free.put(e)

        def run(job):
            e = free.get()
            try:
                return job(e)
            finally:
                free.put(e)

        with ThreadPoolExecutor(len(engines), thread_name_prefix=name) as pool:
            return list(pool.map(run, jobs))
    finally:
        engine.close_workers(engines)
