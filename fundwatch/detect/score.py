"""Score every entity of every programme: features in SQL, a detector per programme and year,
fitted on a sample and applied in batches, then calibrated scores and explanations.

Memory stays bounded whatever the number of entities: the features are materialised as a
workspace table (fw_detect_<program>_<entity_type>, dropped afterwards), the detector sees at
most `fit_sample` rows, and the fitted model scores `batch_size` rows at a time where they are
(`engine.map_batches`: streamed through this process on DuckDB, on the executors on Spark).
On DuckDB two feature sets run at a time (CONCURRENT_SETS), so the bound is two sets' worth;
DuckDB's memory_limit holds for both together.
"""

from __future__ import annotations

import contextlib
import functools
import time

import numpy as np
import pandas as pd

from fundwatch.detect.detectors import preload
from fundwatch.detect.explain import NOTABLE_Z, sentence, top_features
from fundwatch.detect.features import FEATURE_SETS
from fundwatch.detect.model import directional, fit_model
from fundwatch.detect.settings import Settings, parse_settings
from fundwatch.engine.side_by_side import side_by_side
from fundwatch.entities import population_lookup
from fundwatch.rules.render import parse, render, scan_values

COLUMNS = [
    "entity_type",
    "entity_id",
    "program",
    "outlier_score",
    "flagged",
    "explanation",
    "explanation_zh",
    "amount_at_risk",
    "covered_by",
    "outlier_strength",
]
EXPLAIN_ROWS = "fw_detect_explain_rows"


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entity_type": pd.Series(dtype="str"),
            "entity_id": pd.Series(dtype="str"),
            "program": pd.Series(dtype="str"),
            "outlier_score": pd.Series(dtype="float64"),
            "flagged": pd.Series(dtype="bool"),
            "explanation": pd.Series(dtype="object"),
            "explanation_zh": pd.Series(dtype="object"),
            "amount_at_risk": pd.Series(dtype="float64"),
            "covered_by": pd.Series(dtype="object"),
            "outlier_strength": pd.Series(dtype="float64"),
        }
    )


def score_outliers(
    engine, year: int, present: set[str], settings: dict | None = None, feature_sets=FEATURE_SETS
) -> tuple[pd.DataFrame, list[dict]]:
    """Outlier scores for `year`: (one row per scored entity, one status dict per entity type).

    >>> scores, report = score_outliers(ws.engine, 2023, set(ws.loaded_tables()), {"contamination": 0.02})
    """
    s = parse_settings(settings)
    present = set(present)
    if s.enabled:
        preload()  # scikit-learn and PyOD import while the first feature set's SQL runs
    # Two feature sets at a time: one set's single-threaded parts (numbering its rows, fitting
    # small forests, explanations) leave a core that the other's SQL takes. Each set has its
    # own tables and seed, so the scores are those of one set at a time.
    done = side_by_side(
        engine,
        [functools.partial(_score_set, fs, int(year), present, s) for fs in feature_sets],
        CONCURRENT_SETS,
        name="fundwatch-outliers",
        labels=[fs.key for fs in feature_sets],
    )
    frames = [frame for frame, _ in done if len(frame)]
    out = pd.concat(frames, ignore_index=True) if frames else empty_frame()
    return out[COLUMNS], [info for _, info in done]


CONCURRENT_SETS = 2


def _score_set(fs, year: int, present: set[str], s: Settings, engine) -> tuple[pd.DataFrame, dict]:
    """(scores, status) of one feature set, on `engine`."""
    t0 = time.monotonic()
    info = {
        "program": fs.program,
        "entity_type": fs.entity_type,
        "status": "skipped",
        "entities": 0,
        "flagged": 0,
        "reason": "",
        "seconds": 0.0,
    }
    frame = pd.DataFrame()
    missing = fs.missing(present)
    if not s.enabled:
        info["reason"] = "outlier detection is turned off ([outliers] enabled = false)"
    elif missing:
        info["reason"] = f"missing {', '.join(missing)}"
    else:
        frame, more = score_feature_set(engine, fs, year, present, s)
        info.update(more)
    info["seconds"] = round(time.monotonic() - t0, 3)
    return frame, info


def feature_sql(fs, year: int, settings: Settings, present: set[str]) -> str:
    """The feature set's query in DuckDB's dialect (the engine translates it); optional tables
    not present read as empty."""
    sql = fs.sql(year, settings)
    empty = {t for t in fs.tables if t not in present}
    return render(parse(sql, fs.key), {}, empty_tables=empty) if empty else sql


def score_feature_set(engine, fs, year: int, present: set[str], s: Settings) -> tuple[pd.DataFrame, dict]:
    table = f"fw_detect_{fs.program}_{fs.entity_type}"
    zcols = [f"{f.name}_z" for f in fs.features]
    usable = " OR ".join(f"{c} IS NOT NULL" for c in zcols)
    # Scorable entities first (rows 1..n), in a fixed order, so that batches are row ranges.
    # Two steps, so that the engine never holds the peer medians and the sort at once (ten million
    # entities then fit in DuckDB's memory_limit of 2 GB instead of needing more).
    with contextlib.ExitStack() as scratch:  # the tables go also when a step fails (the set may run again)
        universe = scored_universe(fs, year, feature_sql(fs, year, s, present), present)
        with engine.materialised(f"{table}_raw", universe) as raw:  # gone once the numbered table is written
            scratch.enter_context(engine.materialised(
                table,
                f"""SELECT row_number() OVER (ORDER BY CASE WHEN {usable} THEN 0 ELSE 1 END, entity_id) AS fw_row,
       CASE WHEN {usable} THEN 1 ELSE 0 END AS fw_usable, t.*
FROM {raw} t""",
            ))
        counts = engine.query(f"SELECT count(*) AS total, coalesce(sum(fw_usable), 0) AS usable FROM {table}")
        total, n = int(counts["total"].iloc[0]), int(counts["usable"].iloc[0])
        unscored = total - n
        note = f"; {unscored} without usable features not scored" if unscored else ""
        if n < s.min_entities:
            return pd.DataFrame(), {
                "status": "too_few",
                "entities": 0,
                "flagged": 0,
                "reason": f"{n} entities with usable features in {year}, fewer than the "
                f"{s.min_entities} needed to fit a detector{note}",
            }
        model = fit_model(engine, table, fs, n, s)
        # Fitted here, applied where the rows are: in batches through this process on DuckDB,
        # in parallel on the executors on Spark (mapInPandas).
        scored = engine.map_batches(
            f"SELECT fw_row, entity_id, at_risk, {', '.join(zcols)} FROM {table} WHERE fw_row <= {n}",
            functools.partial(score_batch, model, zcols),
            SCORED,
            s.batch_size,
        )
        scored = scored.sort_values("fw_row", ignore_index=True)
        frame = scored[["entity_id", "outlier_score", "flagged", "amount_at_risk", "outlier_strength"]].copy()
        flagged_rows = [
            (int(r), [int(i) for i in top.split(",") if i])
            for r, top in zip(
                scored["fw_row"][scored["flagged"]], scored["top"][scored["flagged"]], strict=True
            )
        ]
        frame["explanation"], frame["explanation_zh"] = explain(engine, fs, table, year, frame, flagged_rows)
        frame["covered_by"] = covered_by(fs, len(frame), flagged_rows)
        frame.insert(0, "entity_type", fs.entity_type)
        frame.insert(2, "program", fs.program)
        reason = "" if model.detector is not None else "no feature varies among the entities"
        return frame, {
            "status": "scored",
            "entities": len(frame),
            "flagged": int(frame["flagged"].sum()),
            "reason": (reason + note).lstrip("; "),
        }


def covered_by(fs, n: int, flagged_rows) -> list[str]:
    """Per entity, the rules that judge every feature its explanation names (';'-separated), or ""
    when some named feature is no rule's: only such an entity is news by itself."""
    out = [""] * n
    for fw_row, top in flagged_rows:
        named = [fs.features[i] for i in top]
        if named and all(f.covered_by for f in named):
            out[fw_row - 1] = ";".join(sorted({r for f in named for r in f.covered_by}))
    return out


def scored_universe(fs, year: int, sql: str, present: set[str]) -> str:
    """The feature rows of the entities with records of `year` in the programme (the entity
    registry's population): a lease in force in a year without a rent ledger has nothing to
    judge, and must not be scored against its peers on its lease terms alone."""
    lookup = population_lookup(fs.program, fs.entity_type, present)
    if lookup is None:
        return sql
    ids = render(parse(lookup.sql, "fundwatch/entities.py"), scan_values(int(year)))
    return f"SELECT f.* FROM ({sql}) f WHERE f.entity_id IN ({ids})"


SCORED = [
    ("fw_row", "BIGINT"),
    ("entity_id", "VARCHAR"),
    ("outlier_score", "DOUBLE"),
    ("flagged", "BOOLEAN"),
    ("amount_at_risk", "DOUBLE"),
    ("top", "VARCHAR"),
    ("outlier_strength", "DOUBLE"),
]


def score_batch(model, zcols: list[str], batch: pd.DataFrame) -> pd.DataFrame:
    """Scores of one batch of feature rows (each row on its own): the SCORED columns; `top` lists
    the features to name in a flagged entity's explanation ("3,0")."""
    z = batch[zcols].to_numpy(dtype=float, na_value=np.nan)
    score, flag = model.score(z)
    # Flagged only with a feature NOTABLE_Z robust deviations out the way that counts: an entity
    # at its peers' median on every feature has nothing to show an analyst.
    with np.errstate(invalid="ignore"):
        strongest = np.nan_to_num(np.abs(directional(z, model.directions)), nan=0.0).max(axis=1, initial=0.0)
    flag = np.asarray(flag, dtype=bool) & (strongest >= NOTABLE_Z)
    top = np.full(len(z), "", dtype=object)
    for i in np.flatnonzero(flag):  # a few in a hundred
        top[i] = ",".join(map(str, top_features(z[i], model.directions)))
    return pd.DataFrame(
        {
            "fw_row": batch["fw_row"].to_numpy(dtype=np.int64),
            "entity_id": batch["entity_id"].astype(str).to_numpy(),
            "outlier_score": np.asarray(score, dtype=float),
            "flagged": np.asarray(flag, dtype=bool),
            "amount_at_risk": pd.to_numeric(batch["at_risk"])
            .fillna(0)
            .astype(float)
            .clip(lower=0)
            .round(2)
            .to_numpy(),
            "top": top.tolist(),
            # how far out the entity's strongest feature lies (robust z, the way that counts): the
            # isolation forest's percentile saturates among the flagged, this does not
            "outlier_strength": strongest.astype(float),
        }
    )


def explain(engine, fs, table: str, year: int, frame: pd.DataFrame, flagged_rows) -> tuple[list, list]:
    """Explanations for the flagged entities (None for the rest)."""
    en, zh = [None] * len(frame), [None] * len(frame)
    if not flagged_rows:
        return en, zh
    cols = [c for f in fs.features for c in (f.name, f"{f.name}_med", f"{f.name}_peer")]
    with engine.registered(EXPLAIN_ROWS, pd.DataFrame({"fw_row": [r for r, _ in flagged_rows]}, dtype="int64")):
        rows = engine.query(
            f"SELECT t.fw_row, t.entity_id, {', '.join('t.' + c for c in cols)} FROM {table} t "
            f"JOIN {EXPLAIN_ROWS} e ON e.fw_row = t.fw_row"
        ).set_index("fw_row")
    rows = rows.to_dict("index")
    for fw_row, top in flagged_rows:
        row = rows[fw_row]
        i = fw_row - 1  # scorable rows are numbered 1..n in frame order
        en[i], zh[i] = sentence(fs, year, str(row["entity_id"]), row, top)
    return en, zh
