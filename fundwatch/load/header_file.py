"""Write the proposals of `fundwatch headers` as a mapping file that `--mapping` reads.

Confident proposals are entries; unsure ones are the same entry commented out, with its
reason, so that removing one "# " applies it. Entries of an existing mapping file are kept,
so the written file is the only one the load needs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fundwatch.load.headers import UserMapping


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def mapping_toml(proposals: pd.DataFrame, data_dir: str, existing: UserMapping | None = None) -> str:
    lines = [
        f"# Header mapping proposed by `fundwatch headers {data_dir}`.",
        "# Check each line; a line starting with '# \"' is a proposal too unsure to apply:",
        "# remove its '# ' to apply it. Then: fundwatch load DATA_DIR --mapping THIS_FILE",
        "",
    ]
    existing = existing or {}
    sections = list(dict.fromkeys([*existing, *proposals["table"].tolist()]))
    for section in sections:
        lines.append(f"[{_q(section) if section == '*' else section}]")
        written: dict[str, str] = {}
        for header, column in existing.get(section, {}).items():
            lines.append(f"{_q(header)} = {_q(column)}  # from the mapping file given")
            written[header] = column
        rows = proposals[proposals["table"] == section]
        for file, group in rows.groupby("file", sort=False):
            lines.append(f"# {Path(file).name}")
            for r in group.itertuples(index=False):
                if r.action == "missing":
                    lines.append(f"# {r.column}: {_comment(r.reason)}")
                    continue
                if r.action == "unreadable":
                    lines.append(f"# unreadable: {_comment(r.reason)}")
                    continue
                if r.header in written:
                    if written[r.header] != r.column:
                        lines.append(f"# {_q(r.header)} = {_q(r.column)}  # not applied: this header is "
                                     f"{written[r.header]} above ({r.confidence:.2f}: {_comment(r.reason)})")
                    continue
                if r.action == "ignore":
                    lines.append(f"# {_q(r.header)}: ignored, {_comment(r.reason)}")
                    continue
                entry = f"{_q(r.header)} = {_q(r.column)}  # {r.confidence:.2f}: {_comment(r.reason)}"
                if r.action == "map":
                    lines.append(entry)
                    written[r.header] = r.column
                else:
                    lines.append(f"# {entry}")
        lines.append("")
    return "\n".join(lines)


def write_mapping(path: str | Path, proposals: pd.DataFrame, data_dir: str, existing: UserMapping | None = None) -> Path:
    path = Path(path)
    path.write_text(mapping_toml(proposals, data_dir, existing), encoding="utf-8")
    return path
