"""Cooperative anomalies and look-alikes."""

from __future__ import annotations

from datetime import date

from . import enrol
from .pick import coop
from .world import World

P = "cooperative"


def plant(w: World, y: int) -> None:
    cid = "cooperative"
    # A member dead before the fiscal year still paid / one who died during it (settled with heirs).
    for kind, death in (("anomaly", date(y - 1, 8, 3)), ("lookalike", date(y, 7, 19))):
        c = coop(w, y)
        w.people[c["members"][-1]["person_id"]]["death_date"] = death
        if kind == "anomaly":
            c["pay_dead_year"] = y
        w.record(kind, "dividend_to_dead_member" if kind == "anomaly" else "member_died_in_year", P, cid,
                 c["coop_id"], y, "cooperative.deceased_member", f"A member who died on {death} is paid the {y} dividend.")
    # Dissolved right after its subsidy / three years after.
    c = coop(w, y)
    c["fin"][y]["subsidies_received"] = 150000
    c["dissolved_date"] = date(y, 11, 20)
    w.record("anomaly", "closed_after_subsidy", P, cid, c["coop_id"], y, "cooperative.dissolved_after_subsidy",
             f"Received 150,000 yuan of subsidies in {y} and was dissolved in November.")
    c = coop(w, y)
    for yy in c["fin"]:
        c["fin"][yy]["subsidies_received"] = 0
    c["fin"][2021]["subsidies_received"] = 30000
    c["dissolved_date"] = date(y, 9, 1) if y >= 2024 else None
    if c["dissolved_date"] is not None:
        w.record("lookalike", "closed_years_after_subsidy", P, cid, c["coop_id"], y,
                 "cooperative.dissolved_after_subsidy", "Dissolved three years after its last subsidy.")
    # Dividends above the surplus / a surplus split with cent rounding.
    c = coop(w, y)
    f = c["fin"][y]
    f["dividend_pool"] = (f["revenue"] - f["cost"]) * 1.8
    w.record("anomaly", "dividends_exceed_surplus", P, cid, c["coop_id"], y, "cooperative.dividend_over_surplus",
             "Paid out 1.8 times the year's surplus as dividends.")
    c = coop(w, y)
    c["fin"][y]["dividend_share"] = 1.0
    w.record("lookalike", "whole_surplus_paid", P, cid, c["coop_id"], y, "cooperative.dividend_over_surplus",
             "Paid out exactly its surplus, split by shares (cent rounding).")
    # Legal representative in a public post / a post that ended before the year.
    # The post starts after the previous year's dividends are paid (March), so the year it is planted
    # in is the only one in which the representative was in office.
    for kind, start, end in (("anomaly", date(y, 4, 1), date(y, 12, 31)), ("lookalike", date(2010, 1, 1), date(y - 2, 6, 30))):
        c = coop(w, y)
        rep = w.people[c["legal_rep_id"]]
        w.staff.append(enrol.staff_row(w, rep, "光山县林业局", "government", "技术员", start, end, 5100))
        w.record(kind, "official_runs_coop" if kind == "anomaly" else "post_ended_before", P, cid, c["coop_id"], y,
                 "cooperative.official_legal_rep", "The legal representative is (was) on the public payroll.")
    # Public staff member paid a dividend / a village cadre member (legitimate here).
    for kind, typ in (("anomaly", "institution"), ("lookalike", "village_cadre")):
        c = coop(w, y)
        m = w.people[c["members"][1]["person_id"]]
        w.staff.append(enrol.staff_row(w, m, "光山县中医院" if typ == "institution" else f"{m['region_code']}村委会",
                                       typ, "医生" if typ == "institution" else "村委委员", date(y, 6, 1), date(y + 1, 6, 30), 6200))
        w.record(kind, f"{typ}_member_paid", P, cid, c["coop_id"], y, "cooperative.public_staff_member",
                 f"A member employed as {typ} receives the {y} dividend.")
    # Shell: no revenue and no cost but subsidies / an orchard with costs and no sales yet.
    for kind, cost in (("anomaly", 0), ("lookalike", 86000)):
        c = coop(w, y)
        c["fin"][y].update(revenue=0, cost=cost, subsidies_received=60000, dividend_share=0)
        w.record(kind, "shell_with_subsidy" if kind == "anomaly" else "orchard_not_bearing", P, cid, c["coop_id"], y,
                 "cooperative.shell", f"Revenue 0, cost {cost}, subsidies 60,000 in {y}.")
    # Equal dividends whatever the shares / equal shares equal dividends.
    c = coop(w, y)
    c["fin"][y]["equal_amount"] = 1200.0
    w.record("anomaly", "per_head_payout_list", P, cid, c["coop_id"], y, "cooperative.uniform_dividends",
             "Every member received 1,200 yuan although their shares differ.")
    c = coop(w, y)
    for m in c["members"]:
        m["shares"] = 5
    w.record("lookalike", "equal_shares", P, cid, c["coop_id"], y, "cooperative.uniform_dividends",
             "All members hold five shares and receive equal dividends.")
