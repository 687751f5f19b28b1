"""Small synthetic programmes with planted outliers (for tests) and a large synthetic table
(for the throughput benchmark). Deterministic for a given seed.

`dibao_world()` and `subsidy_world()` return contract tables as DataFrames plus the ids of
the planted entities by kind; `insert()` puts them into a workspace.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from stdnum.cn import ric

from fundwatch.detect.peers import output_columns, relative, with_ctes
from fundwatch.detect.spec import Feature, FeatureSet, PeerLevel

COUNTY = "330122"


def resident_id(n: int, birth: dt.date, female: bool, county: str = COUNTY) -> str:
    """A valid 18-character resident ID: area, birth date, sequence (odd = male), check digit."""
    seq = (n % 500) * 2 + (0 if female else 1)
    body = f"{county}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _people(rng, n: int, start: int) -> list[str]:
    births = [dt.date(1940, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 60 * 365, n)]
    return [
        resident_id(start + i, b, bool(f))
        for i, (b, f) in enumerate(zip(births, rng.random(n) < 0.5, strict=True))
    ]


def dibao_world(n: int = 300, seed: int = 0, townships: int = 3, year: int = 2023, standard: int = 800):
    """Households paid every month of `year`, plus planted outliers.

    Planted: `amount` (monthly amount 5x the household's due), `backdated` (enrolled in January,
    paid six extra months of the year before), `size` (declared 5 people, 2 on the roster).
    """
    rng = np.random.default_rng(seed)
    hh_ids = [f"H{i:05d}" for i in range(n)]
    town = rng.integers(0, townships, n)
    size = rng.choice([1, 2, 3, 4, 5], n, p=[0.25, 0.3, 0.25, 0.12, 0.08])
    income = np.where(rng.random(n) < 0.25, 0, rng.uniform(0, 0.7 * standard, n)) * size
    monthly = np.floor(size * standard - income)
    planted = {
        k: list(v)
        for k, v in zip(
            ("amount", "backdated", "size"), np.split(rng.permutation(n)[:8], [3, 6]), strict=True
        )
    }
    size[planted["size"]] = 5
    monthly[planted["size"]] = 5 * standard
    monthly[planted["amount"]] *= 5
    start = np.array([dt.date(2015 + int(k), 1, 1) for k in rng.integers(0, 7, n)])
    start[planted["backdated"]] = dt.date(year, 1, 5)
    heads = _people(rng, n, 0)
    households = pd.DataFrame(
        {
            "household_id": hh_ids,
            "head_id": heads,
            "region_code": [
                f"{COUNTY}{101 + t:03d}{1 + v:03d}" for t, v in zip(town, rng.integers(0, 5, n), strict=True)
            ],
            "start_date": start,
            "household_size": size,
            "declared_monthly_income": np.round(income, 2),
        }
    )
    roster_size = size.copy()
    roster_size[planted["size"]] = 2
    members = []
    for h in range(n):
        others = _people(rng, int(roster_size[h]) - 1, 1000 + 10 * h)
        members += [(hh_ids[h], heads[h], "head")] + [(hh_ids[h], p, "child") for p in others]
    members = pd.DataFrame(members, columns=["household_id", "person_id", "relation"])
    rows = []
    for h in range(n):
        for m in range(1, 13):
            period = dt.date(year, m, 1)
            rows.append((hh_ids[h], period, monthly[h], period + dt.timedelta(days=int(rng.integers(3, 12)))))
        if h in planted["backdated"]:
            for m in range(7, 13):
                rows.append((hh_ids[h], dt.date(year - 1, m, 1), monthly[h], dt.date(year, 1, 15)))
    pay = pd.DataFrame(rows, columns=["household_id", "period", "amount", "pay_date"])
    pay.insert(0, "payment_id", [f"P{i:07d}" for i in range(len(pay))])
    pay["bank_account"] = "62170000" + pay["household_id"].str[1:]
    tables = {"dibao_households": households, "dibao_members": members, "dibao_payments": pay}
    return tables, {k: [hh_ids[i] for i in v] for k, v in planted.items()}


def subsidy_world(n: int = 600, seed: int = 0, townships: int = 3, year: int = 2023):
    """Farmland subsidy (quantity x rate) for everyone, hardship aid for a fifth, plus planted
    outliers: `hardship_6x` (one payment six times the township's norm) and `hardship_5x` (one-off
    aid paid five times in the year)."""
    rng = np.random.default_rng(seed)
    people = _people(rng, n, 0)
    town = rng.integers(0, townships, n)
    region = [f"{COUNTY}{101 + t:03d}001" for t in town]
    mu = np.round(rng.uniform(3, 9, townships)[town] * np.clip(rng.lognormal(0, 0.3, n), 0.45, 2.2), 2)
    rows = [
        (
            "FARMLAND",
            "耕地地力保护补贴",
            people[i],
            region[i],
            dt.date(year, 5, 1),
            round(mu[i] * 106.8, 2),
            mu[i],
            106.8,
        )
        for i in range(n)
    ]
    norm = rng.uniform(900, 1800, townships)
    aid = rng.permutation(n)[: n // 5]
    planted = {"hardship_6x": list(aid[:3]), "hardship_5x": list(aid[3:5])}
    for i in aid:
        amount = round(float(norm[town[i]] * np.clip(rng.lognormal(0, 0.3), 0.35, 2.4)), -1)
        months = [int(rng.integers(1, 12))]
        if i in planted["hardship_6x"]:
            amount = round(float(norm[town[i]] * 6), -1)
        if i in planted["hardship_5x"]:
            months = [2, 4, 6, 8, 10]
        for m in months:
            rows.append(
                ("HARDSHIP", "临时救助", people[i], region[i], dt.date(year, m, 1), amount, None, None)
            )
    # An age-banded allowance: its amounts must not make anyone look abnormal (trait-based programme).
    for i in rng.permutation(n)[: n // 10]:
        rows.append(
            (
                "ELDERLY",
                "高龄津贴",
                people[i],
                region[i],
                dt.date(year, 3, 1),
                float(rng.choice([100, 200, 500])),
                None,
                None,
            )
        )
    pay = pd.DataFrame(
        rows,
        columns=[
            "program_code",
            "program_name",
            "person_id",
            "region_code",
            "period",
            "amount",
            "basis_quantity",
            "unit_rate",
        ],
    )
    pay.insert(0, "payment_id", [f"S{i:07d}" for i in range(len(pay))])
    pay["bank_account"] = ["62280000" + p[-10:] for p in pay["person_id"]]
    return {"subsidy_payments": pay}, {k: [people[i] for i in v] for k, v in planted.items()}


def insert(engine, tables: dict[str, pd.DataFrame]) -> set[str]:
    """Append the frames to the workspace's contract tables; returns the table names."""
    for name, frame in tables.items():
        cols = ", ".join(frame.columns)
        with engine.registered("fw_synthetic_rows", frame):
            engine.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM fw_synthetic_rows")
    return set(tables)


# --- the large synthetic table of the throughput benchmark ------------------------------
LARGE_TABLE = "fw_synthetic_entities"
_LARGE_LEVELS = (
    PeerLevel("region", ("region",), "entities in region {0}", "区域{0}的对象"),
    PeerLevel("all", (), "all entities", "全部对象"),
)
_LARGE_FEATURES = (
    Feature("amount", "amount", "金额", "yuan", scale=0.1, log=True),
    Feature("periods", "periods", "期数", "count"),
    Feature("accounts", "accounts", "账户数", "count", levels=("all",)),
    Feature("gap_days", "days between payments", "发放间隔天数", "days", direction="both", scale=3.0),
)


def _large_sql(year, settings) -> str:
    ctes, name = relative("r_", LARGE_TABLE, _LARGE_LEVELS, _LARGE_FEATURES, settings.min_peer_group)
    return with_ctes(
        ctes,
        f"SELECT entity_id, greatest(amount - amount_med, 0) AS at_risk, "
        f"{', '.join(output_columns(_LARGE_FEATURES))} FROM {name}",
    )


LARGE_FEATURE_SET = FeatureSet(
    program="synthetic",
    entity_type="entity",
    noun_en="Entity",
    noun_zh="对象",
    requires=(LARGE_TABLE,),
    optional=(),
    features=_LARGE_FEATURES,
    levels=_LARGE_LEVELS,
    sql=_large_sql,
)


def make_large_table(engine, n: int, seed: int = 1, regions: int = 2000) -> None:
    """n entities with per-entity values drawn in DuckDB (no n-sized frame in Python)."""
    engine.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    engine.execute(f"""CREATE OR REPLACE TABLE {LARGE_TABLE} AS
SELECT 'E' || lpad(CAST(i AS VARCHAR), 9, '0') AS entity_id, CAST(i % {int(regions)} AS VARCHAR) AS region,
       round(800 * (1 + (i % 7)) * exp(0.3 * (random() + random() + random() - 1.5)), 2) AS amount,
       CAST(CASE WHEN random() < 0.001 THEN 13 + floor(random() * 6) ELSE 12 END AS DOUBLE) AS periods,
       CAST(CASE WHEN random() < 0.002 THEN 2 ELSE 1 END AS DOUBLE) AS accounts,
       30 + floor(random() * 6) - 3 AS gap_days
FROM range({int(n)}) t(i)""")


def make_large_dibao(engine, households: int, year: int = 2023, plant_every: int = 50_000) -> dict[str, list]:
    """A dibao programme of `households` paid monthly, built in SQL; returns the planted ids.

    Every `plant_every`-th household (offset 1) is paid five times its amount, and every
    one at offset 2 is enrolled in January and paid six back-dated months of the year before.
    """
    n, y = int(households), int(year)
    engine.execute(f"""INSERT INTO dibao_households (household_id, head_id, region_code, start_date, household_size)
SELECT 'H' || lpad(CAST(i AS VARCHAR), 9, '0'), 'P' || lpad(CAST(i AS VARCHAR), 17, '0'),
       '{COUNTY}' || CAST(101 + i % 400 AS VARCHAR) || '001',
       CASE WHEN i % {plant_every} = 2 THEN DATE '{y}-01-05' ELSE DATE '2015-01-01' END, 1 + (i * 7) % 5
FROM range({n}) t(i)""")
    engine.execute("""INSERT INTO dibao_members (household_id, person_id)
SELECT h.household_id, h.household_id || '-' || CAST(k AS VARCHAR)
FROM dibao_households h CROSS JOIN range(5) r(k) WHERE k < h.household_size""")
    engine.execute(f"""INSERT INTO dibao_payments (payment_id, household_id, period, amount, pay_date, bank_account)
SELECT h.household_id || '-' || CAST(k AS VARCHAR), h.household_id, p.period,
       CAST(h.household_size * (800 - (hash(h.household_id) % 400)) * CASE WHEN i % {plant_every} = 1 THEN 5 ELSE 1 END
            AS DECIMAL(18, 2)),
       CASE WHEN k < 0 THEN DATE '{y}-01-15' ELSE p.period + 5 END, '6217' || substr(h.household_id, 2)
FROM (SELECT *, CAST(substr(household_id, 2) AS BIGINT) AS i FROM dibao_households) h
CROSS JOIN range(-6, 12) r(k)
CROSS JOIN LATERAL (SELECT CAST(DATE '{y}-01-01' + to_months(CAST(k AS INTEGER)) AS DATE) AS period) p
WHERE k >= 0 OR i % {plant_every} = 2""")
    ids = engine.query(f"""SELECT household_id, CAST(substr(household_id, 2) AS BIGINT) % {plant_every} AS kind
FROM dibao_households WHERE CAST(substr(household_id, 2) AS BIGINT) % {plant_every} IN (1, 2)""")
    return {
        "amount": ids.loc[ids["kind"] == 1, "household_id"].tolist(),
        "backdated": ids.loc[ids["kind"] == 2, "household_id"].tolist(),
    }
