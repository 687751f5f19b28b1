"""The contract's outputs: OUTDIR/cases.csv, rule_hits.csv and run.json.

IDs are masked unless `unmask` is set, and run.json records which. Each file is written
to a temporary name and renamed; run.json is written last, so a run.json naming this
run means the other files are this run's too.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import traceback
from decimal import Decimal
from pathlib import Path

import pandas as pd

from fundwatch.report import tables
from fundwatch.report.coverage_tables import coverage_table, rates_table
from fundwatch.report.files import publish_together, write_csv, write_json
from fundwatch.report.html import write_page
from fundwatch.report.mask import masked_run
from fundwatch.report.tables import CASES_CSV, HITS_CSV, case_table, hit_table
from fundwatch.report.xlsx import write_workbook

__all__ = ["CASES_CSV", "HITS_CSV", "case_table", "hit_table", "write_outputs"]


def csv_numbers(frame):
    """The frame as its CSV shows it: money always with 2 decimals ("15960.00"), the outlier
    score to 3; numbers stay numbers everywhere else (the workbook formats its own)."""
    out = frame.copy()
    for col in ("amount_at_risk", "amount_owed"):
        if col in out:
            money = pd.to_numeric(out[col], errors="coerce")
            # Decimals, not text: a spreadsheet guard (files.neutralise) quotes text starting with "-",
            # and a negative amount must stay a number. (+ 0.0: no "-0.00".)
            out[col] = [Decimal(f"{v + 0.0:.2f}") if v == v else None for v in money.astype(float)]
    if "outlier_score" in out:
        out["outlier_score"] = pd.to_numeric(out["outlier_score"], errors="coerce").round(3)
    return out


def write_outputs(result, outdir, *, lang: str = "en", unmask: bool = False, reports: bool = True) -> dict[str, Path]:
    """Write the case list files; all of them change together or none does.

    cases.csv, rule_hits.csv, coverage.csv, coverage_rates.csv and run.json always; cases.xlsx
    and report.html unless `reports=False`. The trend across years is the scan's `history` (from
    the run history).
    """
    outdir = Path(outdir)
    paths = {"cases": outdir / "cases.csv", "rule_hits": outdir / "rule_hits.csv",
             "coverage": outdir / "coverage.csv", "coverage_rates": outdir / "coverage_rates.csv"}
    if reports:
        paths.update({"xlsx": outdir / "cases.xlsx", "html": outdir / "report.html"})
    paths["run"] = outdir / "run.json"
    # run.json quotes rule errors, which may quote a value (DuckDB: "Could not convert string
    # '110105...'"): masked like the other files unless unmask.
    masked = masked_run(result, unmask)
    run = dict(masked.run)
    run["outputs"] = {"dir": str(outdir), "lang": lang, "ids_unmasked": unmask,
                      "files": [p.name for p in paths.values()]}
    if _written_already(paths, run):
        return paths  # a quiet night: the stored run came back and its files are in place
    with publish_together(outdir) as stage:
        # Each table is masked once, here, for every file (masking is the costly part); the
        # workbook and the page get these tables in place of the ones write_xlsx and
        # write_html would mask again.
        cases, hits = case_table(result, lang, unmask), hit_table(result, lang, unmask)
        write_csv(csv_numbers(cases), stage(paths["cases"]))
        write_csv(csv_numbers(hits), stage(paths["rule_hits"]))
        coverage, rates = coverage_table(result, lang, unmask), rates_table(result)
        write_csv(csv_numbers(coverage), stage(paths["coverage"]))
        write_csv(csv_numbers(rates), stage(paths["coverage_rates"]))
        if reports:
            history = result.history
            trend = tables.history_frame(history, result.year, result.cases) if history is not None else None
            cases, hits = tables.export_tables(masked, lang, unmask, tables=(cases, hits))
            # The workbook and the page are both written in Python (xlsxwriter, matplotlib),
            # which holds the GIL: a thread would not help, a second process does.
            outreach = {"coverage": coverage, "rates": rates}
            with _in_another_process(write_workbook, masked, stage(paths["xlsx"]), lang=lang, unmask=unmask,
                                     trend=trend, cases=cases, hits=hits, **outreach):
                write_page(masked, stage(paths["html"]), lang=lang, unmask=unmask, trend=trend, cases=cases,
                            hits=hits, **outreach)
        write_json(run, stage(paths["run"]))
    return paths


def _written_already(paths: dict[str, Path], run: dict) -> bool:
    """Whether `paths` already hold this very run, written the same way (run.json names the run
    and how its files were written; every file is there)."""
    try:
        old = json.loads(paths["run"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (bool(run.get("run_id")) and old.get("run_id") == run.get("run_id")
            and old.get("outputs") == run["outputs"] and all(p.exists() for p in paths.values()))


@contextlib.contextmanager
def _in_another_process(fn, *args, **kwargs):
    """Run `fn(*args, **kwargs)` in a forked child while the block runs; its error is raised
    here once the block is done. Where fork is not available, `fn` runs first, here."""
    if "fork" not in multiprocessing.get_all_start_methods():
        fn(*args, **kwargs)
        yield
        return
    ctx = multiprocessing.get_context("fork")  # the child inherits the frames: nothing is pickled
    receive, send = ctx.Pipe(duplex=False)

    def child():
        try:
            fn(*args, **kwargs)
        except BaseException as e:  # the parent raises it; the child only reports it
            send.send(f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
            send.close()
            os._exit(1)
        send.close()
        os._exit(0)

    proc = ctx.Process(target=child, name="fundwatch-xlsx", daemon=True)
    proc.start()
    send.close()
    try:
        yield
        try:  # the child's message, or end of file when it exits without one
            failure = receive.recv()
        except EOFError:
            failure = None
    except BaseException:
        proc.terminate()
        proc.join()
        raise
    finally:
        receive.close()
    proc.join()
    if proc.exitcode:
        raise RuntimeError(f"writing {getattr(fn, '__name__', fn)} failed in its process: "
                           f"{failure or f'exit code {proc.exitcode}'}")
