"""How well the outlier detector finds what no rule states, on the sample world's ground truth.

    python benchmarks/detect_eval.py                       # scale 1, seed 7, every detector
    python benchmarks/detect_eval.py --scale 2 --seeds 7 8 9
    python benchmarks/detect_eval.py --throughput 1000000  # entities/s and peak memory

Positives are the planted anomalies with an empty rule_id, negatives the other scored
entity-years (fundwatch/detect/evaluate.py says which are left out). Figures per programme
and overall (all programmes pooled on the calibrated outlier_score):

    auc            ROC-AUC of outlier_score
    p@1%           share of planted rule-less anomalies among the top 1% by outlier_score
    max p@1%       the best p@1% possible with this many positives
    recall@flag    share of the rule-less anomalies the detector flags (contamination threshold)
    flagged        entity-years flagged
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from fundwatch.detect import DETECTORS, score_outliers
from fundwatch.detect.evaluate import KEY, auc, label, read_truth
from fundwatch.workspace import Workspace

YEARS = (2022, 2023, 2024)


def load_world(scale: float, seed: int, out_dir: str) -> tuple[Workspace, pd.DataFrame]:
    from fundwatch_sample import generate_world

    generate_world(out_dir, scale=scale, seed=seed)
    ws = Workspace()
    ws.load(out_dir)
    return ws, read_truth(f"{out_dir}/ground_truth.csv")


def metrics(frame: pd.DataFrame) -> dict:
    frame = frame[frame["label"] >= 0]
    y, s = frame["label"].to_numpy(), frame["outlier_score"].to_numpy()
    pos = int(y.sum())
    k = max(1, math.ceil(0.01 * len(frame)))
    top = np.argsort(-s, kind="stable")[:k]
    return {
        "entities": len(frame),
        "positives": pos,
        "auc": auc(s[y == 1], s[y == 0]) if 0 < pos < len(frame) else float("nan"),
        "p@1%": y[top].mean(),
        "max p@1%": min(pos, k) / k,
        "recall@flag": frame.loc[frame["label"] == 1, "flagged"].mean() if pos else float("nan"),
        "flagged": int(frame["flagged"].sum()),
    }


def evaluate(ws, truth: pd.DataFrame, detectors=DETECTORS, years=YEARS, settings: dict | None = None):
    """(metrics per detector and programme, labelled scores of every year per detector)."""
    present = set(ws.loaded_tables())
    rows, scored = [], {}
    for det in detectors:
        frames = []
        for year in years:
            scores, _ = score_outliers(ws.engine, year, present, {**(settings or {}), "detector": det})
            frames.append(label(scores, truth, year))
        allyears = pd.concat(frames, ignore_index=True)
        scored[det] = allyears
        programmes = truth.loc[(truth["kind"] == "anomaly") & (truth["rule_id"] == ""), "program"].unique()
        for prog in sorted(programmes):
            rows.append({"detector": det, "program": prog, **metrics(allyears[allyears["program"] == prog])})
        rows.append({"detector": det, "program": "overall", **metrics(allyears)})
    return pd.DataFrame(rows), scored


def compare(
    scored: dict[str, pd.DataFrame], base: str = "iforest", draws: int = 500, seed: int = 0
) -> pd.DataFrame:
    """Each detector's ROC-AUC and recall@flag minus `base`'s, with a paired, stratified bootstrap
    95% interval over entity-years (all seeds and programmes pooled)."""
    keys = ["seed", "year", *KEY]
    ref = scored[base][scored[base]["label"] >= 0].sort_values(keys, ignore_index=True)
    y = ref["label"].to_numpy()
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    rng = np.random.default_rng(seed)
    samples = [(rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for _ in range(draws)]

    def stats(frame):
        s, f = frame["outlier_score"].to_numpy(), frame["flagged"].to_numpy()
        return np.array([[auc(s[p], s[n]), f[p].mean()] for p, n in samples])

    base_stats = stats(ref)
    rows = []
    for det, frame in scored.items():
        if det == base:
            continue
        frame = frame[frame["label"] >= 0].sort_values(keys, ignore_index=True)
        assert frame[keys].equals(ref[keys]), "detectors scored different entities"
        diff = stats(frame) - base_stats
        lo, hi = np.percentile(diff, [2.5, 97.5], axis=0)
        rows.append(
            {
                "detector": det,
                "auc - iforest": diff[:, 0].mean(),
                "auc 95% CI": f"[{lo[0]:+.3f}, {hi[0]:+.3f}]",
                "recall - iforest": diff[:, 1].mean(),
                "recall 95% CI": f"[{lo[1]:+.3f}, {hi[1]:+.3f}]",
            }
        )
    return pd.DataFrame(rows)


def rules_versus_detector(ws, truth: pd.DataFrame, scored: pd.DataFrame, years=YEARS) -> dict:
    """How many rule-less anomalies the rules alone catch, and how many with the detector too."""
    from fundwatch.config import Config
    from fundwatch.rules import load_rules
    from fundwatch.rules.runner import run_rules

    ruleset, present = load_rules(), set(ws.loaded_tables())
    hit = set()
    for year in years:
        hits, _ = run_rules(ws.engine, ruleset, year, present, Config())
        hit |= {(t, str(e), year) for t, e in zip(hits["entity_type"], hits["entity_id"], strict=True)}
    rl = truth[(truth["kind"] == "anomaly") & (truth["rule_id"] == "")]
    flagged = {
        (t, e, y)
        for t, e, y, f in zip(
            scored["entity_type"], scored["entity_id"], scored["year"], scored["flagged"], strict=True
        )
        if f
    }
    keys = list(zip(rl["entity_type"], rl["entity_id"], rl["year"], strict=True))
    by_rules = sum(k in hit for k in keys)
    both = sum(k in hit or k in flagged for k in keys)
    ruled = truth[(truth["kind"] == "anomaly") & (truth["rule_id"] != "")]
    rkeys = list(zip(ruled["entity_type"], ruled["entity_id"], ruled["year"], strict=True))
    extra = scored[scored["flagged"]]
    extra = extra[
        [
            (t, e, y) not in hit
            for t, e, y in zip(extra["entity_type"], extra["entity_id"], extra["year"], strict=True)
        ]
    ]
    return {
        "rule-less anomalies": len(keys),
        "caught by rules": by_rules,
        "caught by rules + detector": both,
        "rule anomalies also flagged": sum(k in flagged for k in rkeys),
        "rule anomalies": len(rkeys),
        "detector-only cases (flagged, no rule hit)": len(extra),
    }


def throughput(n: int, kind: str, settings: dict | None = None, memory_limit: str = "4GB") -> dict:
    """Score n synthetic entities end to end (SQL features, fit, batches): time and peak memory.

    kind "entities": a table of per-entity values (the scoring path at any size);
    kind "dibao": n households paid monthly (12 n payment rows) through the real dibao features,
    with rare planted outliers whose ROC-AUC is reported.
    """
    from fundwatch.detect import FEATURE_SETS
    from fundwatch.detect.synthetic import LARGE_FEATURE_SET, LARGE_TABLE, make_large_dibao, make_large_table

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(f"{tmp}/bench.duckdb", memory_limit=memory_limit)
        t0 = time.monotonic()
        if kind == "dibao":
            planted = make_large_dibao(ws.engine, n)
            sets, present = (FEATURE_SETS[0],), {"dibao_payments", "dibao_households", "dibao_members"}
        else:
            make_large_table(ws.engine, n, seed=1)
            planted, sets, present = None, (LARGE_FEATURE_SET,), {LARGE_TABLE}
        made = time.monotonic() - t0
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.monotonic()
        scores, report = score_outliers(ws.engine, 2023, present, settings, feature_sets=sets)
        secs = time.monotonic() - t0
        ws.close()
    out = {
        "kind": kind,
        "entities": len(scores),
        "seconds": round(secs, 1),
        "entities/s": round(len(scores) / secs),
        "peak RSS MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak RSS MB before scoring": round(rss_before),
        "data build s": round(made, 1),
        "flagged": int(scores["flagged"].sum()),
        "stage seconds": report[0]["seconds"],
    }
    if planted:
        y = scores["entity_id"].isin({h for v in planted.values() for h in v})
        out["planted"] = int(y.sum())
        out["planted AUC"] = round(auc(scores.loc[y, "outlier_score"], scores.loc[~y, "outlier_score"]), 4)
        out["planted flagged"] = int(scores.loc[y, "flagged"].sum())
    return out


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7])
    ap.add_argument("--detectors", nargs="+", default=list(DETECTORS), choices=DETECTORS)
    ap.add_argument("--throughput", type=int, default=0, help="score this many synthetic entities instead")
    ap.add_argument(
        "--kind",
        choices=["entities", "dibao"],
        default="entities",
        help="what --throughput scores: a table of entity values, or dibao households",
    )
    ap.add_argument("--batch-size", type=int, default=200_000)
    ap.add_argument("--memory-limit", default="4GB", help="DuckDB's memory limit in --throughput runs")
    ap.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="[outliers] settings, e.g. max_samples=1.0 n_estimators=100",
    )
    args = ap.parse_args(argv)
    settings = {k: _value(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    pd.set_option("display.width", 160)
    if args.throughput:
        print(
            throughput(
                args.throughput, args.kind, {"batch_size": args.batch_size, **settings}, args.memory_limit
            )
        )
        return 0
    results, versus, pooled = [], [], {}
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            ws, truth = load_world(args.scale, seed, tmp)
            table, scored = evaluate(ws, truth, args.detectors, settings=settings)
            results.append(table.assign(seed=seed))
            for det, frame in scored.items():
                pooled.setdefault(det, []).append(frame.assign(seed=seed))
            if "iforest" in scored:
                versus.append(rules_versus_detector(ws, truth, scored["iforest"]))
            ws.close()
    res = pd.concat(results, ignore_index=True)
    summary = res.groupby(["detector", "program"], sort=False).agg(
        entities=("entities", "sum"),
        positives=("positives", "sum"),
        auc=("auc", "mean"),
        p_at_1=("p@1%", "mean"),
        max_p_at_1=("max p@1%", "mean"),
        recall_flag=("recall@flag", "mean"),
        flagged=("flagged", "sum"),
    )
    print(
        f"sample world scale {args.scale}, seeds {args.seeds}, years {YEARS[0]}-{YEARS[-1]} "
        f"(means over seeds; entities and positives summed)"
    )
    print(summary.round(3).to_string())
    if "iforest" in pooled and len(pooled) > 1:
        print("\npaired bootstrap against iforest (entity-years of all seeds and programmes pooled):")
        print(
            compare({d: pd.concat(f, ignore_index=True) for d, f in pooled.items()})
            .round(3)
            .to_string(index=False)
        )
    if versus:
        print("\nrules versus rules + isolation forest (summed over seeds):")
        for k, v in pd.DataFrame(versus).sum().items():
            print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
