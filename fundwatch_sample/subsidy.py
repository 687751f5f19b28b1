"""Subsidies and hardship aid: five programmes, their disbursing agencies and allocations.

- FARMLAND 耕地地力保护补贴: yearly May batch to FARM heads, contracted mu x yuan per mu;
- GRAIN 实际种粮农民一次性补贴: yearly September batch to grain growers, sown mu x rate;
- ELDERLY 高龄津贴: to every resident of 80+ (100/200/500 yuan a month by age band on the
  month's first day), from the month after the first due month, in quarterly batches in arrears
  (March, June, September, December);
- DISABLED 困难残疾人生活补贴: quarterly batches (Jan/Apr/Jul/Oct), 3 months x monthly rate, to
  the disabled-allowance pool; and monthly, for each month its household is paid dibao, to
  every dibao member holding a valid certificate (fundwatch_sample/certificates.py);
- NURSING 重度残疾人护理补贴: to every holder of a grade 1-2 certificate, from the second month
  after its issue until the month before its revocation, in quarterly batches in arrears;
- HARDSHIP 临时救助: one-off aid approved by the township civil-affairs office.

Whoever meets a programme's criteria is paid (the coverage rules, rules/coverage/, find nobody
in the background); fundwatch_sample/plant_coverage.py withholds payments with `w.withheld`.

Every row is approved at most 25 days before it is paid, nobody is paid for a period that
begins after their death, and each agency's allocations are drawn down within the quarter,
so the background stays inside every rule's thresholds. Scenarios add rows through
`w.extra["subsidy_payments"]` and take their people out of the bulk with `w.skip`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample.people import FARM, HEAD, OTHER, REF_DAY, age_on
from fundwatch_sample.util import FIRST_MONTH, LAST_MONTH, NA, OPEN, YEARS, day, mi, month_of, month_start

PROGRAMS = {  # code: (name, agency kind)
    "FARMLAND": ("耕地地力保护补贴", "NYJ"),
    "GRAIN": ("实际种粮农民一次性补贴", "NYJ"),
    "ELDERLY": ("高龄津贴", "MZJ"),
    "DISABLED": ("困难残疾人生活补贴", "CLW"),
    "HARDSHIP": ("临时救助", "MZB"),
    "FLOOD": ("防汛救灾补助", "MZB"),  # only in idle-allocation scenarios
    "NURSING": ("重度残疾人护理补贴", "CLW"),
    "TWOSUB": ("残疾人两项补贴", "CLW"),  # the two disability subsidies under one code: coverage look-alikes only
}
PROGRAM_CODES = tuple(PROGRAMS)
P = {c: i for i, c in enumerate(PROGRAM_CODES)}
FARMLAND_RATE = {2022: 10450, 2023: 10680, 2024: 10790}  # cents per mu
GRAIN_RATE = {2022: 1830, 2023: 1560, 2024: 1420}
ELDERLY_BANDS = ((100, 50_000), (90, 20_000), (80, 10_000))  # (age from, cents per month)
DISABLED_RATE = {1: 11_000, 2: 8_000}  # cents per month by level
LIVING_RATE = 8_000  # cents per month, dibao members with a certificate of any grade
NURSING_RATE = {1: 10_000, 2: 8_000}  # cents per month by grade (the coverage rule's defaults)
COLUMNS = (
    "prog",
    "person",
    "month",
    "amount",
    "basis",
    "rate",
    "apply",
    "approve",
    "pay",
    "acct",
    "agency",
    "planted",
)


def agencies(w) -> list[str]:
    """County bureaus first, then one civil-affairs office per township."""
    county = ["NYJ522631", "MZJ522631", "CLW522631"]
    towns = [f"MZB522631{101 + t:03d}" for t in range(w.n_townships)]
    return county + towns


def agency_of(w, prog: str, village) -> np.ndarray:
    kind = PROGRAMS[prog][1]
    if kind == "MZB":
        return 3 + w.villages.township.to_numpy()[np.asarray(village)]
    return np.full(np.shape(village), ("NYJ", "MZJ", "CLW").index(kind))


def setup(w) -> None:
    """Decide who is in which programme (before scenarios pick people)."""
    p, rng = w.people, w.rng
    kind, rel = p.kind.to_numpy(), p.rel.to_numpy()
    heads = np.flatnonzero((kind == FARM) & (rel == HEAD))
    village = p.village.to_numpy()[heads]
    base = rng.uniform(3.5, 9.0, len(w.villages))  # typical contracted mu per village
    factor = np.clip(rng.lognormal(0, 0.3, len(heads)), 0.45, 2.2)
    basis = np.round(base[village] * factor, 2)
    grain = rng.random(len(heads)) < 0.55
    w.farmers = pd.DataFrame(
        {
            "person": heads,
            "village": village,
            "basis": basis,
            "grain": np.where(grain, np.round(basis * rng.uniform(0.5, 1.0, len(heads)), 2), 0.0),
        }
    )
    age = age_on(p.birth.to_numpy(), REF_DAY)
    pool = np.isin(kind, (FARM, OTHER))
    w.elderly = np.flatnonzero(age >= 78)  # every resident who turns 80 by 2024 at the latest
    dis = np.flatnonzero(pool & (rel != HEAD) & (age >= 5) & (age <= 59) & (rng.random(len(p)) < 0.015))
    w.disabled = pd.DataFrame(
        {"person": dis, "level": np.where(rng.random(len(dis)) < 0.4, 1, 2),
         "from_month": np.where(rng.random(len(dis)) < 0.8, FIRST_MONTH, rng.integers(FIRST_MONTH, LAST_MONTH - 3, len(dis)))}
    )  # fmt: skip
    from fundwatch_sample import certificates

    w.certs = certificates.make(w)
    w.withheld = []  # (programme code, person, first month, last month): bulk rows left out
    w.township_norm = np.round(rng.uniform(900, 1800, w.n_townships), -1)  # yuan
    w.hardship = _hardship(w)


def _hardship(w) -> pd.DataFrame:
    """About 2% of FARM/OTHER heads a year, one payment each, never in December mostly."""
    p, rng = w.people, w.rng
    pool = np.flatnonzero(np.isin(p.kind.to_numpy(), (FARM, OTHER)) & (p.rel.to_numpy() == HEAD))
    frames = []
    for y in YEARS:  # three years
        who = np.sort(rng.choice(pool, size=int(len(pool) * 0.02), replace=False))
        n = len(who)
        month = mi(y, 1) + rng.choice(12, size=n, p=np.r_[np.full(11, 1.0), 0.5] / 11.5)
        town = w.villages.township.to_numpy()[p.village.to_numpy()[who]]
        amount = np.clip(rng.lognormal(0, 0.3, n), 0.35, 2.4) * w.township_norm[town]
        amount = np.maximum(np.round(amount, -1), 200)
        pay = month_start(month) + rng.integers(3, 26, n)
        approve = pay - rng.integers(2, 21, n)
        apply = approve - rng.integers(3, 26, n)
        frames.append(
            pd.DataFrame(
                {
                    "prog": P["HARDSHIP"],
                    "person": who,
                    "month": month,
                    "amount": (amount * 100).astype(np.int64),
                    "basis": np.nan,
                    "rate": -1,
                    "apply": apply,
                    "approve": approve,
                    "pay": pay,
                    "acct": who,
                    "agency": 3 + town,
                    "planted": False,
                }
            )  # fmt: skip
        )
    h = pd.concat(frames, ignore_index=True)
    # Keep each township's December share well below the year-end-spike threshold.
    h["year"] = h.month // 12
    dec = (h.month % 12) == 11
    tot = h.groupby(["agency", "year"]).amount.transform("sum")
    dec_tot = h.amount.where(dec, 0).groupby([h.agency, h.year]).transform("sum")
    move = dec & (dec_tot > 0.2 * tot)
    h.loc[move, ["month", "pay", "approve", "apply"]] = h.loc[
        move, ["month", "pay", "approve", "apply"]
    ].to_numpy() - [1, 30, 30, 30]
    return h.drop(columns="year")


def _farm_rows(w, prog: str) -> pd.DataFrame:
    f = w.farmers[~w.farmers.person.isin(w.skip[prog])]
    if prog == "GRAIN":
        f = f[f.grain > 0]
    rng, n = w.rng, len(f)
    rows = []
    for y in YEARS:  # three yearly batches
        rate = (FARMLAND_RATE if prog == "FARMLAND" else GRAIN_RATE)[y]
        basis = (f.basis if prog == "FARMLAND" else f.grain).to_numpy()
        month = mi(y, 5 if prog == "FARMLAND" else 9)
        pay = month_start(month) + rng.integers(5, 19, n)
        approve = pay - rng.integers(5, 26, n)
        apply = approve - rng.integers(20, 45, n)
        rows.append(
            pd.DataFrame(
                {
                    "prog": P[prog],
                    "person": f.person.to_numpy(),
                    "month": month,
                    "amount": entitlement(basis, rate),
                    "basis": basis,
                    "rate": rate,
                    "apply": apply,
                    "approve": approve,
                    "pay": pay,
                    "acct": f.person.to_numpy(),
                    "agency": 0,
                    "planted": False,
                }
            )  # fmt: skip
        )
    return pd.concat(rows, ignore_index=True)


def entitlement(basis, rate_cents) -> np.ndarray:
    """basis x rate in cents, rounded down so that it never exceeds the exact product."""
    hundredths = np.round(np.asarray(basis) * 100).astype(np.int64)
    return (hundredths * np.asarray(rate_cents) // 100).astype(np.int64)


def elderly_rate(age) -> np.ndarray:
    age = np.asarray(age)
    return np.select([age >= a for a, _ in ELDERLY_BANDS], [c for _, c in ELDERLY_BANDS], 0)


def date_key(d) -> np.ndarray:
    """yyyymmdd numbers of day numbers: the a-th birthday of birth b is date_key(b) + a * 10000."""
    dt = np.asarray(d, dtype=np.int64).astype("datetime64[D]")
    months = dt.astype("datetime64[M]")
    y = months.astype("datetime64[Y]").astype(np.int64) + 1970
    m = months.astype(np.int64) % 12 + 1
    return y * 10000 + m * 100 + (dt - months.astype("datetime64[D]")).astype(np.int64) + 1


def age_at_month(birth, month) -> np.ndarray:
    """Whole years of age on the first day of month index `month` (calendar exact, as the rules count)."""
    month = np.asarray(month, dtype=np.int64)
    key = (month // 12) * 10000 + (month % 12 + 1) * 100 + 1
    b = date_key(birth)
    return (key - b) // 10000


def elderly_rate_at(birth, month) -> np.ndarray:
    """Cents due for month index `month` to a person born on day `birth` (0 under 80)."""
    return elderly_rate(age_at_month(birth, month))


def birthday_month(birth, age: int) -> np.ndarray:
    """Month index of the age-th birthday."""
    b = date_key(birth)
    return (b // 10000 + age) * 12 + (b // 100) % 100 - 1


def first_due_month(birth, age: int) -> np.ndarray:
    """The first month that begins on or after the age-th birthday (the rules' first due month)."""
    return birthday_month(birth, age) + (date_key(birth) % 100 != 1)


def quarterly(rows: pd.DataFrame, rng) -> pd.DataFrame:
    """Monthly rows paid in arrears as quarterly batches (March, June, September, December): one
    row per person and quarter, the months' amounts and basis added up."""
    q = rows.assign(month=(rows.month.to_numpy() // 3) * 3 + 2)
    g = q.groupby(["prog", "person", "month"], sort=True, as_index=False).agg(
        amount=("amount", "sum"), basis=("basis", "sum"), rate=("rate", "last"), apply=("apply", "min"))
    approve = month_start(g.month.to_numpy()) + rng.integers(0, 4, len(g))
    return g.assign(approve=approve, pay=approve + rng.integers(4, 16, len(g)), acct=g.person, agency=rows.agency.iat[0] if len(rows) else 0,
                    planted=False)  # fmt: skip


def _elderly_rows(w) -> pd.DataFrame:
    """Quarterly batches in arrears of the monthly allowance, due from the first month after the
    80th birthday (the month itself when the birthday is its first day) and paid from the month after."""
    p, rng = w.people, w.rng
    who = np.setdiff1d(w.elderly, np.fromiter(w.skip["ELDERLY"], dtype=np.int64))
    birth = p.birth.to_numpy()[who]
    first = np.maximum(first_due_month(birth, 80) + 1, FIRST_MONTH)  # applied, approved, then paid
    counts = np.maximum(LAST_MONTH - first + 1, 0)
    i = np.repeat(np.arange(len(who)), counts)
    month = first[i] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    person = who[i]
    amount = elderly_rate_at(birth[i], month)
    monthly = pd.DataFrame(
        {"prog": P["ELDERLY"], "person": person, "month": month, "amount": amount, "basis": np.nan, "rate": -1,
         "apply": month_start(first_due_month(birth, 80))[i] + 12, "agency": 1}
    )  # fmt: skip
    return quarterly(monthly, rng).assign(basis=np.nan, rate=-1)


def _disabled_rows(w) -> pd.DataFrame:
    d = w.disabled[~w.disabled.person.isin(w.skip["DISABLED"])]
    quarters = np.array([mi(y, m) for y in YEARS for m in (1, 4, 7, 10)])
    i = np.repeat(np.arange(len(d)), len(quarters))
    month = np.tile(quarters, len(d))
    keep = month >= d.from_month.to_numpy()[i]
    i, month = i[keep], month[keep]
    rng = w.rng
    rate = np.vectorize(DISABLED_RATE.get)(d.level.to_numpy()[i]) if len(i) else np.zeros(0, np.int64)
    approve = month_start(month) + rng.integers(0, 6, len(i))
    person = d.person.to_numpy()[i]
    return pd.DataFrame(
        {"prog": P["DISABLED"], "person": person, "month": month, "amount": 3 * rate, "basis": 3.0, "rate": rate,
         "apply": month_start(d.from_month.to_numpy()[i]) - 40, "approve": approve, "pay": approve + rng.integers(5, 20, len(i)),
         "acct": person, "agency": 2, "planted": False}
    )  # fmt: skip


def _withhold(w, bulk: pd.DataFrame) -> pd.DataFrame:
    """Leave out the bulk rows of w.withheld's windows: the missed beneficiaries planted."""
    drop = np.zeros(len(bulk), dtype=bool)
    prog, person, month = bulk.prog.to_numpy(), bulk.person.to_numpy(), bulk.month.to_numpy()
    for code, who, first, last in w.withheld:
        drop |= (prog == P[code]) & (person == who) & (month >= first) & (month <= last)
    return bulk[~drop]


def payments(w) -> pd.DataFrame:
    """All subsidy rows: bulk programmes, hardship draws and scenario rows, dead people dropped."""
    from fundwatch_sample import certificates

    hard = w.hardship[~w.hardship.person.isin(w.skip["HARDSHIP"])]
    parts = [_farm_rows(w, "FARMLAND"), _farm_rows(w, "GRAIN"), _elderly_rows(w), _disabled_rows(w), hard,
             quarterly(certificates.nursing_rows(w, P["NURSING"], NURSING_RATE), w.rng),
             certificates.living_rows(w, P["DISABLED"], LIVING_RATE)]
    parts = [_withhold(w, x[list(COLUMNS)]) for x in parts]
    if w.extra["subsidy_payments"]:
        parts.append(pd.DataFrame(w.extra["subsidy_payments"]))
    rows = pd.concat([x[list(COLUMNS)] for x in parts], ignore_index=True)
    death = w.people.death.to_numpy()[rows.person.to_numpy()]
    dead_month = np.where(death == OPEN, 10**9, month_of(np.minimum(death, day(2100, 1, 1))))
    rows = rows[rows.planted.to_numpy() | (rows.month.to_numpy() <= dead_month)]
    rows["village"] = w.people.village.to_numpy()[rows.person.to_numpy()]
    return rows.sort_values(["month", "prog", "agency", "pay", "person"], kind="stable", ignore_index=True)


def allocations(w, pay_rows: pd.DataFrame) -> pd.DataFrame:
    """Quarterly allocations per agency and programme, 92-100% of that quarter's payments,
    received a few weeks before the quarter starts; scenario allocations are appended."""
    rng = w.rng
    r = pay_rows[pay_rows.prog != P["FLOOD"]]
    q = (month_of(r.pay.to_numpy()) // 3).astype(np.int64)
    g = r.assign(q=q).groupby(["agency", "prog", "q"], sort=True).amount.sum().reset_index()
    share = rng.uniform(0.92, 1.0, len(g))
    amount = (np.floor(g.amount.to_numpy() * share / 10_000) * 10_000).astype(np.int64)
    received = month_start(g.q.to_numpy() * 3) - rng.integers(8, 31, len(g))
    a = pd.DataFrame({"agency": g.agency, "prog": g.prog, "amount": amount, "received": received})
    a = a[a.amount > 0]
    if w.extra["fund_allocations"]:
        a = pd.concat([a, pd.DataFrame(w.extra["fund_allocations"])[a.columns]], ignore_index=True)
    return a.sort_values(["received", "agency", "prog"], kind="stable", ignore_index=True)


__all__ = ["NA", "PROGRAMS", "P", "setup", "payments", "allocations", "entitlement", "elderly_rate"]
