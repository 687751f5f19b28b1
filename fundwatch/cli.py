"""The `fundwatch` command: a thin layer over the Python API.

Exit codes: 0 done; 1 done and --fail-on found cases at that level; 2 bad input or
configuration; 3 internal error; 4 out of memory within --memory-limit; 5 done, but a rule
failed or a rule file is broken (the case list lacks its findings; --allow-rule-errors: 0).
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click
import duckdb
import pandas as pd

from fundwatch import log
from fundwatch.errors import FundwatchError

LEVELS = ("low", "medium", "high", "critical")
RULES_FAILED = 5  # exit code: the scan finished, but without what a failed rule would have found
ENGINE_NAMES = ("duckdb", "spark")  # as fundwatch.engine.ENGINES, without importing the engines


def _workspace(ctx):
    from fundwatch.workspace import Workspace

    o = ctx.obj
    return Workspace(o["workspace"], wait_seconds=o["wait"], memory_limit=o["memory_limit"])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--workspace", type=click.Path(dir_okay=False), default=None,
              help="DuckDB workspace file [default: $FUNDWATCH_WORKSPACE or ./fundwatch.duckdb].")
@click.option("--wait", type=float, default=60.0, show_default=True,
              help="Seconds to wait for another fundwatch process using the workspace.")
@click.option("--memory-limit", default=None, help="DuckDB memory limit, e.g. 2GB; larger work spills to disk.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Messages as text, or as one JSON record per line (for log collectors).")
@click.version_option(package_name="fundwatch")
@click.pass_context
def cli(ctx, workspace, wait, memory_limit, log_format):
    """Find abuse of public money in disbursement records."""
    log.set_format(log_format)
    ctx.obj = {"workspace": workspace, "wait": wait, "memory_limit": memory_limit}


@cli.command(short_help="Load the contract tables of DATA_DIR.")
@click.argument("data_dir", type=click.Path(file_okay=False, path_type=Path), callback=lambda ctx, param, value: _folder(value, "'DATA_DIR'"))
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="Extra header aliases (TOML or YAML).")
@click.option("--force", is_flag=True, help="Reload tables even if their files did not change.")
@click.pass_context
def load(ctx, data_dir, mapping, force):
    """Load every contract table found in DATA_DIR into the workspace."""
    with _workspace(ctx) as ws:
        report = ws.load(data_dir, mapping=mapping, force=force, progress=log.emit)
    click.echo(report.format())


@cli.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--write", "write_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proposals as a mapping file (TOML) for --mapping.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="An existing mapping file to start from.")
def headers(data_dir, write_to, mapping):
    """Propose a column for each header a load cannot place.

    Every header in DATA_DIR that the load cannot place gets a proposed column, from its name
    and the shape of its values, with a confidence; --write makes it a mapping file."""
    from fundwatch.load.header_file import write_mapping
    from fundwatch.load.header_guess import propose_headers
    from fundwatch.load.headers import read_mapping

    if write_to is not None and write_to.suffix != ".toml":
        raise click.BadParameter(f"{write_to}: the mapping is written as TOML; name it *.toml", param_hint="--write")
    user = read_mapping(mapping)
    proposals = propose_headers(data_dir, user)
    if proposals.empty:
        click.echo(f"Every header in {data_dir} is placed: nothing to propose.")
    else:
        shown = proposals.assign(file=proposals["file"].map(lambda f: Path(f).name), header=proposals["header"].fillna("-"))
        with pd.option_context("display.width", 250, "display.max_colwidth", 120, "display.max_rows", None):
            click.echo(shown[["file", "header", "column", "confidence", "action", "reason"]].to_string(index=False))
    if write_to is not None:
        write_mapping(write_to, proposals, str(data_dir), user)
        click.echo(f"Wrote {write_to}: check it, then: fundwatch load {data_dir} --mapping {write_to}")


def _folder(path, hint: str):
    """`path` if it is a folder; the one message for a missing one (load DATA_DIR, scan --data)."""
    if not Path(path).is_dir():
        raise click.BadParameter(f"folder {str(path)!r} does not exist", param_hint=hint)
    return path


def _year(ctx, param, value):
    """A --year option checked before anything runs: a year no date can hold is bad input (exit 2)."""
    from fundwatch.years import check_year

    if value is None:
        return None
    try:
        return check_year(value)
    except FundwatchError as e:
        raise click.BadParameter(str(e)) from e


def _spark_conf(ctx, param, values) -> dict[str, str]:
    """--spark-conf KEY=VALUE options as a dict, as spark-submit's --conf takes them."""
    conf = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r}: expected KEY=VALUE, e.g. spark.driver.memory=16g")
        conf[key.strip()] = setting.strip()
    return conf


@cli.command()
@click.option("--year", type=int, required=True, callback=_year, help="The year to scan.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=str),
              help="Load this folder first and scan exactly its tables (with --engine spark: any path Spark reads).")
@click.option("--out", "outdir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
              show_default=True, help="Folder for cases.csv, rule_hits.csv, coverage.csv, coverage_rates.csv, "
                                      "cases.xlsx, report.html and run.json.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="Extra header aliases (TOML or YAML).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="County configuration [default: ./fundwatch.toml if present].")
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False), help="Rules folder.")
@click.option("--rule", "rule_ids", multiple=True, help="Run only this rule (repeatable).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the summaries, cases.xlsx and report.html.")
@click.option("--unmask", is_flag=True, help="Write full person IDs and accounts (recorded in run.json).")
@click.option("--top", type=int, default=15, show_default=True, help="Cases to print.")
@click.option("--fail-on", type=click.Choice(LEVELS), help="Exit 1 if a case at this level or above is found.")
@click.option("--no-outliers", is_flag=True, help="Skip the statistical outlier detector.")
@click.option("--allow-rule-errors", is_flag=True,
              help=f"Exit 0 although a rule failed or a rule file is broken [default: exit {RULES_FAILED}].")
@click.option("--engine", "engine_name", type=click.Choice(ENGINE_NAMES), default="duckdb", show_default=True,
              help="Where the rules and outlier features run; spark reads --data into Spark (docs/spark.md).")
@click.option("--spark-master", help="Spark master URL (local[4], yarn, spark://host:7077); default: spark-submit's.")
@click.option("--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE", callback=_spark_conf,
              help="A Spark setting for the session fundwatch starts, e.g. spark.driver.memory=16g (repeatable).")
@click.option("--rescan", is_flag=True,
              help="Scan even if nothing the year reads changed since its stored run (which is reused otherwise).")
@click.pass_context
def scan(ctx, year, data_dir, outdir, mapping, config_path, rules_dir, rule_ids, lang, unmask, top, fail_on,
         no_outliers, allow_rule_errors, engine_name, spark_master, spark_conf, rescan):
    """Run the rules for YEAR and write the ranked case list."""
    from fundwatch.config import load_config
    from fundwatch.report.outputs import case_table, write_outputs
    from fundwatch.rules import load_rules

    config = load_config(config_path, rules_dir)  # profiles: the rules folder in use
    ruleset = load_rules(rules_dir)
    for err in ruleset.errors:
        log.emit(f"broken rule file, not run: {err}", level="warning", event="rule_error")
    unknown = [r for r in rule_ids if r not in ruleset.rules]
    if unknown:
        raise FundwatchError(f"unknown rule id(s): {', '.join(unknown)} (see `fundwatch rules list`)")
    if engine_name == "spark":
        result = _spark_scan(ctx, year, data_dir, mapping, config, ruleset, list(rule_ids) or None, not no_outliers,
                             spark_master, spark_conf)
    else:
        if data_dir is not None:
            _folder(data_dir, "'--data'")
        with _workspace(ctx) as ws:
            result = ws.scan(year, data=data_dir, mapping=mapping, config=config, rules=ruleset,
                             rule_ids=list(rule_ids) or None, outliers=not no_outliers, progress=log.emit,
                             on_load=_emit_load_report, rescan=rescan)
    paths = write_outputs(result, outdir, lang=lang, unmask=unmask)
    _print_outcomes(result)
    _print_findings(result)
    table = case_table(result, lang, unmask=False, top=top)
    click.echo(f"\n{len(result.cases)} cases for {year} (run {result.run_id}); top {len(table)}:")
    if not table.empty:
        from fundwatch.report.terminal import case_lines

        show = table[["rank", "case_id", "program", "entity_id", "risk_score", "amount_at_risk", "rule_ids", "summary"]]
        click.echo("\n".join(case_lines(show)))  # fits the terminal; the full summaries are in the files
    from fundwatch.report.terminal import coverage_lines

    click.echo("\n".join(coverage_lines(result)))  # who should be paid and is not: outreach, not cases
    click.echo(f"\nwrote {', '.join(str(p) for p in paths.values())}")
    failed = _failed_rules(result, ruleset)
    if failed and not allow_rule_errors:
        # Before --fail-on: a nightly job must see that the case list is incomplete.
        log.emit(f"{len(failed)} rule(s) failed, their findings are missing: {'; '.join(failed)} "
                 f"(exit {RULES_FAILED}; --allow-rule-errors exits 0)", level="error", event="rules_failed")
        ctx.exit(RULES_FAILED)
    if fail_on and not result.cases.empty:
        threshold = LEVELS.index(fail_on)
        if any(lv in LEVELS and LEVELS.index(lv) >= threshold for lv in result.cases["level"]):
            ctx.exit(1)


def _failed_rules(result, ruleset) -> list[str]:
    """Each rule that raised while it ran, and each rule file that could not be loaded."""
    failed = [f"{o.rule_id} ({o.message})" for o in result.outcomes if o.status == "error"]
    return failed + [f"broken rule file {e}" for e in ruleset.errors]


def _spark_engine(master, conf=None):
    try:
        from fundwatch.engine.spark_engine import SparkEngine

        return SparkEngine.create(master, conf=conf)
    except ImportError as e:
        raise FundwatchError(f"--engine spark needs pyspark: pip install 'fundwatch[spark]' ({e})") from e


def _spark_scan(ctx, year, data_dir, mapping, config, ruleset, rule_ids, outliers, master, conf):
    """Read --data into Spark, run the scan there; cases, history and the run record stay in the workspace."""
    from fundwatch.scan import Scan, scan_settings
    from fundwatch.store import RunStore

    if data_dir is None:
        raise FundwatchError("--engine spark reads its tables from --data DIR (the workspace keeps runs and "
                             "reviews, not the data)")
    engine = _spark_engine(master, conf)
    from fundwatch.load.spark import load_into_spark

    with engine.memory_errors(" No case list was written."):
        loaded = load_into_spark(engine, data_dir, mapping=mapping, progress=log.emit)
        _emit_load_report(loaded.report)
        with _workspace(ctx) as ws, scan_settings(ws.con):
            scan = Scan(engine, RunStore(ws.con), config, ruleset, present=loaded.present,
                        inputs=loaded.inputs, case_key=ws.case_key, workspace=ws.path, engine_name=repr(engine))
            result = scan.run(year, rule_ids=rule_ids, outliers=outliers, progress=log.emit)
    result.load_report = loaded.report
    return result


def _emit_load_report(report) -> None:
    """The load report as soon as the load is done: before anything the scan says about the
    tables (a rule or feature set run again alone, say), and shown even if the scan fails.
    Through the log: masked, and one JSON record with --log-format json."""
    log.emit(report.format(), event="load_report")


def _print_findings(result) -> None:
    """A mis-tuned rule's finding once, and the likely county conventions with their config line."""
    for f in result.rule_findings:
        log.emit(f"  {f.rule_id}: {f.message}", event="rule_finding", level="warning", rule_id=f.rule_id)
    for c in result.conventions:
        log.emit(f"likely county convention: {c.why}; set {c.config_line}", event="convention", level="warning",
                 rule_id=c.rule_id)


def _print_outcomes(result) -> None:
    counts = {}
    for o in result.outcomes:
        counts[o.state] = counts.get(o.state, 0) + 1
    log.emit("rules: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())), event="rules_summary",
             **{s.replace(" ", "_"): n for s, n in counts.items()})
    from fundwatch.report.terminal import outcome_lines

    # What every rule did: its hits, or why it has none (one line or two per programme).
    log.emit("\n".join(outcome_lines(result.outcomes)), event="rule_outcomes")
    for o in result.outcomes:
        if o.needs_attention:
            log.emit(f"  {o.rule_id}: {o.describe()}", event="rule_outcome", level="warning", rule_id=o.rule_id,
                     status=o.status)
    ran = [o for o in result.outcomes if o.status in ("found", "clean")]
    if ran and all(o.nothing_to_check for o in ran):
        log.emit(f"nothing was checked for {result.year}: the tables scanned hold no records of that year "
                 "(0 cases is not a clean result)", level="warning", event="nothing_checked")


@cli.command(short_help="Generate a synthetic county with planted cases.")
@click.option("--out", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the county's tables (one CSV or Parquet file each) and ground_truth.csv.")
@click.option("--scale", type=float, default=1.0, show_default=True, help="1 = a county; 100 = a province.")
@click.option("--seed", type=int, default=7, show_default=True, help="The same seed writes the same county.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="File format of the tables.")
@click.option("--no-messy", is_flag=True, help="Do not write the messy loader-exercise variant in OUT/messy.")
def sample(outdir, scale, seed, fmt, no_messy):
    """Generate a synthetic county (2022-2024) with planted cases and its ground truth."""
    from fundwatch_sample import generate_messy, generate_world

    counts = generate_world(outdir, scale=scale, seed=seed, fmt=fmt)
    if not no_messy:
        generate_messy(outdir / "messy", seed=seed)
    click.echo(f"wrote {sum(counts.values()):,} rows in {len(counts)} tables to {outdir}")


@cli.group()
def rules():
    """List, show and test the rules."""


def _rulebook(ctx, rules_dir, *, workspace: bool = True):
    """The rule book; `workspace=False` for commands that need no loaded data (no file is created)."""
    from fundwatch.rules.book import RuleBook
    from fundwatch.workspace import Workspace

    ws = _workspace(ctx) if workspace else Workspace(":memory:")
    return ws, RuleBook(ws, rules_dir)


@rules.command("list", short_help="Every rule, with its inputs present or missing.")
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False),
              help="Rules folder [default: the rules installed with fundwatch].")
@click.pass_context
def rules_list(ctx, rules_dir):
    """Every rule with its inputs present or missing in the workspace."""
    ws, book = _rulebook(ctx, rules_dir)
    with ws:
        frame = book.list()
    frame["inputs"] = ["ok" if ok else "missing " + m for ok, m in zip(frame["inputs_present"], frame["missing_inputs"],
                                                                     strict=True)]
    from fundwatch.rules.engines import support_table

    support = support_table(book.ruleset)
    for name in ENGINE_NAMES:  # whether the rule runs on each engine, and why not
        frame[name] = [support.get(rid, {}).get(name, "") for rid in frame["id"]]
    show = frame[["id", "level", "status", "entity_type", "inputs", *ENGINE_NAMES, "title"]]
    click.echo(show.to_string(index=False) if not show.empty else "no rules")
    for err in book.errors:
        click.echo(f"BROKEN {err}", err=True)


@rules.command("show")
@click.argument("rule_id")
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False),
              help="Rules folder [default: the rules installed with fundwatch].")
@click.pass_context
def rules_show(ctx, rule_id, rules_dir):
    """Print one rule file."""
    ws, book = _rulebook(ctx, rules_dir, workspace=False)
    with ws:
        click.echo(book.show(rule_id))


@rules.command("catalogue", short_help="The rule catalogue (docs/rule-catalogue.md), from the rule files.")
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False),
              help="Rules folder [default: the rules installed with fundwatch].")
@click.option("--template", type=click.Path(exists=True, dir_okay=False),
              help="Prose around the rules [default: docs/rule-catalogue.template.md of the checkout].")
@click.option("--write", "write_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the document to FILE instead of printing it.")
def rules_catalogue(rules_dir, template, write_to):
    """Print (or write) the rule catalogue generated from the rule files."""
    from fundwatch.rules.catalogue_doc import catalogue_markdown

    text = catalogue_markdown(rules_dir, template)
    if write_to:
        write_to.write_text(text, encoding="utf-8")
        click.echo(f"wrote {write_to}")
    else:
        click.echo(text, nl=False)


@rules.command("test", short_help="Run the embedded tests of the rules.")
@click.argument("rule_ids", nargs=-1)
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False),
              help="Rules folder [default: the rules installed with fundwatch].")
@click.option("--engine", "engine_name", type=click.Choice(ENGINE_NAMES), default="duckdb", show_default=True,
              help="Where the tests run.")
@click.option("--spark-master", help="Spark master URL [default: local[2]].")
@click.option("--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE", callback=_spark_conf,
              help="A Spark setting for the session fundwatch starts (repeatable).")
@click.pass_context
def rules_test(ctx, rule_ids, rules_dir, engine_name, spark_master, spark_conf):
    """Run the embedded tests of every rule (or the named ones) in a fresh in-memory DuckDB, or on Spark."""
    ws, book = _rulebook(ctx, rules_dir, workspace=False)
    with ws:
        if engine_name == "spark":
            from fundwatch.rules.book import tests_frame
            from fundwatch.rules.testing import run_rule_tests

            unknown = [i for i in rule_ids if i not in book.ruleset.rules]
            if unknown:
                raise FundwatchError(f"unknown rule id(s): {', '.join(unknown)} (see `fundwatch rules list`)")
            found = run_rule_tests(book.ruleset, list(rule_ids) or None, _spark_engine(spark_master or "local[2]", spark_conf))
            skipped = {(r.rule_id, r.test) for r in found if r.not_run and r.passed}
            results = tests_frame(found)
        else:
            results, skipped = book.test(list(rule_ids) or None), set()
    for r in results.itertuples():
        word = "SKIP" if (r.rule_id, r.test) in skipped else "PASS" if r.passed else "FAIL"
        click.echo(f"{word} {r.rule_id} :: {r.test}" + (f" — {r.message}" if r.message else ""))
    failed = int((~results["passed"]).sum())
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        ctx.exit(1)


@cli.command()
@click.option("--year", type=int, callback=_year, help="Only runs of this year.")
@click.option("--limit", type=int, default=20, show_default=True, help="Runs to list.")
@click.pass_context
def runs(ctx, year, limit):
    """List the scans recorded in the workspace, newest first."""
    from fundwatch.store import RunStore

    with _workspace(ctx) as ws:
        frame = RunStore(ws.con).runs(year, limit)
    click.echo(frame.to_string(index=False) if not frame.empty else "no runs yet: try `fundwatch scan --year 2023`")


@cli.command()
@click.option("--run", "run_id", help="A run id [default: the latest run].")
@click.option("--year", type=int, callback=_year, help="The latest run of this year.")
@click.option("--status", type=click.Choice(["new", "recurring", "resolved"]),
              help="Only cases new in this run, recurring from the previous one, or resolved since.")
@click.option("--program", type=click.Choice(["dibao", "subsidy", "housing", "cooperative", "cross"]),
              help="Only cases of this programme.")
@click.option("--top", type=int, default=20, show_default=True, help="Cases to print, best ranked first.")
@click.option("--unmask", is_flag=True, help="Show full person IDs.")
@click.pass_context
def cases(ctx, run_id, year, status, program, top, unmask):
    """Print the cases of a run."""
    from fundwatch.report.mask import mask_frame
    from fundwatch.report.terminal import case_lines
    from fundwatch.store import RunStore

    with _workspace(ctx) as ws:
        store = RunStore(ws.con)
        if run_id is None:
            run_id = store.latest_run(year)
            if run_id is None:
                raise FundwatchError("no runs yet: run `fundwatch scan --year YEAR` first")
        frame = store.case_rows(run_id, status, program, top)
        # What the values a summary quotes are: its hits' evidence (a credit code stays readable).
        evidence = store.hit_evidence(run_id)
    click.echo(f"run {run_id}")
    if frame.empty:
        click.echo("no cases")
        return
    if not unmask:
        frame = mask_frame(frame, evidence=frame["case_id"].map(evidence))
    click.echo("\n".join(case_lines(frame.drop(columns="entity_type"))))


@cli.command(short_help="Record an analyst's decision on a case.")
@click.argument("case_id")
@click.option("--status", type=click.Choice(["in_progress", "confirmed", "cleared"]), required=True,
              help="The review's state: under way, abuse confirmed, or cleared (no abuse).")
@click.option("--note", default="", help="What was found.")
@click.option("--recovered", type=click.FloatRange(min=0), help="Money recovered, in yuan.")
@click.option("--author", envvar=["FUNDWATCH_AUTHOR", "USER"], default="unknown", show_default=True,
              help="Who reviewed [default: $FUNDWATCH_AUTHOR or $USER].")
@click.pass_context
def review(ctx, case_id, status, note, recovered, author):
    """Record an analyst's decision on a case; it survives every later run.

    With a review workbench database (fundwatch serve), the decision goes through its loop."""
    from fundwatch.cases.history import record_review

    url = _review_db(ctx)
    if url:
        from fundwatch.review.cli import cli_review

        click.echo(cli_review(url, _workspace_path(ctx), case_id, status, note, recovered, author))
        return
    with _workspace(ctx) as ws:
        row = record_review(ws.con, case_id, status, note, recovered, author)
    click.echo(f"{case_id}: {status} by {row['author']} at {row['reviewed_at']:%Y-%m-%d %H:%M}")


@cli.command(short_help="List open outreach tasks (应享未享), or record one's state.")
@click.argument("outreach_id", required=False)
@click.option("--status", type=click.Choice(["reached", "enrolled", "not_eligible", "refused"]),
              help="Record this state on OUTREACH_ID: contacted (已联系), enrolled (已纳入), not eligible after "
                   "the visit (核实不符合), refused (本人放弃).")
@click.option("--note", default="", help="What the outreach found.")
@click.option("--author", envvar=["FUNDWATCH_AUTHOR", "USER"], default="unknown", show_default=True,
              help="Who recorded it [default: $FUNDWATCH_AUTHOR or $USER].")
@click.option("--township", help="Only this township's open tasks (9-digit code).")
@click.option("--year", type=int, callback=_year, help="Only the latest run of this year.")
@click.option("--top", type=int, default=20, show_default=True, help="Tasks to print, most months missed first.")
@click.option("--unmask", is_flag=True, help="Show full person IDs.")
@click.pass_context
def outreach(ctx, outreach_id, status, note, author, township, year, top, unmask):
    """Without OUTREACH_ID: the open outreach tasks of the coverage list (no state yet, or reached).
    With OUTREACH_ID and --status: record its state; it survives every later scan."""
    from fundwatch.coverage.outreach import open_tasks, record_outreach

    if outreach_id is not None:
        if status is None:
            raise click.UsageError("recording a state needs --status")
        with _workspace(ctx) as ws:
            row = record_outreach(ws.con, outreach_id, status, note, author)
        click.echo(f"{outreach_id}: {status} by {row['author']} at {row['recorded_at']:%Y-%m-%d %H:%M}")
        return
    from fundwatch.report.mask import mask_frame
    from fundwatch.report.terminal import case_lines

    with _workspace(ctx) as ws:
        frame = open_tasks(ws.con, township, year)
    if frame.empty:
        click.echo("no open outreach tasks")
        return
    click.echo(f"{len(frame)} open outreach task(s); top {min(top, len(frame))}:")
    frame = frame.head(top)
    if not unmask:
        frame = mask_frame(frame)
    show = frame[["rank", "outreach_id", "township", "rule_id", "entity_id", "months_missed", "amount_owed",
                  "outreach_status", "summary"]]
    click.echo("\n".join(case_lines(show)))


@cli.command(short_help="Per rule: cases, reviews, precision, recovered.")
@click.pass_context
def stats(ctx):
    """Per rule: cases, reviews, confirmed and cleared (the rule's measured precision), money recovered."""
    from fundwatch.cases.history import rule_stats

    with _workspace(ctx) as ws:
        frame = rule_stats(ws.con)
    url = _review_db(ctx)
    if url:
        from fundwatch.review.feedback import rule_stats as workbench_stats

        frame = workbench_stats(url, frame)
    click.echo(frame.to_string(index=False) if not frame.empty else "no cases yet")


def _workspace_path(ctx) -> str:
    from fundwatch.workspace import resolve_path

    return resolve_path(ctx.obj["workspace"])


def _review_db(ctx) -> str | None:
    from fundwatch.review.db import configured_url

    return configured_url(_workspace_path(ctx))


@cli.group("audit")
def audit_group():
    """The review workbench's audit trail (append-only, hash-chained)."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx):
    """Check the chain; exit 1 naming the first broken entry."""
    from fundwatch.review import db, verify_chain

    url = _review_db(ctx)
    if not url:
        raise FundwatchError("no review database: set FUNDWATCH_REVIEW_DB or run `fundwatch serve` first")
    con = db.connect(url)
    try:
        verdict = verify_chain(con)
    finally:
        con.close()
    click.echo(verdict.format())
    ctx.exit(0 if verdict.ok else 1)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 only behind the county's reverse proxy.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port to listen on.")
@click.option("--demo", is_flag=True, help="Scan the sample county into a fresh folder and add three demo users.")
@click.option("--threads", type=int, default=8, show_default=True, help="Worker threads serving requests.")
@click.option("--add-user", "add_users", multiple=True, metavar="NAME:ROLE[:TOWNSHIP]",
              help="Create a user (county_admin, county_reviewer, township_verifier, leader), print a first "
                   "password, and exit.")
@click.pass_context
def serve(ctx, host, port, demo, threads, add_users):
    """Serve the case-review workbench in a browser.

    Needs the web extra: pip install 'fundwatch[web]'."""
    try:
        from fundwatch.web.server import add_users as create_users
        from fundwatch.web.server import serve as run_server
    except ImportError as e:
        raise FundwatchError(f"the workbench needs its extra: pip install 'fundwatch[web]' ({e})") from e
    if add_users:
        for line in create_users(_workspace_path(ctx), add_users):
            click.echo(line)
        return
    run_server(_workspace_path(ctx), host=host, port=port, demo=demo, threads=threads)


@cli.command(short_help="Backtest the case list against known cases.")
@click.option("--truth", type=click.Path(exists=True, dir_okay=False), required=True,
              help="CSV of known cases: kind, entity_id, year[, rule_id].")
@click.option("--year", type=int, callback=_year, help="Only this year [default: every year in the truth file].")
@click.option("--k", type=int, help="Precision among the top k cases [default: the number of known anomalies].")
@click.option("--run", "run_id", help="Evaluate this run [default: the latest run of each year].")
@click.pass_context
def evaluate(ctx, truth, year, k, run_id):
    """Backtest: precision among the top k, recall, and per-rule figures against known cases."""
    from fundwatch.cases.evaluate import evaluate as run_evaluate
    from fundwatch.cases.evaluate import read_truth

    with _workspace(ctx) as ws:
        result = run_evaluate(ws.con, read_truth(truth), year=year, k=k, run_id=run_id)
    with pd.option_context("display.width", 200):
        click.echo(result.format())


@cli.command(short_help="Print the data contract (tables, columns, kinds).")
def contract():
    """Print the data contract as fundwatch implements it (tables, columns, kinds, aliases)."""
    from fundwatch.contract.docs import contract_markdown

    click.echo(contract_markdown().rstrip("\n"))  # what docs/data-contract.md holds, byte for byte


@cli.command("calibrate")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The county's export folder.")
@click.option("--year", type=int, required=True, help="The year to calibrate for.")
@click.option("--write", "write_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proposals as a fundwatch.toml here [default: print them only].")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), help="Extra header aliases (TOML or YAML).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="The configuration to start from; the written file extends it.")
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False), help="Rules folder.")
@click.option("--county", help="Region code the configuration is resolved for [default: the data's county].")
def calibrate_command(data_dir, year, write_path, mapping, config_path, rules_dir, county):
    """Propose a county's fundwatch.toml from its data.

    Each proposal comes with the evidence it was read from."""
    from fundwatch.calibrate.run import calibrate
    from fundwatch.calibrate.writer import write_toml
    from fundwatch.config import load_config
    from fundwatch.rules import load_rules
    from fundwatch.workspace import Workspace

    ruleset = load_rules(rules_dir)
    config = load_config(config_path, rules_dir) if config_path else None
    with Workspace() as ws:  # in memory: calibration leaves the analyst's workspace alone
        _emit_load_report(ws.load(data_dir, mapping=mapping, progress=log.emit))
        result = calibrate(ws, year, config=config, ruleset=ruleset, county=county, data=str(data_dir))
    click.echo(result.format())
    if write_path is not None:
        write_toml(result, write_path, base=config_path)
        load_config(write_path, rules_dir).validate_against(ruleset)  # what was written must load
        click.echo(f"\nwrote {write_path}: {len(result.changed)} value(s); scan with --config {write_path}")


@cli.group("config")
def config_group():
    """Show the county configuration in force.

    fundwatch.toml and the files it extends, layered by province, county and year."""


@config_group.command("show")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="County configuration [default: ./fundwatch.toml if present].")
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False), help="Rules folder.")
@click.option("--year", type=int, help="Resolve the year sections of this year.")
@click.option("--county", help="Resolve the county sections matching this region code.")
@click.option("--rule", "rule_ids", multiple=True, help="Only this rule (repeatable).")
def config_show(config_path, rules_dir, year, county, rule_ids):
    """Print every rule parameter's value and where it comes from."""
    from fundwatch.config import load_config
    from fundwatch.rules import load_rules

    ruleset = load_rules(rules_dir)
    config = load_config(config_path, rules_dir)
    config.validate_against(ruleset)
    config = config.resolve(year=year, county=county)
    unknown = [r for r in rule_ids if r not in ruleset.rules]
    if unknown:
        raise FundwatchError(f"unknown rule id(s): {', '.join(unknown)} (see `fundwatch rules list`)")
    click.echo(f"files (lowest first): {', '.join(config.files) or 'none, rule defaults only'}")
    click.echo(f"for year {year if year is not None else '(any)'}, county {county or '(any)'}")
    for rule in ruleset.select(list(rule_ids) or None):
        if rule.params:
            click.echo(f"\n{rule.id}")
            click.echo("\n".join(s.format() for s in config.explain(rule)))


def main(argv=None) -> int:
    # Workspaces, their write-ahead logs, spill files and outputs hold personal data.
    os.umask(0o077)
    try:
        # Without standalone mode, click returns ctx.exit()'s code instead of raising.
        code = cli.main(args=argv, standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.NoSuchOption as e:
        e.show()
        globals_ = {o for param in cli.params for o in param.opts}
        if e.option_name in globals_:  # `fundwatch scan --memory-limit 2GB`: an easy slip
            click.echo(f"Hint: {e.option_name} is an option of fundwatch itself; put it before the command, "
                       f"e.g. fundwatch {e.option_name} ... {e.ctx.info_name if e.ctx else ''} ...", err=True)
        return 2
    except click.ClickException as e:
        e.show()
        return 2
    except click.exceptions.Abort:
        return 2
    except FundwatchError as e:
        log.emit(f"error: {e}", level="error", event="error")
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except duckdb.OutOfMemoryException as e:
        from fundwatch.engine.duckdb_engine import out_of_memory_message

        log.emit(f"error: {out_of_memory_message(e)} No case list was written.", level="error", event="out_of_memory")
        return 4
    except Exception:
        log.emit("internal error (please report it):\n" + traceback.format_exc(), level="error", event="crash")
        return 3


if __name__ == "__main__":
    sys.exit(main())
