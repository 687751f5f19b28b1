"""The case list as the terminal shows it: one row per case that fits the terminal's width,
its summary on the lines below, wrapped, cut with an ellipsis after a few lines (the full
text is in cases.csv, cases.xlsx and report.html).
"""

from __future__ import annotations

import shutil
import unicodedata

import pandas as pd

FALLBACK_WIDTH = 100  # when the output is not a terminal (a pipe, a log file)
SUMMARY_LINES = 2
INDENT = "     "
ELLIPSIS = "…"
RIGHT = ("rank", "risk_score", "amount_at_risk", "signals", "months_missed", "amount_owed")
HEADERS = {"risk_score": "score", "amount_at_risk": "at risk", "rule_ids": "rules", "review_status": "review",
           "months_missed": "months", "amount_owed": "owed", "outreach_status": "outreach"}


def terminal_width() -> int:
    return shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns


def display_width(text: str) -> int:
    """Columns a text takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """The longest start of `text` within `width` columns."""
    used = 0
    for i, ch in enumerate(text):
        used += display_width(ch)
        if used > width:
            return text[:i]
    return text


def cut(text: str, width: int) -> str:
    """`text` within `width` columns, ending in an ellipsis if it was longer."""
    return text if display_width(text) <= width else _fit(text, width - 1) + ELLIPSIS


def wrap(text: str, width: int, lines: int = SUMMARY_LINES) -> list[str]:
    """`text` in at most `lines` lines of `width` columns, broken at spaces where it can
    (Chinese text has none: it breaks anywhere); the last line ends in an ellipsis if cut."""
    out, line = [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if display_width(candidate) <= width:
            line = candidate
            continue
        if line:
            out.append(line)
        while display_width(word) > width:  # a word (or a Chinese sentence) longer than a line
            head = _fit(word, width)
            out.append(head)
            word = word[len(head):]
        line = word
    if line:
        out.append(line)
    if len(out) <= lines:
        return out
    return [*out[: lines - 1], _fit(out[lines - 1], width - 1) + ELLIPSIS]


def _money(value) -> str:
    value = pd.to_numeric(value, errors="coerce")
    return "" if pd.isna(value) else f"{float(value):,.2f}"


def _cell(col: str, value) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if col in ("amount_at_risk", "amount_owed"):
        return _money(value)
    if col == "risk_score":
        return f"{float(value):.1f}"
    return str(value)


def case_lines(frame: pd.DataFrame, width: int | None = None, summary: str = "summary") -> list[str]:
    """The cases as lines no wider than `width` (default: the terminal's). Every column but
    `summary` on the case's line (the widest column cut with an ellipsis if they do not fit),
    the summary wrapped below it."""
    width = width or terminal_width()
    cols = [c for c in frame.columns if c != summary]
    cells = {c: [_cell(c, v) for v in frame[c]] for c in cols}
    heads = {c: HEADERS.get(c, c) for c in cols}
    widths = {c: max([display_width(heads[c]), *(display_width(v) for v in cells[c])]) for c in cols}
    while sum(widths.values()) + len(cols) - 1 > width and cols:
        widest = max(cols, key=lambda c: widths[c])
        widths[widest] -= sum(widths.values()) + len(cols) - 1 - width
        widths[widest] = max(widths[widest], 4)
        if all(w <= 4 for w in widths.values()):
            break

    def row(values: dict) -> str:
        parts = []
        for c in cols:
            text = cut(values[c], widths[c])
            pad = " " * (widths[c] - display_width(text))
            parts.append(pad + text if c in RIGHT else text + pad)
        return " ".join(parts).rstrip()

    lines = [row(heads)]
    for i in range(len(frame)):
        lines.append(row({c: cells[c][i] for c in cols}))
        if summary in frame.columns:
            text = _cell(summary, frame[summary].iloc[i])
            lines += [INDENT + part for part in wrap(text, width - len(INDENT))] if text else []
    return lines


def _outcome_word(outcome) -> str:
    """A rule's outcome in a word or two: its hits, or why it has none."""
    state = outcome.state
    if state == "found":
        return f"{outcome.hits:,}"
    return {"skipped": "could not run", "ran on nothing": "nothing to check"}.get(state, state)


def outcome_lines(outcomes, width: int | None = None) -> list[str]:
    """What every rule did, compactly: one group of lines per programme, each rule's short
    name and its hits (or clean, could not run, error, nothing to check), wrapped to `width`."""
    width = width or terminal_width()
    by_program: dict[str, list[str]] = {}
    for o in sorted(outcomes, key=lambda o: o.rule_id):
        program, _, name = o.rule_id.partition(".")
        by_program.setdefault(program, []).append(f"{name or program} {_outcome_word(o)}")
    lines = []
    pad = max((len(p) for p in by_program), default=0) + 3
    for program, items in by_program.items():
        line = f"  {program.ljust(pad - 2)}"
        for i, item in enumerate(items):  # a rule and its outcome are never split across lines
            text = item + (" ·" if i < len(items) - 1 else "")
            if len(line) > pad and display_width(f"{line} {text}") > width:
                lines.append(line)
                line = " " * pad + text
            else:
                line = f"{line} {text}" if len(line) > pad else line + text
        lines.append(line)
    return lines


def coverage_lines(result) -> list[str]:
    """What the coverage list found, after the case list: how many were missed per programme,
    the money owed, and the townships with the lowest coverage."""
    rows = getattr(result, "coverage", None)
    report = (result.run or {}).get("coverage") or {}
    if not report:
        return []
    if rows is None or rows.empty:
        return ["", "who should be paid and is not (应享未享): no one found (coverage.csv is empty)"]
    owed = pd.to_numeric(rows["amount_owed"], errors="coerce").fillna(0).sum()
    per_rule = " · ".join(f"{r.partition('.')[2] or r} {n:,}" for r, n in rows["rule_id"].value_counts().sort_index().items())
    width = terminal_width()
    lines = ["", *wrap(f"who should be paid and is not (应享未享): {len(rows):,} missed ({per_rule}), {owed:,.2f} "
                       "yuan owed; outreach, not cases: see coverage.csv", width, lines=8)]
    from fundwatch.coverage.rates import township_totals

    totals = township_totals(getattr(result, "coverage_rates", None))
    if not totals.empty:
        worst = totals[totals["township"] != ""].head(3)
        lines += wrap("  lowest coverage: " + ", ".join(
            f"{t} {r:.0%} ({m:,} of {e:,} missed)" for t, r, m, e in
            worst[["township", "coverage_rate", "missed", "eligible"]].itertuples(index=False)), width, lines=4)
    return lines
