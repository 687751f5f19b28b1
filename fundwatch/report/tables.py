"""The case and hit tables every export shows, and the totals cases.xlsx and report.html
share: per program, level, township and rule, rule outcomes and the trend across years.

No drawing and no file writing here: charts.py draws these tables, xlsx.py and html.py lay
them out, outputs.py writes cases.csv and rule_hits.csv from them.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from fundwatch.contract.outputs import CASES, HITS
from fundwatch.report import i18n
from fundwatch.report.mask import mask_frame
from fundwatch.rules.runner import ran_on_nothing

LEVELS = ("critical", "high", "medium", "low", "statistical")
HISTORY_COLUMNS = ["year", "program", "cases", "amount_at_risk"]

# Declared once with the tables they export (fundwatch/contract/outputs.py); a hit's summary is
# the scan language's.
CASES_CSV = CASES.csv_columns
HITS_CSV = [*HITS.csv_columns, "summary"]


STATISTICAL = "statistical"  # the level of a case no rule fired on: only the outlier detector flagged it


def case_levels(levels: pd.Series) -> pd.Series:
    """Case levels with a purely statistical case's blank level named `statistical`."""
    return levels.fillna("").astype(str).replace("", STATISTICAL)


def _hit_evidence(result, case_ids) -> pd.Series:
    """case_id -> the evidence JSONs of its hits: what the values its summary quotes are."""
    hits = result.hits
    if hits is None or hits.empty or "case_id" not in hits or "evidence" not in hits:
        return pd.Series(dtype=object)
    wanted = hits[hits["case_id"].isin(set(case_ids))]
    return wanted.groupby("case_id", sort=False)["evidence"].agg(list)


def case_table(result, lang: str = "en", unmask: bool = False, top: int | None = None):
    """The cases as cases.csv has them; `top`: the first `top` only (masked alone, not all)."""
    cases = (result.cases if top is None else result.cases.head(top)).copy()
    if lang == "zh":
        cases["summary"] = cases["summary_zh"]
    cases = cases[CASES_CSV]
    cases["level"] = case_levels(cases["level"])
    if unmask:
        return cases
    evidence = cases["case_id"].map(_hit_evidence(result, cases["case_id"]))
    return mask_frame(cases, evidence=evidence)


def hit_table(result, lang: str = "en", unmask: bool = False):
    hits = result.hits.copy()
    hits["summary"] = hits["summary_zh" if lang == "zh" else "summary_en"] if not hits.empty else []
    hits = hits.reindex(columns=HITS_CSV)
    return hits if unmask else mask_frame(hits)


# Not personal data, but digit runs that mask_frame would read as bank accounts: a 12-digit
# region code, a case_id whose hash happens to be all digits. Shown as they are.
NOT_PERSONAL = ("case_id", "region_code")


def export_tables(
    result, lang: str, unmask: bool, tables: tuple[pd.DataFrame, pd.DataFrame] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cases best first, hits) with the columns of cases.csv and rule_hits.csv, summaries in
    `lang`, IDs masked unless `unmask`. Columns the cases lack (region_code, say) are empty.

    `tables` is (case_table, hit_table) of this result for the same `lang` and `unmask`, when
    the caller has them already: masking every text cell is the costly part."""
    raw = result.cases
    absent = [c for c in [*CASES_CSV, "summary_zh"] if c not in raw.columns]
    if absent:
        raw = raw.assign(**{c: None for c in absent})
        result = dataclasses.replace(result, cases=raw)
    if tables is not None:
        cases, hits = (t.copy() for t in tables)  # shallow under copy-on-write; written to below
    else:
        cases = case_table(result, lang, unmask)
        hits = hit_table(result, lang, unmask)
    if not unmask:
        for col in NOT_PERSONAL:
            cases[col] = raw.loc[cases.index, col]
        if not hits.empty:
            hits["case_id"] = result.hits.loc[hits.index, "case_id"]
    return cases.sort_values("rank", kind="stable"), hits


# ---------------------------------------------------------------- the numbers


def _amounts(frame: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(frame["amount_at_risk"], errors="coerce").fillna(0.0).astype(float)


def _totals(cases: pd.DataFrame, key: pd.Series, name: str) -> pd.DataFrame:
    """Cases and amount at risk per value of `key` (aligned with `cases`)."""
    if cases.empty:
        return pd.DataFrame(
            {
                name: pd.Series(dtype=object),
                "cases": pd.Series(dtype=int),
                "amount_at_risk": pd.Series(dtype=float),
            }
        )
    frame = pd.DataFrame({name: key.to_numpy(), "amount_at_risk": _amounts(cases).to_numpy()})
    out = frame.groupby(name, sort=False).agg(cases=(name, "size"), amount_at_risk=("amount_at_risk", "sum"))
    return out.reset_index()


def ordered(values, first) -> list:
    """`first` in its order, then every other value sorted."""
    values = list(dict.fromkeys(values))
    return [v for v in first if v in values] + sorted(v for v in values if v not in first)


def programs_present(cases: pd.DataFrame) -> list[str]:
    """The programs of the cases, in the contract's order (unknown ones last)."""
    if cases.empty:
        return []
    return ordered(cases["program"].fillna("").astype(str), i18n.PROGRAM_ORDER)


def program_totals(cases: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """program, cases, amount_at_risk: one row per program present, in the contract's order.

    With `lang`, programs are named in that language instead of by their code.
    """
    out = _totals(cases, cases["program"].fillna("").astype(str), "program")
    order = programs_present(cases)
    if order:
        out = out.set_index("program").loc[order].reset_index()
    if lang:
        out["program"] = [i18n.program(p, lang) for p in out["program"]]
    return out


def level_totals(cases: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """level, cases, amount_at_risk, worst level first; `statistical`: a purely statistical case.

    With `lang`, levels are named in that language.
    """
    out = _totals(cases, case_levels(cases["level"]), "level")
    if not out.empty:
        out = out.set_index("level").loc[ordered(out["level"], LEVELS)].reset_index()
    if lang:
        out["level"] = [i18n.level(lv, lang) for lv in out["level"]]
    return out


def township_totals(cases: pd.DataFrame) -> pd.DataFrame | None:
    """township (first 9 digits of region_code), cases, amount_at_risk, by amount at risk.

    None when the cases carry no region code of township depth.
    """
    if cases.empty or "region_code" not in cases:
        return None
    codes = cases["region_code"].astype("string").str.strip()
    usable = codes.str.fullmatch(r"\d{9,}").fillna(False).astype(bool)
    if not usable.any():
        return None
    out = _totals(cases[usable], codes[usable].str[:9], "township")
    return out.sort_values(
        ["amount_at_risk", "cases", "township"], ascending=[False, False, True], ignore_index=True
    )


def rule_hit_counts(hits: pd.DataFrame) -> pd.DataFrame:
    """rule_id, level, hits: rule hit rows per rule, most first."""
    if hits.empty:
        return pd.DataFrame(
            {
                "rule_id": pd.Series(dtype=object),
                "level": pd.Series(dtype=object),
                "hits": pd.Series(dtype=int),
            }
        )
    out = hits.groupby("rule_id").agg(level=("level", "first"), hits=("rule_id", "size")).reset_index()
    return out.sort_values(["hits", "rule_id"], ascending=[False, True], ignore_index=True)


def outcome_table(run: dict, lang: str) -> pd.DataFrame:
    """One row per rule the run tried: rule_id, status, hits, share, mis_tuned, note (in `lang`)."""
    rows = []
    for rule_id, o in sorted((run.get("rules") or {}).items()):
        if o.get("status") == "skipped":
            note = f"{i18n.text('missing', lang)}: {', '.join(o.get('missing') or [])}"
        elif o.get("status") == "error":
            note = o.get("message") or ""
        elif ran_on_nothing(o.get("status"), o.get("population")):
            note = i18n.text("ran_on_nothing", lang)
        else:
            note = ""
        rows.append(
            {
                "rule_id": rule_id,
                "status": i18n.status(o.get("status", ""), lang),
                "hits": int(o.get("hits") or 0),
                "share": o.get("share"),
                "mis_tuned": i18n.text("yes", lang) if o.get("mis_tuned") else "",
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=["rule_id", "status", "hits", "share", "mis_tuned", "note"])


def share_text(share) -> str:
    """A share of entities as a person reads it: 18%, 0.4%, <0.1% (never "0%" for a rule that
    found something); empty where unknown."""
    if not isinstance(share, int | float) or share != share:
        return ""
    if share == 0:
        return "0%"
    if share < 0.001:
        return "<0.1%"
    return f"{share:.1%}" if share < 0.1 else f"{share:.0%}"


def outcome_counts(run: dict) -> dict[str, int]:
    """How many rules were found / clean / skipped (could not run) / error, mis_tuned and ran_on_nothing."""
    rules = (run.get("rules") or {}).values()
    counts = {
        s: sum(1 for o in rules if o.get("status") == s) for s in ("found", "clean", "skipped", "error")
    }
    counts["mis_tuned"] = sum(1 for o in rules if o.get("mis_tuned"))
    counts["ran_on_nothing"] = sum(1 for o in rules if ran_on_nothing(o.get("status"), o.get("population")))
    return counts


def history_frame(history: pd.DataFrame | None, year: int, cases: pd.DataFrame) -> pd.DataFrame:
    """year, program, cases, amount_at_risk across years, with this scan's year added if `history` lacks it."""
    if history is None:
        history = pd.DataFrame(columns=HISTORY_COLUMNS)
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(
            f"history lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, history.columns))}"
        )
    out = history[HISTORY_COLUMNS].copy()
    out["year"] = pd.to_numeric(out["year"], errors="raise").astype(int)
    if year not in set(out["year"]):
        now = program_totals(cases)
        now.insert(0, "year", year)
        out = pd.concat([out, now], ignore_index=True) if not out.empty else now
    out["cases"] = pd.to_numeric(out["cases"], errors="coerce").fillna(0).astype(int)
    out["amount_at_risk"] = _amounts(out)
    order = {p: i for i, p in enumerate(i18n.PROGRAM_ORDER)}
    out["_order"] = out["program"].map(order).fillna(len(order))
    return out.sort_values(["year", "_order", "program"], ignore_index=True).drop(columns="_order")


