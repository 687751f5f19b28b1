"""County B (tests/county_b): deterministic, loadable, valid IDs, a truth that plants what it says;
and the issue 18 figures of fundwatch/cases/evaluate.py against a hand computation."""

from __future__ import annotations

import filecmp
import json
import tomllib
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from stdnum.cn import ric, uscc

from fundwatch.cases.evaluate import evaluate
from fundwatch.workspace import Workspace
from tests.county_b import generate
from tests.county_b.export import HEADERS
from tests.shared import built_once


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """County B, generated once for the test run (tests/shared.py); read-only."""
    return built_once(tmp_path_factory, "county_b-1.0-1", lambda out: generate(out, scale=1.0, seed=1))


def read(county, table: str) -> pd.DataFrame:
    """A table of county B with canonical column names, read without fundwatch's loader."""
    heads = HEADERS[table]
    if (county / f"{table}.xlsx").exists():
        frame = pd.read_excel(county / f"{table}.xlsx", header=1, dtype=str)
    else:
        raw = (county / f"{table}.csv").read_bytes()
        encoding = "gbk" if table in ("dibao_payments", "residents") else "utf-8-sig"
        sep = "\t" if table == "coop_dividends" else ","
        frame = pd.read_csv(county / f"{table}.csv", dtype=str, keep_default_na=False, encoding=encoding, sep=sep)
        assert raw  # the file is not empty
    return frame.rename(columns={h: c for c, h in heads.items()})


def truth(county) -> pd.DataFrame:
    return pd.read_csv(county / "ground_truth.csv", dtype=str, keep_default_na=False)


def test_same_seed_same_bytes_other_seed_other_data(county, tmp_path):
    again = generate(tmp_path / "again", scale=1.0, seed=1)
    names = sorted(p.name for p in county.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(county, again, names, shallow=False)
    assert mismatch == [] and errors == []
    other = generate(tmp_path / "other", scale=1.0, seed=2)
    assert (other / "dibao_payments.csv").read_bytes() != (county / "dibao_payments.csv").read_bytes()


def test_every_file_loads_with_its_mapping_and_nothing_is_quarantined(county):
    ws = Workspace()
    report = ws.load(county, mapping=county / "mapping.toml")
    known = set(tomllib.loads((county / "mapping.toml").read_text(encoding="utf-8")))
    assert known <= set(report.tables) and len(known) >= 18
    for name, table in report.tables.items():
        assert table.rows_quarantined == 0, name
        assert table.rows_loaded > 0, name
    assert ws.con.execute("SELECT count(*) FROM fw_quarantine").fetchone()[0] == 0
    rows = sum(t.rows_loaded for t in report.tables.values())
    assert 30_000 <= rows <= 70_000


def test_conventions_differ_from_the_contract_names(county):
    """Chinese headers everywhere, two GBK files, one XLSX whose first row is a title."""
    for table in HEADERS:
        path = county / f"{table}.csv"
        if path.exists():
            enc = "gbk" if table in ("dibao_payments", "residents") else "utf-8-sig"
            first = path.read_bytes().decode(enc).splitlines()[0]
            assert "person_id" not in first and "amount" not in first
    (county / "residents.csv").read_bytes().decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        (county / "residents.csv").read_bytes().decode("utf-8")
    title = pd.read_excel(county / "housing_rent.xlsx", header=None, nrows=2)
    assert title.iloc[0].notna().sum() == 1 and title.iloc[1].notna().sum() == len(HEADERS["housing_rent"])


def test_every_id_passes_its_checksum(county):
    person_cols = {t: [c for c in heads if c in ("person_id", "head_id", "approved_by", "legal_rep_id")]
                   for t, heads in HEADERS.items()}
    seen = 0
    for table, cols in person_cols.items():
        frame = read(county, table)
        for col in cols:
            values = frame[col][frame[col] != ""].dropna()
            bad = [v for v in values if not ric.is_valid(v)]
            assert bad == [], (table, col, bad[:3])
            seen += len(values)
    assert seen > 30_000
    for table, col in (("cooperatives", "coop_id"), ("business_roles", "entity_code")):
        codes = read(county, table)[col]
        assert all(uscc.is_valid(c) for c in codes), table
    villages = read(county, "residents")["region_code"]
    assert villages.str.fullmatch(r"411522\d{6}").all()
    parts = villages.str[9:12].astype(int)
    assert ((parts < 200) | ((parts >= 200) & (parts < 400))).all() and (parts >= 200).any() and (parts < 200).any()


def test_truth_entities_exist_and_columns_are_the_contracted_ones(county):
    t = truth(county)
    assert list(t.columns) == ["truth_id", "kind", "scenario", "program", "entity_type", "entity_id", "year",
                               "rule_id", "description", "finding"]
    ids = {
        "household": set(read(county, "dibao_households")["household_id"]),
        "person": set(read(county, "residents")["person_id"]),
        "tenancy": set(read(county, "housing_tenancies")["tenancy_id"]),
        "cooperative": set(read(county, "cooperatives")["coop_id"]),
        "agency": set(read(county, "subsidy_payments")["agency_code"]) | set(read(county, "fund_allocations")["agency_code"]),
    }
    for row in t.itertuples():
        assert row.entity_id in ids[row.entity_type], (row.scenario, row.entity_id)
    rules = {f"{p.parent.name}.{p.stem}" for p in (Path(__file__).parents[1] / "rules").glob("*/*.yaml")}
    planted = set(t.loc[t["kind"] == "anomaly", "rule_id"]) - {""}
    assert planted <= rules and len(planted) == 35
    for year in ("2022", "2023", "2024"):
        y = t[t["year"] == year]
        findings = y.loc[y["kind"] == "anomaly", "finding"].nunique()
        assert 40 <= findings <= 70
        assert 25 <= (y["kind"] == "lookalike").sum() <= 45
        assert 5 <= ((y["kind"] == "anomaly") & (y["rule_id"] == "")).sum() <= 10
        assert {"missed", "missed_lookalike"} <= set(y["kind"])


def _days(frame, a, b):
    return (pd.to_datetime(frame[a]) - pd.to_datetime(frame[b])).dt.days


def test_the_late_batch_is_one_finding_of_an_agency_and_its_recipients(county):
    t = truth(county)
    pay = read(county, "subsidy_payments")
    pay["days"] = _days(pay, "pay_date", "approve_date")
    late = t[(t["rule_id"] == "subsidy.late_disbursement") & (t["kind"] == "anomaly")]
    for _finding, rows in late.groupby("finding"):
        agency = rows.loc[rows["entity_type"] == "agency", "entity_id"]
        assert len(agency) == 1
        year = rows["year"].iloc[0]
        batch = pay[(pay["agency_code"] == agency.iloc[0]) & (pay["program_code"] == "GLJT")
                    & (pay["period"] == f"{year}-06")]
        assert (batch["days"] == 118).all() and len(batch) > 5
        assert set(rows.loc[rows["entity_type"] == "person", "entity_id"]) == set(batch["person_id"])
    # every other GLJT batch: one approval meeting 35-42 days before its pay day (the county's norm)
    others = pay[(pay["program_code"] == "GLJT") & (pay["days"] != 118) & (pay["amount"].astype(float) > 0)]
    batches = others.groupby(["agency_code", "period"])["days"]
    mode = batches.agg(lambda d: d.mode().iloc[0])
    at_mode = (others["days"] == others.set_index(["agency_code", "period"]).index.map(mode)).mean()
    assert mode.between(35, 42).all() and at_mode > 0.98  # one meeting per batch, a few plants aside


def test_dibao_plants_show_in_the_tables(county):
    t = truth(county)
    pay = read(county, "dibao_payments")
    pay["amount"] = pay["amount"].astype(float)
    households = read(county, "dibao_households")
    members = read(county, "dibao_members")
    deaths = read(county, "deaths").set_index("person_id")["death_date"]
    # one official's account: the finding's households share one account and no roster member
    shared = t[(t["rule_id"] == "dibao.shared_account") & (t["kind"] == "anomaly")]
    for _, rows in shared.groupby("finding"):
        year = rows["year"].iloc[0]
        p = pay[pay["household_id"].isin(rows["entity_id"]) & pay["period"].str.startswith(year)]
        assert p["bank_account"].nunique() == 1 and p["household_id"].nunique() == len(rows) >= 2
        roster = members[members["household_id"].isin(rows["entity_id"])]
        assert not roster["person_id"].duplicated().any()
    # paid after the sole member's death: payments for months after the month of death
    for row in t[(t["rule_id"] == "dibao.paid_after_death") & (t["kind"] == "anomaly")].itertuples():
        head = households.loc[households["household_id"] == row.entity_id, "head_id"].iloc[0]
        death_month = deaths[head][:4] + deaths[head][5:7]
        p = pay[(pay["household_id"] == row.entity_id) & (pay["period"] > death_month)]
        assert len(p) >= 6
    # cheap cars: a K33 car below 100,000 yuan owned by a member while paid
    vehicles = read(county, "vehicles")
    for row in t[t["scenario"] == "household_with_cheap_car"].itertuples():
        pids = set(members.loc[members["household_id"] == row.entity_id, "person_id"])
        cars = vehicles[vehicles["person_id"].isin(pids)]
        assert ((cars["vehicle_type"] == "K33") & (cars["purchase_price"].astype(float) < 100000)).any()
    # far above the standard: the year's payments exceed the county's own formula by > 500 a month
    facts = json.loads((county / "county_facts.json").read_text(encoding="utf-8"))
    for row in t[t["scenario"] == "paid_far_above_standard"].itertuples():
        h = households[households["household_id"] == row.entity_id].iloc[0]
        kind = "urban" if int(h["region_code"][9:12]) < 200 else "rural"
        formula = facts["dibao_standard"][row.year][kind] * int(h["household_size"]) - float(h["declared_monthly_income"])
        p = pay[(pay["household_id"] == row.entity_id) & pay["period"].str.startswith(row.year)]
        assert len(p) == 12 and (p["amount"] > formula + 500).all()


def test_vacancies_missed_beneficiaries_and_their_lookalikes(county):
    t = truth(county)
    utilities = read(county, "housing_utilities")
    tenancies = read(county, "housing_tenancies").set_index("tenancy_id")
    quiet = utilities[utilities["electricity_kwh"].astype(float) < 10]
    runs = quiet.groupby("unit_id").size()
    for row in t[t["rule_id"] == "housing.vacant_sublet"].itertuples():
        months = runs.get(tenancies.loc[row.entity_id, "unit_id"], 0)
        assert (months >= 10) if row.kind == "anomaly" else (4 <= months <= 6)
    residents = read(county, "residents").set_index("person_id")
    pay = read(county, "subsidy_payments")
    for row in t[t["kind"].isin(["missed", "missed_lookalike"])].itertuples():
        paid = pay[(pay["person_id"] == row.entity_id) & pay["period"].str.startswith(row.year)]
        person = residents.loc[row.entity_id]
        if row.scenario == "elderly_not_paid":
            assert date(int(row.year), 1, 1).year - int(person["birth_date"][:4]) >= 81
            assert person["status"] == "resident" and (paid["program_code"] == "GLJT").sum() == 0
        elif row.scenario == "moved_out_elderly":
            assert person["status"] == "moved_out" and (paid["program_code"] == "GLJT").sum() == 0
        elif row.scenario == "turned_80_at_year_end":
            assert person["birth_date"].endswith("12-28") and (paid["program_code"] == "GLJT").sum() == 0
    # the legitimate elderly are paid: most residents aged 81+ receive four GLJT batches in 2023
    old = residents[(residents["birth_date"] < "1942-01-01") & (residents["status"] == "resident")]
    paid_2023 = pay[(pay["program_code"] == "GLJT") & pay["period"].str.startswith("2023")]
    assert paid_2023["person_id"].isin(old.index).sum() > 2 * len(old)


# --- the evaluation figures against a hand computation ------------------------------------------------


def tiny_workspace(path, with_case_entities=True):
    ws = Workspace(path)
    con = ws.con
    con.execute("INSERT INTO fw_runs (run_id, year, started_at) VALUES ('R1', 2023, TIMESTAMP '2024-01-01 10:00')")
    entities = ["H1", "A1", "H3", "P9", "X5"] + [f"E{i}" for i in range(6, 21)]
    for rank, entity in enumerate(entities, start=1):
        con.execute("INSERT INTO fw_cases (run_id, rank, year, case_id, entity_type, entity_id) VALUES (?, ?, 2023, ?, 'x', ?)",
                    ["R1", rank, f"C{rank}", entity])
    hits = [("C1", "dibao.shared_account", "H1"), ("C3", "dibao.vehicle", "H3"),
            ("C2", "subsidy.late_disbursement", "A1"), ("C20", "subsidy.unapproved", "O2")]
    for case_id, rule_id, entity in hits:
        con.execute("INSERT INTO fw_hits (run_id, case_id, rule_id, entity_type, entity_id) VALUES ('R1', ?, ?, 'x', ?)",
                    [case_id, rule_id, entity])
    if not with_case_entities:  # a workspace written before cases named their entities
        con.execute("DROP TABLE fw_case_entities")
    else:
        con.executemany("INSERT INTO fw_case_entities VALUES ('R1', ?, 'x', ?, 'involved')",
                        [("C5", "H2"), ("C1", "O1"), ("C2", "P1")])
    ws.close()


TINY_TRUTH = pd.DataFrame([
    # kind, entity_id, rule_id, finding
    ("anomaly", "H1", "dibao.shared_account", "F1"), ("anomaly", "H2", "dibao.shared_account", "F1"),
    ("anomaly", "A1", "subsidy.late_disbursement", "F2"), ("anomaly", "P1", "subsidy.late_disbursement", "F2"),
    ("anomaly", "P2", "subsidy.late_disbursement", "F2"), ("anomaly", "H4", "dibao.vehicle", "F3"),
    ("anomaly", "O1", "", "F4"), ("anomaly", "O2", "", "F5"),
    ("lookalike", "H3", "dibao.vehicle", "L1"), ("lookalike", "H5", "dibao.vehicle", "L2"),
    ("lookalike", "H1", "dibao.over_standard", "L3"), ("missed", "M1", "", "M1"),
], columns=["kind", "entity_id", "rule_id", "finding"]).assign(year=2023)


@pytest.mark.parametrize("with_case_entities", [True, False])
def test_evaluation_figures_equal_a_hand_computation(tmp_path, with_case_entities):
    path = tmp_path / "tiny.duckdb"
    tiny_workspace(path, with_case_entities)
    con = duckdb.connect(str(path), read_only=True)
    result = evaluate(con, TINY_TRUTH, year=2023)
    con.close()
    row = result.overall.iloc[0]
    # 20 cases; 8 anomaly rows in 5 findings (K = 5); F1, F2, F3 are rule-detectable, F3 is missed.
    assert (row["cases"], row["anomalies"], row["findings"], row["k"]) == (20, 8, 5, 5)
    assert row["recall"] == pytest.approx(0.667)
    assert row["cases_per_anomaly"] == pytest.approx(4.0)
    # look-alikes: H3 is named and hit by its own rule; H1 is also an anomaly, so it does not count.
    assert (row["lookalikes"], row["lookalikes_named"], row["lookalikes_flagged"]) == (3, 1, 1)
    if with_case_entities:
        # top 5: C1 (H1), C2 (A1), C5 (H2 through fw_case_entities) name anomalies: 3/5; findings F1, F2, F4.
        assert row["precision_at_k"] == pytest.approx(0.6) and row["findings_top_k"] == 3
        # outliers O1 (C1, the top 5% = 1 case) and O2 (C20): half in the top 5%, all named
        assert (row["outliers_top5"], row["outliers_named"]) == (0.5, 1.0)
    else:
        assert row["precision_at_k"] == pytest.approx(0.4) and row["findings_top_k"] == 2
        assert (row["outliers_top5"], row["outliers_named"]) == (0.0, 0.5)
    per_rule = result.per_rule.set_index("rule_id")
    assert per_rule.loc["dibao.vehicle", ["anomalies", "found", "lookalikes", "lookalikes_flagged", "hits"]].tolist() \
        == [1, 0, 2, 1, 1]
    # without a finding column every truth row is a finding of its own
    rows_only = TINY_TRUTH.drop(columns="finding")
    con = duckdb.connect(str(path), read_only=True)
    assert evaluate(con, rows_only, year=2023).overall.iloc[0]["k"] == 8
    con.close()


# --- issue 18's targets, held by the suite on county B (its own conventions) --------------------
def _scan_and_evaluate(county, tmp_path, config=None) -> dict:
    from fundwatch.cli import main

    ws = tmp_path / "ws.duckdb"
    args = ["--workspace", str(ws), "scan", "--year", "2023", "--data", str(county),
            "--mapping", str(county / "mapping.toml"), "--out", str(tmp_path / "out")]
    assert main(args + (["--config", str(config)] if config else [])) == 0
    con = duckdb.connect(str(ws), read_only=True)
    try:
        return evaluate(con, pd.read_csv(county / "ground_truth.csv"), year=2023).overall.iloc[0].to_dict()
    finally:
        con.close()


def test_with_defaults_county_b_gets_a_workable_list(county, tmp_path):
    row = _scan_and_evaluate(county, tmp_path)
    assert row["cases_per_anomaly"] <= 3, row
    assert row["recall"] >= 0.9, row


def test_after_calibrate_county_b_meets_the_targets(county, tmp_path):
    """calibrate proposes the county's fundwatch.toml from its data (starting from what the province's
    law says, province.toml); scanned with it, the list holds issue 18's targets for the rules."""
    from fundwatch.cli import main

    toml = tmp_path / "fundwatch.toml"
    assert main(["--workspace", str(tmp_path / "cal.duckdb"), "calibrate", "--data", str(county), "--year", "2023",
                 "--mapping", str(county / "mapping.toml"), "--config", str(county / "province.toml"),
                 "--write", str(toml)]) == 0
    facts = json.loads((county / "county_facts.json").read_text(encoding="utf-8"))
    proposed = tomllib.loads(toml.read_text(encoding="utf-8"))["params"]["dibao.over_standard"]
    assert (proposed["urban_standard"], proposed["rural_standard"]) == tuple(
        facts["dibao_standard"]["2023"][k] for k in ("urban", "rural"))
    row = _scan_and_evaluate(county, tmp_path, config=toml)
    assert row["recall"] >= 0.98, row
    assert row["precision_at_k"] >= 0.9, row
    assert row["lookalikes_flagged"] == 0, row  # no rule names a legitimate look-alike
    assert row["lookalikes_named"] == 0, row  # nor does the detector, nor a merged case
    assert row["cases_per_anomaly"] <= 3, row


# --- issue 23: the coverage rules (应享未享) on county B, with its own programme codes -------------


@pytest.mark.parametrize("year", [2022, 2023, 2024])
def test_coverage_rules_find_county_bs_missed_beneficiaries_and_no_lookalike(county, year):
    """Given county.toml (its codes GLJT and CJHL, its rates and standards), the coverage rules list
    at least 98% of the planted missed beneficiaries, no planted look-alike and nobody else; without
    it (the sample county's codes) they judge nothing rather than list every eligible person."""
    from fundwatch.config import load_config

    t = truth(county)
    t = t[(t["program"] == "coverage") & (t["year"] == str(year))]
    ws = Workspace()
    try:
        ws.load(county, mapping=county / "mapping.toml")
        result = ws.scan(year, outliers=False, rescan=True, config=load_config(county / "county.toml"))
        assert not result.hits["rule_id"].str.startswith("coverage.").any()  # a list of its own
        hits = result.coverage
        listed = set(hits["entity_id"])
        missed = t[t["kind"] == "missed"]
        assert len(missed) >= 5
        assert missed["entity_id"].isin(listed).mean() >= 0.98, missed[~missed["entity_id"].isin(listed)]
        lookalikes = t[t["kind"] == "missed_lookalike"]
        assert len(lookalikes) >= 4 and not lookalikes["entity_id"].isin(listed).any()
        assert set(hits["entity_id"]) <= set(missed["entity_id"])
        defaults = ws.scan(year, outliers=False, rescan=True, config=load_config(county / "province.toml"))
        assert defaults.coverage.empty
    finally:
        ws.close()
