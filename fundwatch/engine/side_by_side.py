"""Independent jobs run at the same time, each on an engine of its own (`Engine.workers`).

One DuckDB query rarely keeps every core busy from start to end (a sort that ends on one
thread, a short query, Python between queries); two side by side fill the gaps. An engine
that parallelises each query itself (Spark) gives one worker, and the jobs run in turn.

When a job fails, or the caller is interrupted (Ctrl-C, a Jupyter kernel interrupt), no
further job starts and the queries still running are interrupted, so the error comes back
at once instead of after every remaining job. A job that runs out of memory beside others
(`Engine.out_of_memory`: they share one memory limit) is not a failure yet: it runs again
alone once the others are done, with the whole limit to itself; jobs must be safe to rerun.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from fundwatch import log


def side_by_side(
    engine, jobs: list[Callable], at_once: int, name: str = "fundwatch-job", labels: list[str] | None = None
) -> list:
    """Each job (a function of an engine) run on one of `engine.workers(at_once)`, at most
    `at_once` at a time; results in the order of `jobs`. The first job to fail (in the order
    of `jobs`, among those that failed) raises here, once the others have stopped. `labels`
    name the jobs in messages."""
    with engine.workers(at_once) as engines:
        if len(engines) == 1:
            return [job(engine) for job in jobs]
        results = _on_threads(engines, jobs, name)
    for i, result in enumerate(results):
        if result is _SHORT_OF_MEMORY:
            job = labels[i] if labels else f"{i + 1} of {len(jobs)}"
            log.emit(f"{name}: {job} ran out of memory beside another; running it again alone "
                     "(a higher --memory-limit saves the time)", level="warning", event="retry_alone")
            results[i] = jobs[i](engine)  # alone now: a second failure is the job's own
    return results


_SHORT_OF_MEMORY = object()  # a job's result: it ran out of memory beside others


def _on_threads(engines: list, jobs: list[Callable], name: str) -> list:
    free: queue.SimpleQueue = queue.SimpleQueue()
    for e in engines:
        free.put(e)
    stopping = threading.Event()

    def run(job):
        if stopping.is_set():  # a job failed or the caller was interrupted: start nothing more
            return None
        e = free.get()
        try:
            return job(e)
        except Exception as exc:
            if e.out_of_memory(exc) and not stopping.is_set():
                return _SHORT_OF_MEMORY
            stopping.set()
            raise
        except BaseException:
            stopping.set()
            raise
        finally:
            free.put(e)

    pool = ThreadPoolExecutor(len(engines), thread_name_prefix=name)
    futures = [pool.submit(run, job) for job in jobs]
    try:
        # In short waits: Python runs a signal's handler (Ctrl-C) in the main thread only, when
        # that thread runs Python again; a wait without end lets it run after the last job.
        while True:
            _, pending = wait(futures, timeout=0.1, return_when=FIRST_EXCEPTION)
            failed = [f for f in futures if f.done() and f.exception() is not None]
            if failed or not pending:
                break
        if failed:
            raise failed[0].exception()
        return [f.result() for f in futures]
    except BaseException:
        stopping.set()
        for e in engines:
            e.interrupt()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
