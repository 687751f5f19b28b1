"""`fundwatch serve --demo`: the sample county scanned into a fresh folder, and three demo users."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fundwatch import log

DEMO_USERS = [  # (name, role, township): a county reviewer and two townships of the sample county
    ("county", "county_reviewer", ""),
    ("town106", "township_verifier", "522631106"),
    ("town107", "township_verifier", "522631107"),
]
DEMO_PASSWORD = "fundwatch-demo"


def _sample_data() -> Path:
    here = Path(__file__).resolve().parents[2] / "sample_data"
    if here.is_dir():
        return here
    raise FileNotFoundError("the demo needs sample_data/ (run from a clone of fundwatch, or `fundwatch sample`)")


def prepare_demo() -> str:
    from fundwatch.cli import main

    folder = Path(tempfile.mkdtemp(prefix="fundwatch-demo-"))
    ws = folder / "demo.duckdb"
    log.emit(f"demo: scanning the sample county into {folder}", event="serve")
    code = main(["--workspace", str(ws), "scan", "--year", "2023", "--data", str(_sample_data()),
                 "--out", str(folder / "out"), "--no-outliers", "--top", "0"])
    if code not in (0, 5):
        raise RuntimeError(f"the demo scan failed (exit {code})")
    return str(ws)


def demo_users() -> list[str]:
    from fundwatch.web.users import add_user

    lines = []
    for name, role, township in DEMO_USERS:
        add_user(name, role, township, password=DEMO_PASSWORD, must_change=False)
        lines.append(f"demo user {name} ({role} {township}) password {DEMO_PASSWORD}")
    return lines
