"""On the bundled sample world, every planted rule-detectable anomaly is found by its rule and
no planted look-alike is flagged by the rule it imitates (reads the generator's ground truth)."""

from pathlib import Path

import pandas as pd
import pytest

from fundwatch.workspace import Workspace

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
TRUTH = pd.read_csv(SAMPLE / "ground_truth.csv", dtype=str, keep_default_na=False)
YEARS = sorted(int(y) for y in TRUTH["year"].unique())


@pytest.fixture(scope="module")
def hits_by_year():
    with Workspace() as ws:
        ws.load(SAMPLE)
        out = {}
        for year in YEARS:
            result = ws.scan(year, outliers=False)
            assert not [o for o in result.outcomes if o.status == "error"], result.outcome_frame
            out[year] = set(zip(result.hits["rule_id"], result.hits["entity_id"], strict=True))
        return out


def test_truth_covers_every_rule_of_the_catalogue():
    from fundwatch.rules import load_rules

    planted = set(TRUTH.loc[TRUTH["kind"] == "anomaly", "rule_id"]) - {""}
    assert planted == {r.id for r in load_rules()}


@pytest.mark.parametrize("year", YEARS)
def test_every_planted_anomaly_is_found_by_its_rule(hits_by_year, year):
    rows = TRUTH[(TRUTH["kind"] == "anomaly") & (TRUTH["rule_id"] != "") & (TRUTH["year"].astype(int) == year)]
    missed = [f"{r.rule_id} {r.entity_id} ({r.scenario})" for r in rows.itertuples()
              if (r.rule_id, r.entity_id) not in hits_by_year[year]]
    assert len(rows) > 0 and not missed, missed


@pytest.mark.parametrize("year", YEARS)
def test_no_lookalike_is_flagged_by_the_rule_it_imitates(hits_by_year, year):
    rows = TRUTH[(TRUTH["kind"] == "lookalike") & (TRUTH["year"].astype(int) == year)]
    flagged = [f"{r.rule_id} {r.entity_id} ({r.scenario})" for r in rows.itertuples()
               if (r.rule_id, r.entity_id) in hits_by_year[year]]
    assert len(rows) > 0 and not flagged, flagged


@pytest.mark.parametrize("year", YEARS)
def test_rules_flag_nothing_outside_the_ground_truth(hits_by_year, year):
    # The background population is honest: any other hit is a false positive of a rule.
    known = set(zip(TRUTH["rule_id"], TRUTH["entity_id"], strict=True))
    planted_entities = set(TRUTH["entity_id"])
    extra = sorted((rule, entity) for rule, entity in hits_by_year[year]
                   if (rule, entity) not in known and entity not in planted_entities)
    assert not extra, extra[:20]


def test_rules_side_by_side_give_what_one_at_a_time_gives(monkeypatch):
    """Rules run two at a time (a cursor each): the same hits, outcomes in the catalogue's order."""
    import fundwatch.rules.runner as runner
    from fundwatch.config import Config
    from fundwatch.rules import load_rules

    ruleset = load_rules()
    with Workspace() as ws:
        ws.load(SAMPLE)
        present = set(ws.loaded_tables())
        runs = {}
        for n in (1, 2):
            monkeypatch.setattr(runner, "CONCURRENT_QUERIES", n)
            hits, outcomes = runner.run_rules(ws.engine, ruleset, YEARS[-1], present, Config())
            # A rule's rows come in no set order (DuckDB aggregates on several threads): compare as sets.
            rows = sorted(hits.to_dict("records"), key=lambda r: (r["rule_id"], r["entity_id"], r["evidence"]))
            runs[n] = (rows, [(o.rule_id, o.status, o.hits, o.share) for o in outcomes])
    assert runs[1] == runs[2]
    assert [r for r, *_ in runs[2][1]] == [r.id for r in ruleset]
    assert sum(h for _, _, h, _ in runs[2][1]) > 0
