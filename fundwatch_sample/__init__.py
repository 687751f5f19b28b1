"""The synthetic sample world: a county's disbursement records with planted cases.

generate_world() writes every contract table plus ground_truth.csv for a county in
2022-2024; generate_messy() writes a small directory of badly formatted exports that the
loaders must cope with. Both are deterministic for a given seed (and scale).
"""

from __future__ import annotations

from pathlib import Path

from fundwatch_sample.messy import generate_messy


def generate_world(out_dir, scale: float = 1.0, seed: int = 7, fmt: str = "csv") -> dict:
    """Write `<table>.csv` (or `.parquet`) for every contract table and `ground_truth.csv`.

    Returns the row count of each table written (and of the ground truth).
    """
    from fundwatch.contract import TABLES
    from fundwatch_sample import world, write

    if fmt not in ("csv", "parquet"):
        raise ValueError("fmt must be 'csv' or 'parquet'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w = world.build(world.World(seed, scale))
    cols = write.tables(w)
    counts = {}
    for name in TABLES:
        table = write.to_table(name, cols[name])
        write.write_table(table, out / f"{name}.{fmt}", fmt)
        counts[name] = table.num_rows
    counts["ground_truth"] = write.write_truth(w, out / "ground_truth.csv")
    return counts


__all__ = ["generate_world", "generate_messy"]
