"""What a load did, per table: what the CLI prints, the notebook shows and the workspace keeps."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from fundwatch.load.checks import backwards_spans
from fundwatch.report.mask import mask_frame, mask_text


@dataclass
class TableLoad:
    table: str
    status: str  # loaded | unchanged
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    blank: int = 0
    repeated_headers: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)
    # Loaded rows an analyst should know about, e.g. ("end_date before start_date", 3) (checks.py)
    warnings: list[tuple[str, int]] = field(default_factory=list)
    files_read: int = 0  # part files read in this load (the others were unchanged)


@dataclass
class LoadReport:
    load_id: str
    source: str
    tables: dict[str, TableLoad] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables.values())

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "table": t.table,
                    "status": t.status,
                    "files": len(t.files),
                    "rows_read": t.rows_read,
                    "loaded": t.rows_loaded,
                    "quarantined": t.rows_quarantined,
                    "blank": t.blank,
                    "repeated_headers": t.repeated_headers,
                    "top_reasons": ", ".join(f"{r} ({n})" for r, n in t.top_reasons),
                    "unknown_headers": ", ".join(t.unknown_headers),
                    "warnings": ", ".join(f"{w} ({n})" for w, n in t.warnings),
                }
                for t in self.tables.values()
            ]
        )

    def add_warnings(self, engine) -> None:
        """Count the loaded rows worth a warning in every table of the report (checks.py)."""
        for name, found in backwards_spans(engine, self.tables).items():
            self.tables[name].warnings = [found]

    def format(self) -> str:
        """The report as text for a terminal or a log: masked, since a header may be an ID
        (a file without its header row) and file names may name people."""
        return mask_text(self._format())

    def _format(self) -> str:
        frame = self.to_frame()
        # An unchanged table is not read again: its rows_read is 0 while the workspace holds its
        # rows, and the header says so rather than count them as loaded now.
        unchanged = [t for t in self.tables.values() if t.status == "unchanged"]
        counted = f"{self.rows_loaded:,} rows loaded"
        if unchanged:
            # an unchanged table's rows_read is its kept parts' (the figures of a full reload)
            rows_read = sum(t.rows_read for t in self.tables.values() if t.status != "unchanged")
            counted = (f"{self.rows_loaded:,} rows in the workspace ({len(unchanged)} of {len(self.tables)} tables "
                       f"unchanged since their last load and not read again; {rows_read:,} rows read now)")
        lines = [
            f"load {self.load_id} from {self.source}: {counted}, "
            f"{self.rows_quarantined:,} quarantined, {self.seconds:.1f}s"
        ]
        if not frame.empty:
            lines.append(frame.drop(columns=["unknown_headers", "warnings"]).to_string(index=False))
        for t in self.tables.values():
            if t.unknown_headers:
                lines.append(
                    f"  {t.table}: ignored unknown headers {', '.join(t.unknown_headers)} "
                    "(map them with --mapping if they matter)"
                )
            for what, n in t.warnings:
                lines.append(f"  {t.table}: {n:,} rows with {what}, loaded as they are (the rules give them no days)")
        if self.ignored:
            lines.append("  not contract tables, ignored: " + ", ".join(self.ignored))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(self.format().splitlines()[0])
        return f"<p><b>{head}</b></p>" + mask_frame(self.to_frame()).to_html(index=False)
