"""The coverage list (应享未享, issue 23 item 4) from a real scan of the sample county's files:
coverage hits in coverage.csv and nowhere in the case list, ranked by months missed and money
owed, masked; township rates equal to a computation from the input CSVs done here; outreach
states that survive a rescan; the workbook's sheets and the page's section."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from fundwatch.cli import cli
from fundwatch.errors import RuleError
from fundwatch.report.mask import ID_RE
from fundwatch.rules.catalogue import parse_rule_text

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
YEAR = 2023
RULES = ROOT / "rules"


def without_eligible(text: str) -> str:
    """A rule file's text with its `eligible:` block (the file's last key) taken off."""
    head, found, _ = text.partition("\neligible: |\n")
    assert found, "the rule file declares no eligible population"
    return head + "\n"


def own_eligible(name: str) -> str:
    text = (RULES / "coverage" / f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["eligible"]


def run(*args, check=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if check:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """(folder, workspace, rules folder, the scan's terminal output): the sample scanned once
    for 2023 without the detector (it changes nothing in the coverage list)."""
    folder = tmp_path_factory.mktemp("coverage_list")
    rules = RULES
    ws = folder / "w.duckdb"
    out = run("--workspace", ws, "scan", "--year", YEAR, "--data", SAMPLE, "--out", folder / "out",
              "--rules", rules, "--no-outliers").output
    return folder, ws, rules, out


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_coverage_hits_are_listed_in_coverage_csv_and_not_in_the_case_list(scanned):
    folder, _, _, printed = scanned
    coverage = read_csv(folder / "out" / "coverage.csv")
    cases = read_csv(folder / "out" / "cases.csv")
    hits = read_csv(folder / "out" / "rule_hits.csv")
    run_json = json.loads((folder / "out" / "run.json").read_text(encoding="utf-8"))
    coverage_rules = {f"coverage.{p.stem}" for p in (RULES / "coverage").glob("*.yaml")}
    assert len(coverage) > 0 and set(coverage["rule_id"]) <= coverage_rules
    assert len(coverage) == run_json["row_counts"]["coverage"]
    assert not any(r.startswith("coverage.") for ids in cases["rule_ids"] for r in ids.split(";"))
    assert not (hits["rule_id"].str.startswith("coverage.")).any()
    assert "coverage" not in set(cases["program"]) and "coverage" not in set(cases["programs"])
    # every rule of the coverage list ran and said how many it listed
    for rule_id in set(coverage["rule_id"]):
        assert run_json["rules"][rule_id]["status"] == "found"
        assert run_json["coverage"][rule_id]["listed"] == int((coverage["rule_id"] == rule_id).sum())
    assert f"who should be paid and is not (应享未享): {len(coverage):,} missed" in printed
    # one row per entity and programme (masked IDs may coincide; the outreach ids may not)
    assert coverage["outreach_id"].is_unique


def test_ranked_by_months_missed_then_money_owed(scanned):
    coverage = read_csv(scanned[0] / "out" / "coverage.csv")
    assert list(coverage["rank"].astype(int)) == list(range(1, len(coverage) + 1))
    keys = list(zip(coverage["months_missed"].astype(int), coverage["amount_owed"].astype(float), strict=True))
    assert keys == sorted(keys, key=lambda k: (-k[0], -k[1]))
    assert re.fullmatch(r"\d+\.\d{2}", coverage["amount_owed"].iloc[0])


def test_person_ids_and_birth_dates_are_masked_in_coverage_csv(scanned):
    text = (scanned[0] / "out" / "coverage.csv").read_text(encoding="utf-8-sig")
    coverage = read_csv(scanned[0] / "out" / "coverage.csv")
    people = coverage[coverage["entity_type"] == "person"]
    assert len(people) > 0 and people["entity_id"].str.fullmatch(r"\d{6}\*{8}[0-9X]{4}").all()
    assert ID_RE.search(text) is None
    residents = pd.read_csv(SAMPLE / "residents.csv", dtype=str)
    assert not any(pid in text for pid in residents["person_id"])
    births = [json.loads(e).get("birth_date") for e in coverage["evidence"]]
    assert any(births) and all(b is None or re.fullmatch(r"\d{4}-\*\*-\*\*", b) for b in births)
    assert not re.search(r"born \d{4}-\d{2}-\d{2}", text)


def test_unmasked_coverage_csv_names_the_residents(scanned, tmp_path):
    _, ws, rules, _ = scanned
    run("--workspace", ws, "scan", "--year", YEAR, "--out", tmp_path, "--rules", rules, "--no-outliers", "--unmask")
    coverage = read_csv(tmp_path / "coverage.csv")
    registered = set(pd.read_csv(SAMPLE / "residents.csv", dtype=str)["person_id"]) | set(
        pd.read_csv(SAMPLE / "disability_certificates.csv", dtype=str)["person_id"])
    people = coverage[coverage["entity_type"] == "person"]
    assert len(people) > 0 and set(people["entity_id"]) <= registered
    households = set(pd.read_csv(SAMPLE / "dibao_households.csv", dtype=str)["household_id"])
    assert set(coverage.loc[coverage["entity_type"] == "household", "entity_id"]) <= households


# ------------------------------------------------------------ the rates, computed here from the CSVs


def _key(d: pd.Series) -> pd.Series:
    """Dates as yyyymmdd numbers."""
    d = pd.to_datetime(d)
    return d.dt.year * 10000 + d.dt.month * 100 + d.dt.day


MONTH_KEYS = [YEAR * 10000 + n * 100 + 1 for n in range(1, 13)]
YEAR_END = pd.Timestamp(YEAR, 12, 31)


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False).replace("", None)


def _dead() -> set[str]:
    deaths = _csv("deaths")
    return set(deaths.loc[pd.to_datetime(deaths["death_date"]) <= YEAR_END, "person_id"])


def _payments(code: str) -> pd.DataFrame:
    pay = _csv("subsidy_payments")
    pay = pay[(pay["program_code"] == code) & pay["period"].str.startswith(str(YEAR))].copy()
    pay["n"] = pay["period"].str[5:7].astype(int)
    pay["amount"] = pay["amount"].astype(float)
    return pay.groupby(["person_id", "n"], as_index=False)["amount"].sum()


def _moves() -> pd.DataFrame:
    res = _csv("residents")
    res["moved"] = (res["status"] == "moved_out") | res["moved_out_date"].notna()
    res["moved_key"] = _key(res["moved_out_date"])
    return res.groupby("person_id").agg(birth=("birth_date", "min"), region=("region_code", "max"),
                                        moved=("moved", "max"), moved_key=("moved_key", "min"))


def elderly_by_hand() -> tuple[dict, dict]:
    """{person: township} of the eligible and of the missed, by the elderly allowance's defaults:
    80+ (tiers 100 / 200 / 500 yuan from 80 / 90 / 100), more than 62 days before the year end,
    alive, not moved out by the 80th birthday; missed: no ELDERLY payment in the year, or a
    payment below the month's tier."""
    people = _moves()
    people = people[~people.index.isin(_dead())]
    birth = pd.to_datetime(people["birth"])
    birthday = pd.to_datetime(dict(year=YEAR, month=birth.dt.month, day=1)) + pd.to_timedelta(birth.dt.day - 1, "D")
    age = YEAR - birth.dt.year
    people = people[(age > 80) | ((age == 80) & ((YEAR_END - birthday).dt.days > 62))]
    b = _key(people["birth"])
    people = people[~(people["moved"] & (people["moved_key"].isna() | (people["moved_key"] <= b + 800000)))]
    paid = _payments("ELDERLY")
    paid_month = {(p, n): a for p, n, a in paid.itertuples(index=False)}
    paid_people = set(paid.loc[paid["amount"] > 0, "person_id"])
    eligible, missed = {}, {}
    for pid, row in people.iterrows():
        bk = int(_key(pd.Series([row["birth"]])).iloc[0])
        due = [(n, 500 if k >= bk + 1000000 else 200 if k >= bk + 900000 else 100)
               for n, k in enumerate(MONTH_KEYS, start=1)
               if k >= bk + 800000 and not (row["moved"] and k >= row["moved_key"])]
        if not due:
            continue
        eligible[pid] = row["region"][:9]
        short = [rate for n, rate in due if 0 < paid_month.get((pid, n), 0) < rate]
        if pid not in paid_people or short:
            missed[pid] = row["region"][:9]
    return eligible, missed


def nursing_by_hand() -> tuple[dict, dict]:
    """The same for the severe-disability nursing subsidy: a grade 1-2 certificate issued more
    than 62 days before the year end, alive, not moved out by the issue date; a month is due from
    the issue date to the revocation or the move; missed: no NURSING or TWOSUB payment in the year."""
    certs = _csv("disability_certificates")
    certs = certs[certs["grade"].isin(["1", "2"]) & certs["issue_date"].notna()]
    certs = certs[(YEAR_END - pd.to_datetime(certs["issue_date"])).dt.days > 62]
    certs = certs[~certs["person_id"].isin(_dead())]
    moves = _moves()
    # TWOSUB pays both disability subsidies under one code: it covers the nursing subsidy too
    paid = set(pd.concat([_payments("NURSING"), _payments("TWOSUB")]).query("amount > 0")["person_id"])
    pay = _csv("subsidy_payments")
    paid_region = pay.dropna(subset=["region_code"]).groupby("person_id")["region_code"].max()
    eligible, missed = {}, {}
    for row in certs.itertuples(index=False):
        issue = int(_key(pd.Series([row.issue_date])).iloc[0])
        revoked = int(_key(pd.Series([row.revoked_date])).iloc[0]) if isinstance(row.revoked_date, str) else None
        moved, moved_key = (bool(moves.at[row.person_id, "moved"]), moves.at[row.person_id, "moved_key"]) \
            if row.person_id in moves.index else (False, None)
        moved_key = None if moved_key is None or pd.isna(moved_key) else int(moved_key)
        if moved and (moved_key is None or moved_key <= issue):
            continue
        due = [k for k in MONTH_KEYS if k >= issue and (revoked is None or k < revoked)
               and (moved_key is None or k < moved_key)]
        if not due:
            continue
        region = moves.at[row.person_id, "region"] if row.person_id in moves.index else paid_region.get(row.person_id)
        eligible[row.person_id] = region[:9] if isinstance(region, str) else ""
        if row.person_id not in paid:
            missed[row.person_id] = eligible[row.person_id]
    return eligible, missed


def _per_township(people: dict) -> pd.Series:
    return pd.Series(list(people.values()), dtype=object).value_counts().sort_index()


@pytest.mark.parametrize("rule_id, by_hand", [("coverage.elderly_allowance", elderly_by_hand),
                                              ("coverage.severe_disability_nursing", nursing_by_hand)])
def test_township_rates_equal_a_computation_from_the_input_files(scanned, rule_id, by_hand):
    rates = read_csv(scanned[0] / "out" / "coverage_rates.csv")
    rates = rates[rates["rule_id"] == rule_id].set_index("township")
    eligible, missed = by_hand()
    assert len(eligible) > len(missed) > 0 or len(eligible) == len(missed) > 0
    want_eligible, want_missed = _per_township(eligible), _per_township(missed)
    assert rates["eligible"].astype(int).sort_index().to_dict() == want_eligible.to_dict()
    got_missed = rates["missed"].astype(int)
    assert got_missed[got_missed > 0].sort_index().to_dict() == want_missed.to_dict()
    for township, n in want_eligible.items():
        paid = n - int(want_missed.get(township, 0))
        assert int(rates.at[township, "paid"]) == paid
        assert float(rates.at[township, "coverage_rate"]) == pytest.approx(paid / n, abs=1e-4)
    # the list names the same people the rates count as missed
    coverage = read_csv(scanned[0] / "out" / "coverage.csv")
    listed = coverage[coverage["rule_id"] == rule_id]
    assert listed["township"].value_counts().sort_index().to_dict() == want_missed.to_dict()


# ------------------------------------------------------------ outreach states


def test_outreach_state_survives_a_rescan_and_closes_the_task(scanned, tmp_path):
    _, ws, rules, _ = scanned
    before = read_csv(scanned[0] / "out" / "coverage.csv")
    first, second = before.iloc[0], before.iloc[1]
    run("--workspace", ws, "outreach", first["outreach_id"], "--status", "enrolled", "--note", "申请已受理",
        "--author", "town106")
    run("--workspace", ws, "outreach", second["outreach_id"], "--status", "reached", "--author", "town106")
    run("--workspace", ws, "scan", "--year", YEAR, "--out", tmp_path, "--rules", rules, "--no-outliers", "--rescan")
    after = read_csv(tmp_path / "coverage.csv").set_index("outreach_id")
    assert after.at[first["outreach_id"], "outreach_status"] == "enrolled"
    assert after.at[first["outreach_id"], "outreach_note"] == "申请已受理"
    assert after.at[second["outreach_id"], "outreach_status"] == "reached"
    assert after.at[first["outreach_id"], "entity_id"] == first["entity_id"]
    assert (after.drop(index=[first["outreach_id"], second["outreach_id"]])["outreach_status"] == "").all()
    # the township's open tasks: the enrolled one is done, the reached one still open
    listed = run("--workspace", ws, "outreach", "--township", first["township"], "--top", "100000").output
    assert first["outreach_id"] not in listed
    here = after[after["township"] == first["township"]]
    assert f"{int(here['outreach_status'].isin(['', 'reached']).sum())} open outreach task(s)" in listed
    assert "5226" in listed and not ID_RE.search(listed)


def test_open_tasks_by_township_for_the_workbench(scanned):
    import duckdb

    from fundwatch.coverage.outreach import open_tasks

    coverage = read_csv(scanned[0] / "out" / "coverage.csv")
    township = coverage["township"].iloc[-1]
    con = duckdb.connect(str(scanned[1]), read_only=True)
    try:
        tasks = open_tasks(con, township=township + "201")  # a village code is cut to its township
        everything = open_tasks(con)
    finally:
        con.close()
    assert len(tasks) > 0 and set(tasks["township"]) == {township}
    assert set(tasks["outreach_status"]) <= {"", "reached"}
    assert set(tasks["outreach_id"]) < set(everything["outreach_id"])
    assert list(tasks["rank"]) == sorted(tasks["rank"])


def test_an_unknown_outreach_id_or_state_is_refused(scanned, capsys):
    from fundwatch.cli import main

    ws = str(scanned[1])
    assert main(["--workspace", ws, "outreach", "O2023-000000000000", "--status", "enrolled"]) == 2
    assert "no coverage row 'O2023-000000000000'" in capsys.readouterr().err
    assert main(["--workspace", ws, "outreach", "O2023-000000000000", "--status", "done"]) == 2
    assert "'done' is not one of" in capsys.readouterr().err


# ------------------------------------------------------------ the workbook and the page


def test_workbook_sheets_and_page_section(scanned):
    out = scanned[0] / "out"
    coverage = read_csv(out / "coverage.csv")
    rates = read_csv(out / "coverage_rates.csv")
    wb = openpyxl.load_workbook(out / "cases.xlsx", read_only=True)
    try:
        sheet = list(wb["应享未享 coverage"].iter_rows(values_only=True))
        rate_sheet = list(wb["应享未享 townships"].iter_rows(values_only=True))
    finally:
        wb.close()
    assert len(sheet) == len(coverage) + 1 and sheet[0][2] == "Outreach ID"
    assert [r[2] for r in sheet[1:]] == list(coverage["outreach_id"])
    assert len(rate_sheet) == len(rates) + 1 and "Coverage rate" in rate_sheet[0]
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="coverage">'):]
    assert "data:image/png;base64," in section
    lowest = rates.assign(e=rates["eligible"].astype(int), p=rates["paid"].astype(int)).groupby("township")[
        ["e", "p"]].sum()
    worst = (lowest["p"] / lowest["e"]).idxmin()
    first_row = section[section.index("<tbody>"):].split("</tr>")[0]
    assert worst in first_row  # the township table opens with the lowest coverage
    assert coverage["outreach_id"].iloc[0] in section and not ID_RE.search(section)


# ------------------------------------------------------------ the rule file's declaration


def _rule_text(eligible: str, program_dir: str = "coverage") -> tuple[str, Path]:
    path = ROOT / "rules" / "coverage" / "severe_disability_nursing.yaml"
    text = without_eligible(path.read_text(encoding="utf-8")) + "eligible: |\n" + "".join(f"  {x}\n" for x in eligible.splitlines())
    return text, Path("rules") / program_dir / path.name


def test_eligible_is_checked_when_the_rule_file_is_read():
    text, path = _rule_text(own_eligible("severe_disability_nursing"))
    rule, _ = parse_rule_text(text, path)
    assert "SELECT d.person_id AS entity_id" in rule.eligible
    with pytest.raises(RuleError, match="eligible.*must return column\\(s\\) region_code"):
        parse_rule_text(_rule_text("SELECT person_id AS entity_id FROM due")[0], path)
    with pytest.raises(RuleError, match="eligible.*vehicles"):
        parse_rule_text(_rule_text("SELECT person_id AS entity_id, region_code FROM vehicles")[0], path)
    with pytest.raises(RuleError, match="eligible.*undeclared parameter"):
        parse_rule_text(_rule_text("SELECT person_id AS entity_id, '1' AS region_code FROM due "
                                   "WHERE n > :nowhere")[0], path)


def test_a_rule_without_eligible_is_listed_but_not_rated(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    nursing = rules / "coverage" / "severe_disability_nursing.yaml"
    nursing.write_text(without_eligible(nursing.read_text(encoding="utf-8")), encoding="utf-8")
    ws = tmp_path / "w.duckdb"
    printed = run("--workspace", ws, "scan", "--year", YEAR, "--data", SAMPLE, "--out", tmp_path / "out",
                  "--rules", rules, "--rule", "coverage.severe_disability_nursing", "--no-outliers").output
    coverage = read_csv(tmp_path / "out" / "coverage.csv")
    assert len(coverage) > 0 and read_csv(tmp_path / "out" / "coverage_rates.csv").empty
    run_json = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert run_json["coverage"]["coverage.severe_disability_nursing"]["eligible"] is None
    assert "lowest coverage" not in printed
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "No coverage rate: no coverage rule that ran declares its eligible population" in page
