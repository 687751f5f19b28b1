"""Peer-relative features in portable SQL: peer median, robust scale and robust z-score.

Given a CTE `base` with one row per entity (key columns and raw feature values),
`relative()` returns CTEs that add, for every feature f:

    f_med   the median of f among the entity's peers (in f's own units)
    f_z     (f - median) / max(1.4826 * MAD, scale), on ln(1 + f) for log features
    f_peer  which peer group was used: "level|key value|key value"

The peer group is the narrowest level with at least `min_peer` entities that have a value;
an entity whose groups are all smaller (or whose key is NULL) falls back to the next wider
level, and gets f_med = f_z = NULL when even the widest level is too small. Only GROUP BY,
joins, median() and abs/ln/exp are used, so the same SQL runs on DuckDB and Spark.
"""

from __future__ import annotations

from fundwatch.detect.spec import Feature, PeerLevel

MAD_TO_SD = 1.4826  # MAD of a normal distribution x 1.4826 = its standard deviation


def value(f: Feature, alias: str = "b") -> str:
    """The value the peers are compared on (ln(1 + x) for log features; negatives have none)."""
    col = f"{alias}.{f.name}"
    return f"CASE WHEN {col} >= 0 THEN ln({col} + 1) END" if f.log else col


def feature_levels(f: Feature, levels: tuple[PeerLevel, ...]) -> list[int]:
    names = [lv.name for lv in levels]
    if f.levels is None:
        return list(range(len(levels)))
    unknown = [n for n in f.levels if n not in names]
    if unknown:
        raise ValueError(f"feature {f.name} names unknown peer level(s) {unknown}")
    return [names.index(n) for n in f.levels]


def _on(keys, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in keys)


def _join(kind: str, table: str, alias: str, keys) -> str:
    return (
        f"CROSS JOIN {table} {alias}" if not keys else f"LEFT JOIN {table} {alias} ON {_on(keys, 'b', alias)}"
    )


def _tag(level: PeerLevel) -> str:
    parts = [f"'{level.name}'"] + [f"coalesce(CAST(b.{k} AS VARCHAR), '')" for k in level.keys]
    return " || '|' || ".join(parts)


def relative(
    prefix: str, base: str, levels: tuple[PeerLevel, ...], features: tuple[Feature, ...], min_peer: int
) -> tuple[list[tuple[str, str]], str]:
    """(CTEs, name of the last CTE): `base`'s columns plus f_med, f_z, f_peer per feature."""
    min_peer = int(min_peer)
    uses = {f.name: feature_levels(f, levels) for f in features}
    ctes: list[tuple[str, str]] = []
    for i, lv in enumerate(levels):
        feats = [f for f in features if i in uses[f.name]]
        if not feats:
            continue
        keys = ", ".join(lv.keys)
        group = f" GROUP BY {keys}" if lv.keys else ""
        stats = ", ".join(f"count({value(f)}) AS {f.name}_n, median({value(f)}) AS {f.name}_m" for f in feats)
        ctes.append((f"{prefix}s{i}", f"SELECT {keys + ', ' if keys else ''}{stats} FROM {base} b{group}"))
        bkeys = ", ".join(f"b.{k}" for k in lv.keys)
        devs = ", ".join(f"median(abs({value(f)} - s.{f.name}_m)) AS {f.name}_d" for f in feats)
        join = f"JOIN {prefix}s{i} s ON {_on(lv.keys, 'b', 's')}" if lv.keys else f"CROSS JOIN {prefix}s{i} s"
        ctes.append(
            (
                f"{prefix}d{i}",
                f"SELECT {bkeys + ', ' if bkeys else ''}{devs} FROM {base} b {join}"
                f"{' GROUP BY ' + bkeys if bkeys else ''}",
            )
        )
    cols, joins = [], []
    used = sorted({i for idx in uses.values() for i in idx})
    for i in used:
        joins.append(_join("s", f"{prefix}s{i}", f"s{i}", levels[i].keys))
        joins.append(_join("d", f"{prefix}d{i}", f"d{i}", levels[i].keys))
    for f in features:
        ok = {i: f"s{i}.{f.name}_n >= {min_peer}" for i in uses[f.name]}
        med = " ".join(f"WHEN {ok[i]} THEN s{i}.{f.name}_m" for i in uses[f.name])
        mad = " ".join(f"WHEN {ok[i]} THEN d{i}.{f.name}_d" for i in uses[f.name])
        tag = " ".join(f"WHEN {ok[i]} THEN {_tag(levels[i])}" for i in uses[f.name])
        cols += [
            f"CASE {med} END AS {f.name}_mv",
            f"CASE {mad} END AS {f.name}_dv",
            f"CASE {tag} END AS {f.name}_peer",
        ]
    ctes.append((f"{prefix}p", f"SELECT b.*, {', '.join(cols)} FROM {base} b {' '.join(joins)}"))
    zcols = []
    for f in features:
        med = (
            f"CASE WHEN p.{f.name}_mv IS NULL THEN NULL ELSE exp(p.{f.name}_mv) - 1 END"
            if f.log
            else f"p.{f.name}_mv"
        )
        z = (
            f"CASE WHEN {value(f, 'p')} IS NULL OR p.{f.name}_mv IS NULL THEN NULL "
            f"ELSE ({value(f, 'p')} - p.{f.name}_mv) / greatest({MAD_TO_SD} * p.{f.name}_dv, {float(f.scale)}) END"
        )
        zcols += [f"{med} AS {f.name}_med", f"{z} AS {f.name}_z"]
    ctes.append((f"{prefix}rel", f"SELECT p.*, {', '.join(zcols)} FROM {prefix}p p"))
    return ctes, f"{prefix}rel"


def directional_z(f: Feature) -> str:
    """SQL of f's z-score in the direction that counts as abnormal (larger = further out)."""
    z = f"{f.name}_z"
    return {"high": z, "low": f"-{z}", "both": f"abs({z})"}[f.direction]


def output_columns(features, alias: str = "") -> list[str]:
    """The columns a feature set's query returns for each feature, in order."""
    a = f"{alias}." if alias else ""
    return [f"{a}{f.name}{s}" for f in features for s in ("", "_med", "_z", "_peer")]


def with_ctes(ctes: list[tuple[str, str]], select: str) -> str:
    return "WITH " + ",\n".join(f"{name} AS (\n{sql}\n)" for name, sql in ctes) + "\n" + select


def year_bounds(year: int) -> tuple[str, str]:
    """SQL literals of the first day of `year` and of the next year."""
    return f"DATE '{int(year):04d}-01-01'", f"DATE '{int(year) + 1:04d}-01-01'"


def open_end(col: str) -> str:
    """The end of an entity's span over its rows in a GROUP BY: NULL (still open) when any row is
    open, else the latest. max() alone skips NULLs and would close a re-enrolled household or a
    renewed lease with its first row."""
    return f"CASE WHEN count(*) > count({col}) THEN NULL ELSE max({col}) END"


def month_index(col: str) -> str:
    """year * 12 + month of a date column: month arithmetic every engine can do."""
    return f"(year({col}) * 12 + month({col}))"
