"""County B: a second synthetic county, independent of fundwatch_sample, with other conventions.

`generate(out_dir, scale, seed)` writes one file per contract table, `mapping.toml`,
`ground_truth.csv` and `county_facts.json` (the true parameters a calibration should recover).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import (
    enrol,
    export,
    facts,
    payments,
    plant_coop,
    plant_coverage,
    plant_dibao,
    plant_housing,
    plant_subsidy,
)
from .world import World, build_population

TRUTH_COLUMNS = ["truth_id", "kind", "scenario", "program", "entity_type", "entity_id", "year", "rule_id",
                 "description", "finding"]


def build(scale: float = 1.0, seed: int = 1) -> tuple[World, dict[str, list[dict]]]:
    w = World(scale, seed)
    build_population(w)
    enrol.build_dibao(w)
    enrol.build_registries(w)
    enrol.build_housing(w)
    enrol.build_coops(w)
    enrol.build_farms(w)
    for y in facts.YEARS:
        for module in (plant_dibao, plant_subsidy, plant_housing, plant_coop, plant_coverage):
            module.plant(w, y)
    enrol.add_normal_absences(w)
    plant_dibao.resolve_overrides(w)
    return w, tables(w)


def tables(w: World) -> dict[str, list[dict]]:
    t: dict[str, list[dict]] = {}
    people = sorted(w.people.values(), key=lambda p: (p["hukou_household_id"], p["birth_date"]))
    t["residents"] = people
    t["deaths"] = [{"person_id": p["person_id"], "name": p["name"], "death_date": p["death_date"]}
                   for p in people if p["death_date"] is not None]
    t["disability_certificates"] = w.certs
    t["civil_servants"] = w.staff
    t["vehicles"] = w.vehicles
    t["business_roles"] = w.roles
    t["properties"] = w.properties
    t["dibao_households"] = [{"household_id": h["household_id"], "head_id": e["head_id"], "region_code": h["region_code"],
                              "start_date": e["start"], "end_date": e["end"], "household_size": e["size"],
                              "declared_monthly_income": e["income"], "approved_by": e["approved_by"]}
                             for h in w.dibao for e in h["enrolments"]]
    t["dibao_members"] = [{"household_id": h["household_id"], "person_id": pid, "name": w.people[pid]["name"],
                           "relation": rel} for h in w.dibao for pid, rel in h["members"]]
    dp = payments.dibao_payments(w)
    for i, r in enumerate(dp):
        r["payment_id"] = f"{i + 1}"
    t["dibao_payments"] = dp
    sp = payments.subsidy_payments(w)
    for i, r in enumerate(sp):
        r["payment_id"] = f"GS{r['pay_date']:%Y%m%d}{i + 1:06d}"
    t["subsidy_payments"] = sp
    t["fund_allocations"] = payments.allocations(w, sp)
    t["housing_tenancies"], t["housing_members"], t["housing_rent"], t["housing_utilities"] = payments.housing(w)
    t["cooperatives"], t["coop_members"], t["coop_financials"], t["coop_dividends"] = payments.cooperatives(w)
    return t


def county_facts() -> dict:
    return {"county": "光山县", "area_code": "411522", "years": list(facts.YEARS),
            "dibao_standard": {str(y): v for y, v in facts.DIBAO_STANDARD.items()},
            "classified_allowance": facts.CLASSIFIED, "dibao_pay_day": facts.DIBAO_PAY_DAY,
            "programmes": {code: {k: ({str(a): b for a, b in v.items()} if isinstance(v, dict) else v)
                                  for k, v in p.items()} for code, p in facts.PROGRAMMES.items()},
            "normal_vacancy_months": facts.NORMAL_VACANCY_MONTHS,
            "water_read_every_months": facts.WATER_READ_EVERY_MONTHS,
            "vehicle_rule": "any non-exempt car (K3x) excludes a dibao household, whatever its price",
            "urban_villages": "village part 001-199", "rural_villages": "village part 200-399"}


def county_config() -> str:
    """county.toml: what the county's own setup says (which code is which programme, its rates and
    standards), extending the province's file; the coverage rules (应享未享) need it."""
    g, c = facts.PROGRAMMES["GLJT"]["monthly_rate_by_age"], facts.PROGRAMMES["CJHL"]["monthly_rate"]
    tiers = f'program_codes = ["GLJT"]\nbase_rate = {g["80"]}\nmid_rate = {g["90"]}\ntop_rate = {g["100"]}\n'
    lines = ['extends = ["province.toml"]', "", '[params."coverage.elderly_allowance"]', tiers,
             '[params."coverage.no_back_pay"]', tiers,
             '[params."coverage.severe_disability_nursing"]', 'program_codes = ["CJHL"]', "",
             '[params."coverage.disability_living"]', 'program_codes = ["CJSH"]  # the county pays no living subsidy', ""]
    for y in facts.YEARS:
        st = facts.DIBAO_STANDARD[y]
        lines += [f'[year.{y}.params."coverage.severe_disability_nursing"]',
                  f"grade1_rate = {c[y]}\ngrade2_rate = {c[y]}\n",
                  f'[year.{y}.params."coverage.dibao_under_standard"]',
                  f"urban_standard = {st['urban']}\nrural_standard = {st['rural']}\n"]
    return "\n".join(lines)


def generate(out_dir, scale: float = 1.0, seed: int = 1) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w, t = build(scale, seed)
    rng = np.random.default_rng(seed + 1000)
    for name in export.HEADERS:
        export.write_table(out, name, t[name], rng)
    export.write_mapping(out)
    # What the analyst knows from the province's text, not from the data: its dibao rules exclude
    # any non-exempt car. calibrate starts from this file (--config) and the proposal extends it.
    (out / "province.toml").write_text(f'extends = ["profile:{facts.VEHICLE_PROFILE}"]\n', encoding="utf-8")
    (out / "county.toml").write_text(county_config(), encoding="utf-8")
    truth = pd.DataFrame(w.truth)
    truth.insert(0, "truth_id", range(1, len(truth) + 1))
    truth[TRUTH_COLUMNS].to_csv(out / "ground_truth.csv", index=False, encoding="utf-8", lineterminator="\n")
    (out / "county_facts.json").write_text(json.dumps(county_facts(), ensure_ascii=False, indent=2, sort_keys=True),
                                           encoding="utf-8")
    return out
