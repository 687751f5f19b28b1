"""The proposed fundwatch.toml: each value that differs from the one in force, its evidence as
comments above it. The file loads with load_config (tests/test_calibrate.py checks it)."""

from __future__ import annotations

import os
from pathlib import Path

from fundwatch.calibrate.proposal import toml_value


def _comment(lines) -> list[str]:
    return [f"# {line}".rstrip() for line in lines]


def render_toml(calibration, path: str | Path, base: str | Path | None = None) -> str:
    path = Path(path)
    out = _comment([
        f"Proposed by `fundwatch calibrate` from {calibration.data} for {calibration.year}"
        + (f", county {calibration.county}" if calibration.county else "") + ".",
        "Only values that differ from the ones in force are written; the evidence is above each.",
        "Check each one before you scan with this file.",
    ])
    if base is not None:
        rel = os.path.relpath(Path(base).resolve(), path.resolve().parent)
        out += ["", f"extends = [{toml_value(Path(rel).as_posix())}]"]
    if calibration.firing:
        out += ["", *_comment(["Rules that fire on more than the mis-tuned share of their population here:"]),
                *_comment(f"  {f.format()}" for f in calibration.firing)]
    by_rule: dict[str, list] = {}
    for p in calibration.changed:
        by_rule.setdefault(p.rule_id, []).append(p)
    for rule_id, proposals in by_rule.items():
        out += ["", f'[params."{rule_id}"]']
        for p in proposals:
            out += _comment([p.why, *p.evidence])
            out.append(f"{p.param} = {toml_value(p.value)}  # in force before: {toml_value(p.current)}")
    return "\n".join(out) + "\n"


def write_toml(calibration, path: str | Path, base: str | Path | None = None) -> Path:
    path = Path(path)
    path.write_text(render_toml(calibration, path, base), encoding="utf-8")
    return path
