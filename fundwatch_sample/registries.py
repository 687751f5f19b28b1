"""Background reference registries: staff, village cadres, deaths, vehicles, businesses, homes.

Who may appear where is decided by family kind (see people.py), so that none of these rows
makes a rule fire by accident:
- publicly funded staff come from OTHER families only; village cadres are FARM adults who
  are not cooperative legal representatives;
- deaths hit FARM/OTHER people of 60+ who are not staff, disabled-allowance recipients or
  cooperative members, and their subsidies stop after the month of death (subsidy.py);
- vehicles above 50 000 yuan, business roles and second homes belong to FARM/OTHER people;
  dibao and housing families own at most a cheap vehicle, and only dibao heads a single home.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fundwatch_sample.people import DIBAO, FARM, HEAD, HOUSING, OTHER, REF_DAY, age_on
from fundwatch_sample.util import OPEN, choice_idx, day, rand_day

EMPLOYERS = {
    "government": (
        "{town}人民政府", "黎平县财政局", "黎平县教育局", "黎平县民政局", "黎平县农业农村局",
        "黎平县卫生健康局", "黎平县公安局", "黎平县自然资源局",
    ),
    "institution": (
        "黎平县第一中学", "黎平县第二中学", "{town}中心小学", "{town}卫生院", "黎平县人民医院",
        "黎平县中医院", "黎平县职业技术学校",
    ),
    "soe": ("黎平县城市建设投资有限公司", "黎平县水务有限公司", "中国邮政集团黎平县分公司", "黎平县供电局"),
}  # fmt: skip
POSITIONS = {
    "government": ("科员", "办事员", "副科长", "科长", "副主任"),
    "institution": ("教师", "医生", "护士", "会计", "教师"),
    "soe": ("职员", "技术员", "经理"),
    "village_cadre": ("村党支部书记", "村委会主任", "村委会委员", "村务监督委员会主任", "村会计"),
}
SALARY = {  # monthly, yuan: (low, high)
    "government": (4200, 7600),
    "institution": (3800, 8200),
    "soe": (3500, 9000),
    "village_cadre": (1800, 3400),
}
VEHICLE_TYPES = ("小型轿车", "小型普通客车", "轻型普通货车", "小型越野客车")
CHEAP_VEHICLE_TYPES = ("普通二轮摩托车", "三轮汽车", "微型普通客车")
TRADES = ("百货", "五金", "农资", "餐饮", "建材", "茶叶", "超市", "汽修", "药店", "服装")
_PLATE_LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))


def _empty_civil() -> dict:
    return {k: [] for k in ("person", "employer", "employer_type", "position", "start", "end", "salary")}


def civil_servants(w) -> pd.DataFrame:
    """Publicly funded staff from OTHER families, plus two dibao approvers per township."""
    p, rng = w.people, w.rng
    age = age_on(p.birth.to_numpy(), REF_DAY)
    cand = np.flatnonzero((p.kind.to_numpy() == OTHER) & (age >= 24) & (age <= 58))
    sel = np.sort(rng.choice(cand, size=int(len(cand) * 0.16), replace=False))
    types = np.array(["government", "institution", "soe"])[choice_idx(rng, (0.35, 0.55, 0.10), len(sel))]
    rows = _staff_rows(w, sel, types)
    # Approvers of dibao applications: township civil-affairs staff (not drawn from `sel`).
    towns = w.villages.township.to_numpy()[p.village.to_numpy()]
    # Old enough to have served since before the oldest enrolment (2012).
    free = np.setdiff1d(cand[age[cand] >= 40], sel)
    approvers = []
    for t in range(int(towns.max()) + 1):  # one short loop per township
        here = free[towns[free] == t]
        approvers.append(np.sort(rng.choice(here, size=2, replace=False)))
    appr = np.concatenate(approvers)
    arows = _staff_rows(w, appr, np.full(len(appr), "government"))
    arows["position"] = np.where(np.arange(len(appr)) % 2 == 0, "民政所所长", "社会事务办工作人员")
    arows["employer"] = [f"{w.town_name(t)}人民政府" for t in towns[appr]]
    arows["end"] = OPEN  # approvers serve throughout
    arows["start"] = np.minimum(arows["start"], day(2010, 1, 1))
    w.approvers = appr.reshape(-1, 2)  # [township] -> two person indexes
    return pd.concat([rows, arows], ignore_index=True)


def _staff_rows(w, persons: np.ndarray, types: np.ndarray) -> pd.DataFrame:
    """One employment row per person with start/end dates and a salary by type."""
    rng, p = w.rng, w.people
    n = len(persons)
    birth = p.birth.to_numpy()[persons]
    start = np.minimum(birth + (rng.uniform(21.5, 30, n) * 365.25).astype(np.int64), day(2021, 9, 1))
    ended = rng.random(n) < 0.06
    end = np.where(ended, rand_day(rng, start + 730, day(2024, 12, 31)), OPEN)
    end = np.where(end <= start, OPEN, end)
    towns = w.villages.township.to_numpy()[p.village.to_numpy()[persons]]
    employer = [
        EMPLOYERS[t][i % len(EMPLOYERS[t])].format(town=w.town_name(tw))
        for t, i, tw in zip(types, rng.integers(0, 1000, n), towns, strict=True)
    ]
    position = [
        POSITIONS[t][i % len(POSITIONS[t])] for t, i in zip(types, rng.integers(0, 1000, n), strict=True)
    ]
    lo = np.array([SALARY[t][0] for t in types])
    hi = np.array([SALARY[t][1] for t in types])
    salary = (np.round(rng.uniform(lo, hi) / 10) * 1000).astype(np.int64)  # cents, whole tens
    return pd.DataFrame(
        {
            "person": persons, "employer": employer, "employer_type": types, "position": position,
            "start": start, "end": end, "salary": salary,
        }
    )  # fmt: skip


def village_cadres(w, exclude: np.ndarray) -> pd.DataFrame:
    """About three cadres per village from FARM adults; a fifth of rows are former cadres
    whose term ended at the 2021 election."""
    p, rng = w.people, w.rng
    age = age_on(p.birth.to_numpy(), REF_DAY)
    ok = (p.kind.to_numpy() == FARM) & (age >= 30) & (age <= 62) & (p.rel.to_numpy() == HEAD)
    ok[exclude] = False
    cand = np.flatnonzero(ok)
    n = min(len(cand), 3 * len(w.villages) + len(w.villages) // 2)
    sel = np.sort(rng.choice(cand, size=n, replace=False))
    former = rng.random(n) < 0.2
    start = np.where(
        former,
        rand_day(rng, day(2011, 4, 1), day(2016, 5, 1), n),
        rand_day(rng, day(2016, 4, 1), day(2021, 5, 31), n),
    )
    end = np.where(former, rand_day(rng, day(2021, 3, 1), day(2021, 5, 31), n), OPEN)
    towns = w.villages.township.to_numpy()[p.village.to_numpy()[sel]]
    vnames = w.villages.village_name.to_numpy()[p.village.to_numpy()[sel]]
    pos = np.array(POSITIONS["village_cadre"])[rng.integers(0, 5, n)]
    salary = (np.round(rng.uniform(*SALARY["village_cadre"], n) / 10) * 1000).astype(np.int64)
    return pd.DataFrame(
        {
            "person": sel,
            "employer": [f"{w.town_name(t)}{v}村民委员会" for t, v in zip(towns, vnames, strict=True)],
            "employer_type": "village_cadre", "position": pos, "start": start, "end": end, "salary": salary,
        }
    )  # fmt: skip


def background_deaths(w, exclude: np.ndarray) -> None:
    """Gompertz-like mortality 2019-2024 for FARM/OTHER people of 60+ (sets people.death).

    Staff, cooperative members and disability-allowance recipients are left alive; the
    subsidy bulk then stops paying anyone for periods after their death."""
    p, rng = w.people, w.rng
    birth = p.birth.to_numpy()
    age23 = age_on(birth, REF_DAY)
    ok = (age23 >= 60) & np.isin(p.kind.to_numpy(), (FARM, OTHER))
    ok[exclude] = False
    cand = np.flatnonzero(ok)
    death = np.full(len(cand), OPEN, dtype=np.int64)
    for y in range(2019, 2025):  # six yearly steps over the whole candidate vector
        alive = death == OPEN
        a = age23[cand] + (y - 2023)
        hazard = np.clip(0.009 * np.exp((a - 60) / 9.5), 0, 0.5)
        dies = alive & (rng.random(len(cand)) < hazard) & (a >= 60)
        death[dies] = rand_day(rng, day(y, 1, 1), day(y, 12, 31), int(dies.sum()))
    death = np.maximum(death, birth[cand] + 365)
    d = w.people.death.to_numpy().copy()
    d[cand] = death
    w.people["death"] = d


def vehicles(w) -> pd.DataFrame:
    """Cars and vans for FARM/OTHER adults; cheap ones only for dibao and housing families."""
    p, rng = w.people, w.rng
    age = age_on(p.birth.to_numpy(), REF_DAY)
    kind = p.kind.to_numpy()
    adult = (age >= 20) & (age <= 70) & (p.death.to_numpy() == OPEN)
    rich = np.flatnonzero(adult & np.isin(kind, (FARM, OTHER)) & (rng.random(len(p)) < 0.15))
    poor_pool = adult & (p.rel.to_numpy() == HEAD) & np.isin(kind, (DIBAO, HOUSING))
    poor = np.flatnonzero(poor_pool & (rng.random(len(p)) < 0.06))
    n1, n2 = len(rich), len(poor)
    price = np.concatenate(
        [
            np.clip(rng.lognormal(np.log(95_000), 0.55, n1), 18_000, 650_000),
            rng.uniform(6_000, 42_000, n2),  # motorbikes, tricycles, old vans
        ]
    )
    vtype = np.concatenate(
        [
            np.array(VEHICLE_TYPES)[rng.integers(0, 4, n1)],
            np.array(CHEAP_VEHICLE_TYPES)[rng.integers(0, 3, n2)],
        ]
    )
    vtype = np.where((price < 15_000), "普通二轮摩托车", vtype)
    reg = rand_day(rng, day(2008, 1, 1), day(2024, 11, 30), n1 + n2)
    dereg = np.where(rng.random(n1 + n2) < 0.1, reg + rng.integers(900, 3650, n1 + n2), OPEN)
    dereg = np.where(dereg > day(2024, 12, 31), OPEN, dereg)
    return pd.DataFrame(
        {
            "person": np.concatenate([rich, poor]), "vtype": vtype, "reg": reg, "dereg": dereg,
            "price": (np.round(price / 100) * 10_000).astype(np.int64),
        }
    )  # fmt: skip


def plate_numbers(n: int, rng) -> np.ndarray:
    """'贵H' + two letters + three digits, unique (up to 576 000 plates)."""
    from fundwatch_sample.ids import scramble

    idx = scramble(np.arange(n), 6, 271_828) % 576_000
    a, b, c = idx // 24_000, (idx // 1000) % 24, idx % 1000
    return np.char.add(
        np.char.add(np.char.add("贵H", _PLATE_LETTERS[a]), _PLATE_LETTERS[b]), np.char.zfill(c.astype(str), 3)
    )


def business_roles(w) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sole traders (type 2) and small companies (type 1) run by FARM/OTHER adults.

    Returns (entities, roles); roles.entity indexes entities.
    """
    p, rng = w.people, w.rng
    age = age_on(p.birth.to_numpy(), REF_DAY)
    ok = (age >= 25) & (age <= 65) & np.isin(p.kind.to_numpy(), (FARM, OTHER)) & (p.death.to_numpy() == OPEN)
    cand = np.flatnonzero(ok)
    reps = np.sort(rng.choice(cand, size=int(len(cand) * 0.045), replace=False))
    n = len(reps)
    company = rng.random(n) < 0.3
    start = rand_day(rng, day(2005, 1, 1), day(2024, 9, 30), n)
    end = np.where(rng.random(n) < 0.08, rand_day(rng, start + 365, day(2024, 12, 31)), OPEN)
    end = np.where(end <= start, OPEN, end)
    trade = np.array(TRADES)[rng.integers(0, len(TRADES), n)]
    names = np.asarray(
        pc.utf8_slice_codeunits(w.pname.take(pa.array(reps)), 0, 1).to_numpy(zero_copy_only=False)
    )
    towns = w.villages.township.to_numpy()[p.village.to_numpy()[reps]]
    ent_name = [
        f"黎平县{w.town_name(t)[:2]}{s}氏{tr}有限公司" if c else f"黎平县{w.town_name(t)}{s}记{tr}店"
        for c, s, tr, t in zip(company, names, trade, towns, strict=True)
    ]
    capital = np.where(company, rng.uniform(100_000, 5_000_000, n), rng.uniform(10_000, 200_000, n))
    entities = pd.DataFrame(
        {
            "etype": np.where(company, 1, 2), "name": ent_name,
            "capital": (np.round(capital / 1000) * 100_000).astype(np.int64),
        }
    )  # fmt: skip
    roles = pd.DataFrame(
        {"person": reps, "entity": np.arange(n), "role": "legal_rep", "start": start, "end": end}
    )
    # Companies have a partner or a manager or two from the same pool.
    ci = np.flatnonzero(company)
    k = rng.integers(0, 3, len(ci))
    owner = np.repeat(ci, k)
    others = rng.choice(np.setdiff1d(cand, reps), size=len(owner), replace=False)
    extra = pd.DataFrame(
        {
            "person": others, "entity": owner,
            "role": np.where(rng.random(len(owner)) < 0.6, "shareholder", "executive"),
            "start": start[owner], "end": end[owner],
        }
    )  # fmt: skip
    return entities, pd.concat([roles, extra], ignore_index=True)


def properties(w) -> pd.DataFrame:
    """Registered homes: most OTHER heads, half the FARM heads, a fifth of dibao heads."""
    p, rng = w.people, w.rng
    kind = p.kind.to_numpy()
    head = (p.rel.to_numpy() == HEAD) & (p.death.to_numpy() == OPEN)
    share = np.select([kind == OTHER, kind == FARM, kind == DIBAO], [0.78, 0.55, 0.22], 0.0)
    ok = head & (rng.random(len(p)) < share)
    owners = np.flatnonzero(ok)
    second = owners[(kind[owners] == OTHER) & (rng.random(len(owners)) < 0.14)]
    shop = owners[(kind[owners] == OTHER) & (rng.random(len(owners)) < 0.06)]
    person = np.concatenate([owners, second, shop])
    n = len(person)
    usage = np.array(["residential"] * (len(owners) + len(second)) + ["commercial"] * len(shop))
    rural = kind[person] != OTHER
    area = np.where(
        usage == "commercial",
        rng.uniform(30, 300, n),
        np.where(rural, rng.uniform(90, 220, n), rng.uniform(55, 160, n)),
    )
    reg = rand_day(rng, day(1998, 1, 1), day(2024, 10, 31), n)
    sold = (np.arange(n) >= len(owners)) & (rng.random(n) < 0.05)
    dereg = np.where(sold, rand_day(rng, reg + 365, day(2024, 12, 31)), OPEN)
    dereg = np.where(dereg <= reg, OPEN, dereg)
    return pd.DataFrame(
        {
            "person": person,
            "village": p.village.to_numpy()[person],
            "area": np.round(area, 2),
            "usage": usage,
            "reg": reg,
            "dereg": dereg,
        }
    )
