"""The notebook API (fundwatch/notebook): explain a case, charts, display, the rule book.

One small hand-built county for 2023, loaded and scanned once for the module:

- STAFF works for the county government, is the spouse in dibao household H1 and the
  legal representative of cooperative COOP: one cross-programme case (dibao + cooperative).
- HEAD2 heads dibao household H2 and has owned a 250,000-yuan car since 2022.
- DEAD died in 2022 and was paid subsidies in 2023.
- TENANT leases T1, died in December 2022; rent was still charged in 2023.
- The household with the quote-and-semicolon id below owns an expensive car too: its id
  reaches every registry query, and must do so as a bound value.
"""

import dataclasses
import re

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fundwatch.errors import ConfigError, FundwatchError, RuleError
from fundwatch.notebook import (
    CaseExplanation,
    RuleBook,
    explain_case,
    masked,
    plot_overview,
    plot_rules,
    plot_scores,
    plot_townships,
    rule_status_counts,
    scan_result_html,
)
from fundwatch.rules import load_rules
from fundwatch.rules.catalogue import read_rule_file
from fundwatch.workspace import Workspace
from tests.conftest import make_code, make_id

STAFF, HEAD1, HEAD2, DEAD, TENANT, HEAD3, HEAD5 = (make_id(n) for n in (1, 2, 3, 4, 5, 6, 7))
COOP = make_code(1)
ACCOUNT = "6222021234567890123"
EVIL = "H5'); DROP TABLE vehicles; --"
REGION = "522631102204"


def masked_id(pid: str) -> str:
    return pid[:6] + "********" + pid[-4:]


def write_world(d):
    d.mkdir(parents=True, exist_ok=True)

    def csv(name, rows):
        pd.DataFrame(rows).to_csv(d / f"{name}.csv", index=False)

    households = [
        ("H1", HEAD1, REGION),
        ("H2", HEAD2, "522631103201"),
        ("H3", HEAD3, REGION),
        (EVIL, HEAD5, REGION),
    ]
    csv(
        "dibao_households",
        [
            {
                "household_id": h,
                "head_id": p,
                "region_code": r,
                "start_date": "2020-01-01",
                "household_size": 2,
                "declared_monthly_income": 100,
            }
            for h, p, r in households
        ],
    )
    csv(
        "dibao_members",
        [
            {
                "household_id": "H1",
                "person_id": HEAD1,
                "name": "<script>alert(1)</script>",
                "relation": "head",
            },
            {"household_id": "H1", "person_id": STAFF, "name": "王五", "relation": "spouse"},
            {"household_id": "H2", "person_id": HEAD2, "name": "李四", "relation": "head"},
            {"household_id": "H3", "person_id": HEAD3, "name": "赵六", "relation": "head"},
            {"household_id": EVIL, "person_id": HEAD5, "name": "钱七", "relation": "head"},
        ],
    )
    pays = [
        {
            "payment_id": f"P{i}-{y}-{m}",
            "household_id": h,
            "period": f"{y}-{m:02d}",
            "amount": 300,
            "pay_date": f"{y}-{m:02d}-10",
            "bank_account": ACCOUNT if h == "H1" else f"62220200000000{i}{m:02d}",
        }
        for i, (h, _, _) in enumerate(households)
        for y in (2022, 2023)
        for m in range(1, 13)
    ]
    csv("dibao_payments", pays)
    csv(
        "civil_servants",
        [
            {
                "person_id": STAFF,
                "name": "王五",
                "employer": "县财政局",
                "employer_type": "government",
                "position": "科员",
                "start_date": "2015-03-01",
                "monthly_salary": 6000,
            }
        ],
    )
    csv(
        "vehicles",
        [
            {
                "person_id": HEAD2,
                "plate_no": "贵A12345",
                "vehicle_type": "car",
                "registration_date": "2022-05-01",
                "purchase_price": 250000,
            },
            {
                "person_id": HEAD5,
                "plate_no": "贵A55555",
                "vehicle_type": "car",
                "registration_date": "2021-05-01",
                "purchase_price": 300000,
            },
        ],
    )
    csv(
        "deaths",
        [
            {"person_id": DEAD, "name": "孙八", "death_date": "2022-05-01"},
            {"person_id": TENANT, "name": "周九", "death_date": "2022-12-10"},
        ],
    )
    csv(
        "subsidy_payments",
        [
            {
                "payment_id": f"S{m}",
                "program_code": "GDZ",
                "program_name": "耕地地力保护补贴",
                "person_id": DEAD,
                "region_code": REGION,
                "period": f"2023-{m:02d}",
                "amount": 120,
                "pay_date": f"2023-{m:02d}-20",
            }
            for m in (3, 9)
        ],
    )
    csv(
        "housing_tenancies",
        [
            {
                "tenancy_id": "T1",
                "unit_id": "U1",
                "person_id": TENANT,
                "start_date": "2019-01-01",
                "household_size": 1,
                "monthly_rent": 200,
            }
        ],
    )
    csv(
        "housing_rent",
        [
            {
                "tenancy_id": "T1",
                "period": f"{y}-{m:02d}",
                "rent_due": 200,
                "rent_paid": 200,
                "paid_date": f"{y}-{m:02d}-05",
            }
            for y in (2022, 2023)
            for m in range(1, 13)
        ],
    )
    csv(
        "cooperatives",
        [
            {
                "coop_id": COOP,
                "name": "井上生猪养殖专业合作社",
                "region_code": REGION,
                "registered_date": "2018-01-01",
                "legal_rep_id": STAFF,
                "member_count_declared": 5,
            }
        ],
    )
    csv(
        "coop_members",
        [{"coop_id": COOP, "person_id": p, "join_date": "2018-02-01", "shares": 10} for p in (STAFF, HEAD3)],
    )


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    data = tmp_path_factory.mktemp("world")
    write_world(data)
    ws = Workspace()
    ws.load(data)
    result = ws.scan(year=2023)
    yield ws, result
    ws.close()


def case_of(result, entity_id, program=None) -> str:
    rows = result.cases[result.cases["entity_id"] == entity_id]
    if program:
        rows = rows[rows["program"] == program]
    assert len(rows) == 1, result.cases[["entity_type", "entity_id", "program", "rule_ids"]]
    return rows["case_id"].iloc[0]


# ------------------------------------------------------------------ explain


def test_cross_case_brings_every_registry_it_touched(scanned):
    ws, result = scanned
    exp = explain_case(ws, result, case_of(result, STAFF, "cross"))
    assert isinstance(exp, CaseExplanation) and exp.case["entity_type"] == "person"
    assert set(exp.hits["rule_id"]) == {"dibao.public_staff", "cooperative.official_legal_rep"}
    assert exp.hits["evidence"].map(lambda e: e["person_id"]).eq(STAFF).all()  # evidence parsed
    assert {
        "dibao_households",
        "dibao_members",
        "dibao_payments",
        "civil_servants",
        "cooperatives",
        "coop_members",
    } <= set(exp.registries)
    assert set(exp.involved["persons"]) == {STAFF, HEAD1}  # H1's members and the coop's legal rep
    # the coop's rows, not its members' lives
    assert set(exp.records["coop_members"]["person_id"]) == {STAFF, HEAD3}
    assert list(exp.records["civil_servants"]["person_id"]) == [STAFF]
    pays = exp.records["dibao_payments"]
    assert set(pays["household_id"]) == {"H1"} and len(pays) == 12  # the case's year only
    assert (pd.to_datetime(pays["period"]).dt.year == 2023).all()
    # nothing about the unrelated people
    assert "deaths" not in exp.records and "subsidy_payments" not in exp.records


def test_household_case_brings_its_members_vehicles(scanned):
    ws, result = scanned
    exp = explain_case(ws, result, case_of(result, "H2"))
    assert set(exp.hits["rule_id"]) >= {"dibao.vehicle"}
    hit = exp.hits[exp.hits["rule_id"] == "dibao.vehicle"].iloc[0]
    assert hit["evidence"]["plate_no"] == "贵A12345"
    assert list(exp.records["vehicles"]["person_id"]) == [HEAD2]
    assert set(exp.records["dibao_members"]["person_id"]) == {HEAD2}
    assert "civil_servants" not in exp.records


def test_tenancy_case_brings_the_lease_ledger_and_death(scanned):
    ws, result = scanned
    exp = explain_case(ws, result, case_of(result, "T1"))
    assert {"housing_tenancies", "housing_rent", "deaths"} <= set(exp.registries)
    assert len(exp.records["housing_rent"]) == 12
    assert list(exp.records["deaths"]["person_id"]) == [TENANT]
    assert exp.involved["units"] == ["U1"]


def test_cooperative_case_brings_its_legal_representative(scanned):
    ws, result = scanned
    # A cooperative case whose evidence names nobody (a shell, say): the legal rep is followed.
    case = result.cases.iloc[[0]].assign(
        case_id="C2023-feedfeedfeed", entity_type="cooperative", entity_id=COOP, program="cooperative"
    )
    hit = result.hits.iloc[[0]].assign(
        case_id="C2023-feedfeedfeed",
        rule_id="cooperative.shell",
        entity_type="cooperative",
        entity_id=COOP,
        evidence="{}",
    )
    alone = dataclasses.replace(result, cases=case, hits=hit)
    exp = explain_case(ws, alone, "C2023-feedfeedfeed")
    assert exp.involved["persons"] == [STAFF] and exp.involved["cooperatives"] == [COOP]
    assert list(exp.records["civil_servants"]["person_id"]) == [STAFF]
    assert set(exp.records["coop_members"]["person_id"]) == {STAFF, HEAD3}
    assert "vehicles" not in exp.records  # HEAD3 is a member, not followed
    assert f"cooperative {COOP}" in exp._repr_html_()  # a credit code is not masked


def test_shown_case_masks_ids_unless_unmasked(scanned):
    ws, result = scanned
    cid = case_of(result, STAFF, "cross")
    exp = explain_case(ws, result, cid)
    for text in (exp._repr_html_(), repr(exp)):
        assert STAFF not in text and HEAD1 not in text and ACCOUNT not in text
        assert masked_id(STAFF) in text
    assert ACCOUNT[-4:] in exp._repr_html_()
    assert COOP in exp._repr_html_() and REGION in exp._repr_html_()  # not personal: shown
    shown = explain_case(ws, result, cid, unmask=True)._repr_html_()
    assert STAFF in shown and ACCOUNT in shown
    assert exp.records["dibao_members"]["person_id"].isin([STAFF, HEAD1]).all()  # the data itself is real


def test_shown_case_escapes_html_from_the_data(scanned):
    ws, result = scanned
    html = explain_case(ws, result, case_of(result, STAFF, "cross"))._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_max_rows_cuts_a_table_and_says_so(scanned):
    ws, result = scanned
    exp = explain_case(ws, result, case_of(result, "H2"), max_rows=2)
    assert len(exp.records["dibao_payments"]) == 2 and exp.totals["dibao_payments"] == 12
    assert exp.truncated("dibao_payments") and not exp.truncated("vehicles")
    assert "12 rows, first 2 shown" in exp._repr_html_()


def test_unknown_case_id_is_a_clear_error(scanned):
    ws, result = scanned
    for source in (result, None):
        with pytest.raises(FundwatchError, match="no case 'C2023-000000000000'"):
            explain_case(ws, source, "C2023-000000000000")
    with pytest.raises(FundwatchError, match="case id"):
        explain_case(ws, result, None)


@pytest.mark.parametrize(
    "evil", ["' OR '1'='1", "C2023-x'); DROP TABLE fw_cases; --", "$1", "%s", '"; SELECT 1; --']
)
def test_injection_in_a_case_id_is_harmless(scanned, evil):
    ws, result = scanned
    before = ws.con.execute("SELECT count(*) FROM fw_cases").fetchone()[0]
    for source in (result, None):
        with pytest.raises(FundwatchError, match="no case"):
            explain_case(ws, source, evil)
    assert ws.con.execute("SELECT count(*) FROM fw_cases").fetchone()[0] == before > 0


def test_ids_from_the_data_reach_sql_only_as_bound_values(scanned):
    ws, result = scanned
    exp = explain_case(ws, result, case_of(result, EVIL))
    assert list(exp.records["dibao_households"]["household_id"]) == [EVIL]
    assert list(exp.records["vehicles"]["person_id"]) == [HEAD5]
    assert ws.con.execute("SELECT count(*) FROM vehicles").fetchone()[0] == 2


def test_explain_from_the_workspace_history_matches_the_result(scanned):
    ws, result = scanned
    cid = case_of(result, STAFF, "cross")
    from_result, from_ws = explain_case(ws, result, cid), explain_case(ws, None, cid)
    assert from_ws.registries == from_result.registries
    assert sorted(from_ws.hits["rule_id"]) == sorted(from_result.hits["rule_id"])
    assert from_ws.totals == from_result.totals


# ------------------------------------------------------------------ display


def test_scan_result_html_counts_rules_and_masks_top_cases(scanned):
    _, result = scanned
    counts = rule_status_counts(result)
    assert sum(counts.values()) == len(result.outcomes) and counts["found"] >= 4
    assert counts["skipped"] >= 1  # fund_allocations, utilities... are not loaded
    html = scan_result_html(result)
    assert result.run_id in html and f"{counts['found']} found" in html and "could not run" in html
    assert case_of(result, STAFF, "cross") in html
    assert STAFF not in html and masked_id(STAFF) in html
    assert STAFF in scan_result_html(result, unmask=True)


def test_masked_frame_keeps_non_personal_columns(scanned):
    _, result = scanned
    shown = masked(result.cases)
    assert list(result.cases["case_id"]) == list(shown["case_id"])
    assert list(result.cases["region_code"]) == list(shown["region_code"])
    assert STAFF not in shown.to_string() and masked_id(STAFF) in set(shown["entity_id"])
    # only a person's entity_id is personal: a credit code that looks like an ID stays readable
    mixed = masked(
        pd.DataFrame(
            {
                "entity_type": ["person", "cooperative"],
                "entity_id": [STAFF, COOP],
                "bank_account": [ACCOUNT, None],
            }
        )
    )
    assert list(mixed["entity_id"]) == [masked_id(STAFF), COOP]
    assert mixed["bank_account"][0] == "*" * 15 + ACCOUNT[-4:]


# ------------------------------------------------------------------ plots


def bars(ax):
    return [p for p in ax.patches if p.get_height() or p.get_width()]


def test_plots_return_figures_with_the_data(scanned):
    _, result = scanned
    n_cases = len(result.cases)
    figs = {f.__name__: f(result) for f in (plot_overview, plot_scores, plot_rules, plot_townships)}
    for name, fig in figs.items():
        assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg), name
        assert fig.axes, name
        assert fig._repr_png_().startswith(b"\x89PNG"), name

    ax_n = figs["plot_overview"].axes[0]
    assert len(figs["plot_overview"].axes) == 4
    assert sum(p.get_height() for p in ax_n.patches) == n_cases
    assert [t.get_text() for t in ax_n.get_xticklabels()] == sorted(
        result.cases["program"].unique(), key=["dibao", "subsidy", "housing", "cooperative", "cross"].index
    )

    assert sum(p.get_height() for p in figs["plot_scores"].axes[0].patches) == n_cases

    ax_r = figs["plot_rules"].axes[0]
    assert len(ax_r.patches) == len(result.outcomes)
    labels = {t.get_text() for t in ax_r.get_yticklabels()}
    assert labels == {o.rule_id for o in result.outcomes}

    ax_t = figs["plot_townships"].axes[0]
    townships = {t.get_text() for t in ax_t.get_yticklabels()}
    assert townships == set(result.cases["region_code"].dropna().str[:9])
    assert sum(p.get_width() for p in ax_t.patches) == result.cases["region_code"].notna().sum()


def test_plots_of_an_empty_result_say_so(scanned):
    _, result = scanned
    empty = type(result)(result.run_id, 2023, result.cases.iloc[0:0], result.hits.iloc[0:0], [], {})
    for f in (plot_overview, plot_scores, plot_rules, plot_townships):
        fig = f(empty)
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith("no ") for t in texts), f.__name__
    no_region = type(result)(
        result.run_id, 2023, result.cases.assign(region_code=None), result.hits, result.outcomes, {}
    )
    assert "region code" in plot_townships(no_region).axes[0].texts[0].get_text()


# ------------------------------------------------------------------ the rule book

RULE = """\
id: dibao.head_vehicle
title: {en: Household head owns a vehicle above the threshold, zh: 户主名下有高价车辆}
status: experimental
program: dibao
entity_type: household
level: high
description: The head of a dibao household owns a vehicle above price_threshold, registered before the month paid for.
basis: Households owning a vehicle beyond basic needs are not eligible.
falsepositives: [Vehicles registered in or after the month paid for do not count.]
inputs: [dibao_households, dibao_payments, vehicles]
params:
  price_threshold: {type: money, default: 200000, description: yuan}
matched_on: person_id
query: |
  WITH flagged AS (
    SELECT DISTINCT p.household_id, p.payment_id, p.amount, h.head_id
    FROM dibao_payments p
    JOIN dibao_households h ON h.household_id = p.household_id
    JOIN vehicles v ON v.person_id = h.head_id
    WHERE year(p.period) = :year AND v.purchase_price > :price_threshold
      AND year(p.period) * 12 + month(p.period) > year(v.registration_date) * 12 + month(v.registration_date)
  )
  SELECT household_id AS entity_id, :year AS year, sum(amount) AS amount_at_risk, count(*) AS payments,
         min(head_id) AS person_id
  FROM flagged GROUP BY household_id
summary:
  en: "Household {entity_id} was paid {amount_at_risk} yuan in {payments} payments while head {person_id} owned a car."
  zh: "低保户{entity_id}户主{person_id}有车期间领取{payments}笔共{amount_at_risk}元。"
tests:
  - name: head's car before the month paid
    year: 2023
    data:
      dibao_households:
        - {household_id: A, head_id: P1, region_code: "522631102204", start_date: 2020-01-01}
        - {household_id: B, head_id: P2, region_code: "522631102204", start_date: 2020-01-01}
      vehicles:
        - {person_id: P1, registration_date: 2023-01-15, purchase_price: 250000}
        - {person_id: P2, registration_date: 2023-01-15, purchase_price: 150000}
      dibao_payments:
        - {payment_id: 1, household_id: A, period: 2023-02, amount: 300}
        - {payment_id: 2, household_id: B, period: 2023-02, amount: 300}
    expect: [A]
    expect_not: [B]
"""

BROKEN = {
    "query": RULE.replace("v.purchase_price >", "v.purchase_prize >"),
    "level": RULE.replace("level: high", "level: severe"),
    "tests": RULE.replace("    expect_not: [B]\n", ""),
    "summary.en": RULE.replace("while head {person_id}", "while head {owner}"),
    "inputs": RULE.replace("inputs: [dibao_households,", "inputs: [dibao_household,"),
    "(yaml)": RULE.replace("level: high", "level: [high"),
}


@pytest.fixture(scope="module")
def book(scanned):
    return RuleBook(scanned[0])


def test_list_says_which_inputs_are_missing(book):
    frame = book.list()
    assert list(frame.columns) == [
        "id",
        "title",
        "program",
        "entity_type",
        "level",
        "status",
        "inputs_present",
        "missing_inputs",
    ]
    assert len(frame) == len(load_rules()) and frame["id"].is_unique
    rows = frame.set_index("id")
    assert rows.loc["dibao.public_staff", "inputs_present"]
    assert not rows.loc["subsidy.idle_allocation", "inputs_present"]
    assert "fund_allocations" in rows.loc["subsidy.idle_allocation", "missing_inputs"]
    assert "dibao.public_staff" in book._repr_html_()


def test_test_runs_the_embedded_tests(book, tmp_path):
    results = book.test(["dibao.vehicle"])
    assert list(results.columns) == ["rule_id", "test", "passed", "message"]
    assert len(results) == len(book["dibao.vehicle"].tests) and results["passed"].all()
    with pytest.raises(FundwatchError, match="unknown rule"):
        book.test(["dibao.no_such_rule"])
    # a folder with one broken file: the broken file is a failed row
    (tmp_path / "dibao").mkdir()
    (tmp_path / "dibao" / "head_vehicle.yaml").write_text(RULE, encoding="utf-8")
    (tmp_path / "dibao" / "typo.yaml").write_text(
        RULE.replace("dibao.head_vehicle", "dibao.typo").replace("level: high", "level: severe"),
        encoding="utf-8",
    )
    other = RuleBook(book.ws, rules_dir=tmp_path).test()
    assert other.set_index("test").loc["head's car before the month paid", "passed"]
    broken = other[~other["passed"]]
    assert len(broken) == 1 and "typo.yaml: level" in broken["message"].iloc[0]


def test_try_rule_runs_on_the_workspace_with_its_tests(book):
    tried = book.try_rule(RULE, 2023)
    assert tried.passed and list(tried.tests["passed"]) == [True]
    assert set(tried.hits["entity_id"]) == {"H2", EVIL}  # both heads' cars above 200,000
    h2 = tried.hits[tried.hits["entity_id"] == "H2"].iloc[0]
    # registered 2022-05: every 2023 month is after it
    assert h2["evidence"]["payments"] == 12 and h2["amount_at_risk"] == 3600
    stricter = book.try_rule(RULE, 2023, params={"price_threshold": 280000})
    assert set(stricter.hits["entity_id"]) == {EVIL}
    import yaml

    as_dict = book.try_rule(yaml.safe_load(RULE), 2023)  # a dict works too
    assert set(as_dict.hits["entity_id"]) == {"H2", EVIL}
    assert "dibao.head_vehicle" in repr(tried) and "found 2" in tried._repr_html_()
    with pytest.raises(ConfigError, match="price_limit"):
        book.try_rule(RULE, 2023, params={"price_limit": 1})


def test_try_rule_reports_a_broken_rule_with_its_field(book):
    for field, text in BROKEN.items():
        with pytest.raises(RuleError) as err:
            book.try_rule(text, 2023)
        assert err.value.field == field, (field, str(err.value))
        assert "rules/dibao/head_vehicle.yaml" in str(err.value)


def test_broken_rules_fail_as_their_files_would(book, tmp_path):
    path = tmp_path / "dibao" / "head_vehicle.yaml"
    path.parent.mkdir()
    for text in BROKEN.values():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(RuleError) as as_file:
            read_rule_file(path)
        with pytest.raises(RuleError) as in_notebook:
            book.validate(text, rules_dir=tmp_path)
        assert str(in_notebook.value) == str(as_file.value)


@pytest.mark.parametrize("rule_id", ["dibao.../../../tmp/x", "dibao.Head", "nowhere.x", "dibao", 7])
def test_a_rule_id_cannot_name_a_path_outside_the_folder(book, rule_id):
    with pytest.raises(RuleError) as err:
        book.validate(RULE.replace("id: dibao.head_vehicle", f"id: {rule_id}"))
    assert err.value.field == "id"


def test_try_rule_reports_a_query_that_fails_on_the_workspace(book):
    failing = RULE.replace("min(head_id) AS person_id", "CAST(min(head_id) AS INTEGER) AS person_id")
    with pytest.raises(RuleError) as err:
        book.try_rule(failing, 2023)
    assert err.value.field == "query" and "fails on the workspace" in str(err.value)


def test_save_writes_after_validation_and_tests_and_never_overwrites(book, tmp_path):
    path = book.save(RULE, rules_dir=tmp_path)
    assert path == tmp_path / "dibao" / "head_vehicle.yaml"
    assert path.read_text(encoding="utf-8") == RULE
    assert list(load_rules(tmp_path).rules) == ["dibao.head_vehicle"]
    changed = RULE.replace("level: high", "level: critical")
    with pytest.raises(FundwatchError, match="exists; pass overwrite=True"):
        book.save(changed, rules_dir=tmp_path)
    assert path.read_text(encoding="utf-8") == RULE
    book.save(changed, rules_dir=tmp_path, overwrite=True)
    assert load_rules(tmp_path)["dibao.head_vehicle"].level == "critical"
    assert [p.name for p in path.parent.iterdir()] == ["head_vehicle.yaml"]  # no temp file left


def test_save_refuses_a_broken_rule_or_failing_tests(book, tmp_path):
    with pytest.raises(RuleError) as err:
        book.save(BROKEN["query"], rules_dir=tmp_path)
    assert err.value.field == "query"
    failing = RULE.replace("expect: [A]", "expect: [A, B]").replace("expect_not: [B]", "expect_not: [C]")
    with pytest.raises(RuleError) as err:
        book.save(failing, rules_dir=tmp_path)
    assert err.value.field == "tests" and "expected but not flagged: B" in str(err.value)
    assert not any(tmp_path.rglob("*.yaml"))


def test_trying_a_rule_writes_nothing(book):
    before = sorted(p.name for p in book.rules_dir.rglob("*"))
    book.try_rule(RULE, 2023)
    assert sorted(p.name for p in book.rules_dir.rglob("*")) == before
    assert "dibao.head_vehicle" not in book.list()["id"].tolist()


def test_error_messages_name_no_sql_pasted_values(book):
    # the rule text is data: a quote in the YAML ends up as a field error, not a SQL error
    with pytest.raises(RuleError) as err:
        book.try_rule(RULE.replace("program: dibao", 'program: "dibao\'; --"'), 2023)
    assert err.value.field == "program"
    assert re.search(r"must be one of", str(err.value))


# ------------------------------------------------------------------ documentation


def test_every_public_function_has_a_docstring_with_an_example():
    import importlib
    import inspect
    import pkgutil

    import fundwatch.notebook as package

    missing = []
    # The notebook's modules, and the rule book they show (fundwatch/rules/book.py).
    names = [f"fundwatch.notebook.{info.name}" for info in pkgutil.iter_modules(package.__path__)]
    for module_name in [*names, "fundwatch.rules.book"]:
        module = importlib.import_module(module_name)
        short = module_name.rsplit(".", 1)[1]
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and ">>>" not in (obj.__doc__ or ""):
                missing.append(f"{short}.{name}")
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    func = member.fget if isinstance(member, property) else member
                    if (
                        attr.startswith("_")
                        or not callable(func)
                        or getattr(func, "__module__", None) != module.__name__
                    ):
                        continue
                    if ">>>" not in (func.__doc__ or ""):
                        missing.append(f"{short}.{name}.{attr}")
    assert not missing, f"no docstring with an example: {', '.join(missing)}"
    assert len(package.__all__) >= 10 and all(
        ">>>" in (getattr(package, n).__doc__ or "") for n in package.__all__
    )
