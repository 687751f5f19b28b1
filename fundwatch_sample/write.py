"""Turn the world's integer-coded frames into contract tables and write them.

Strings (IDs, names, accounts, periods) are only materialised here, by arrow `take` from one
array per kind, which keeps ten million rows cheap. Columns come out in the contract's order
and types: dates as ISO dates, money as DECIMAL(18,2) (two decimals in CSV), periods as
YYYY-MM. CSV is UTF-8 with a plain header line; parquet is written as is.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fundwatch.contract import TABLES
from fundwatch_sample import ids, subsidy
from fundwatch_sample.people import RELATIONS
from fundwatch_sample.registries import plate_numbers
from fundwatch_sample.util import NA, OPEN, period_labels

_ARROW = {
    "date": pa.date32(),
    "money": pa.decimal128(18, 2),
    "number": pa.float64(),
    "int": pa.int64(),
    "year": pa.int32(),
}
_PERIOD_BASE = 2000 * 12
_PERIODS = pa.array(period_labels(_PERIOD_BASE, 2030 * 12 + 11))
TRUTH_COLUMNS = (
    "truth_id",
    "kind",
    "scenario",
    "program",
    "entity_type",
    "entity_id",
    "year",
    "rule_id",
    "description",
    "finding",
)


def date(d) -> pa.Array:
    d = np.asarray(d, dtype=np.int64)
    mask = (d == NA) | (d == OPEN)
    return pa.array(np.where(mask, 0, d).astype(np.int32), pa.date32(), mask=mask)


def money(c, mask=None) -> pa.Array:
    c = np.ascontiguousarray(np.asarray(c, dtype=np.int64))
    buf = np.empty((len(c), 2), dtype=np.int64)
    buf[:, 0], buf[:, 1] = c, c >> 63  # 128-bit little endian, sign extended
    validity = None
    if mask is not None and np.any(mask):
        validity = pa.array(~np.asarray(mask)).buffers()[1]
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(c), [validity, pa.py_buffer(buf)])


def period(m) -> pa.Array:
    return _PERIODS.take(pa.array(np.asarray(m, dtype=np.int64) - _PERIOD_BASE))


def take(arr: pa.Array, idx) -> pa.Array:
    """arr[idx] with -1 as null."""
    idx = np.asarray(idx, dtype=np.int64)
    mask = idx < 0
    return arr.take(pa.array(np.where(mask, 0, idx), mask=mask if mask.any() else None))


class Strings:
    """The string arrays every table draws from."""

    def __init__(self, w):
        self.w = w
        self.pid, self.name = w.pid, w.pname
        rng = np.random.default_rng([w.seed, 404])
        self.acct = ids.bank_accounts(np.arange(len(w.people) + w.n_extra_accounts), rng)
        self.region = pa.array(w.villages.region_code.to_numpy())
        self.hh = ids.running_keys("DB", np.arange(1, len(w.hh) + 1), 7)
        self.ten = ids.running_keys("HT", np.arange(1, len(w.ten) + 1), 7)
        self.unit = pa.array(w.units.code.to_numpy())
        self.coop = ids.credit_codes(np.arange(len(w.coops)), np.full(len(w.coops), 3))
        self.entity = ids.credit_codes(np.arange(len(w.entities)), w.entities.etype.to_numpy(), salt=7)
        self.agency = pa.array(w.agencies)
        self.prog = pa.array(list(subsidy.PROGRAM_CODES))
        self.prog_name = pa.array([v[0] for v in subsidy.PROGRAMS.values()])

    def entity_id(self, etype: str, entity) -> str:
        if isinstance(entity, str):
            return entity
        arr = {"person": self.pid, "household": self.hh, "tenancy": self.ten, "cooperative": self.coop}[etype]
        return arr[int(entity)].as_py()


def tables(w) -> dict[str, dict[str, pa.Array]]:
    s = Strings(w)
    p = w.people
    out = {}
    c = w.civil
    out["civil_servants"] = {
        "person_id": take(s.pid, c.person), "name": take(s.name, c.person), "employer": pa.array(c.employer.to_numpy()),
        "employer_type": pa.array(c.employer_type.to_numpy()), "position": pa.array(c.position.to_numpy()),
        "start_date": date(c.start), "end_date": date(c.end), "monthly_salary": money(c.salary),
    }  # fmt: skip
    dead = np.flatnonzero(p.death.to_numpy() != OPEN)
    dead = dead[np.argsort(p.death.to_numpy()[dead], kind="stable")]
    out["deaths"] = {
        "person_id": take(s.pid, dead),
        "name": take(s.name, dead),
        "death_date": date(p.death.to_numpy()[dead]),
    }
    v = w.vehicles
    out["vehicles"] = {
        "person_id": take(s.pid, v.person), "plate_no": pa.array(plate_numbers(len(v), w.rng)),
        "vehicle_type": pa.array(v.vtype.to_numpy()), "registration_date": date(v.reg),
        "deregistration_date": date(v.dereg), "purchase_price": money(v.price),
    }  # fmt: skip
    r = w.roles
    is_coop = r.coop.to_numpy() >= 0
    ent = np.where(is_coop, 0, r.entity.to_numpy())
    code = np.where(
        is_coop,
        take(s.coop, np.where(is_coop, r.coop, 0)).to_numpy(zero_copy_only=False),
        take(s.entity, ent).to_numpy(zero_copy_only=False),
    )
    ename = np.where(
        is_coop, w.coops.name.to_numpy()[np.where(is_coop, r.coop, 0)], w.entities.name.to_numpy()[ent]
    )
    # A cooperative's registered capital is its members' subscribed shares, 5 000 yuan each.
    coop_cap = (
        w.coop_members.groupby("coop").shares.sum().reindex(range(len(w.coops))).fillna(0) * 500_000
    ).to_numpy()
    cap = np.where(
        is_coop, coop_cap[np.where(is_coop, r.coop, 0)], w.entities.capital.to_numpy()[ent]
    ).astype(np.int64)
    out["business_roles"] = {
        "person_id": take(s.pid, r.person), "entity_code": pa.array(code), "entity_name": pa.array(ename),
        "role": pa.array(r.role.to_numpy()), "registered_capital": money(cap), "start_date": date(r.start), "end_date": date(r.end),
    }  # fmt: skip
    pr = w.properties
    reg_year = (pr.reg.to_numpy().astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970).astype(
        str
    )
    prop_id = np.char.add(
        np.char.add(np.char.add("黔(", reg_year), ")黎平县不动产权第"),
        np.char.add(np.char.zfill(ids.scramble(np.arange(len(pr)), 7, 3_861_407).astype(str), 7), "号"),
    )
    out["properties"] = {
        "person_id": take(s.pid, pr.person), "property_id": pa.array(prop_id), "region_code": take(s.region, pr.village),
        "area_m2": pa.array(pr.area.to_numpy()), "usage": pa.array(pr.usage.to_numpy()), "registration_date": date(pr.reg),
        "deregistration_date": date(pr.dereg),
    }  # fmt: skip
    h = w.hh
    out["dibao_households"] = {
        "household_id": s.hh, "head_id": take(s.pid, h["head"]), "region_code": take(s.region, h.village),
        "start_date": date(h.start), "end_date": date(h.end), "household_size": pa.array(h["size"].to_numpy()),
        "declared_monthly_income": money(h.income), "approved_by": take(s.pid, h.approver),
    }  # fmt: skip
    m = w.hh_members.sort_values(["hh", "rel", "person"], kind="stable")
    out["dibao_members"] = {
        "household_id": take(s.hh, m.hh), "person_id": take(s.pid, m.person), "name": take(s.name, m.person),
        "relation": take(pa.array(list(RELATIONS)), m.rel),
    }  # fmt: skip
    d = w.dibao_pay
    out["dibao_payments"] = {
        "payment_id": ids.running_keys("DP", np.arange(1, len(d) + 1), 8), "household_id": take(s.hh, d.hh),
        "period": period(d.month), "amount": money(d.amount), "pay_date": date(d.pay), "bank_account": take(s.acct, d.acct),
    }  # fmt: skip
    sp = w.sub_pay
    rate = sp.rate.to_numpy()
    out["subsidy_payments"] = {
        "payment_id": ids.running_keys("SP", np.arange(1, len(sp) + 1), 8), "program_code": take(s.prog, sp.prog),
        "program_name": take(s.prog_name, sp.prog), "person_id": take(s.pid, sp.person), "name": take(s.name, sp.person),
        "region_code": take(s.region, sp.village), "period": period(sp.month), "amount": money(sp.amount),
        "basis_quantity": pa.array(sp.basis.to_numpy(), from_pandas=True), "unit_rate": money(rate, rate < 0),
        "apply_date": date(sp["apply"]), "approve_date": date(sp.approve), "pay_date": date(sp.pay),
        "bank_account": take(s.acct, sp.acct), "agency_code": take(s.agency, sp.agency),
    }  # fmt: skip
    a = w.alloc
    out["fund_allocations"] = {
        "allocation_id": ids.running_keys("AL", np.arange(1, len(a) + 1), 6), "agency_code": take(s.agency, a.agency),
        "program_code": take(s.prog, a.prog), "amount": money(a.amount), "received_date": date(a.received),
    }  # fmt: skip
    t = w.ten
    out["housing_tenancies"] = {
        "tenancy_id": s.ten, "unit_id": take(s.unit, t.unit), "person_id": take(s.pid, t.tenant), "start_date": date(t.start),
        "end_date": date(t.end), "household_size": pa.array(t["size"].to_numpy()), "monthly_rent": money(t.rent),
        "declared_monthly_income": money(t.income),
    }  # fmt: skip
    hm = w.ten_members.sort_values(["ten", "rel", "person"], kind="stable")
    hrel = pa.array(["tenant", "spouse", "child", "parent", "other"])
    out["housing_members"] = {
        "tenancy_id": take(s.ten, hm.ten),
        "person_id": take(s.pid, hm.person),
        "relation": take(hrel, hm.rel),
    }
    rent = w.rent
    unpaid = rent.paid_date.to_numpy() == NA
    out["housing_rent"] = {
        "tenancy_id": take(s.ten, rent.ten), "period": period(rent.month), "rent_due": money(rent.due),
        "rent_paid": money(rent.paid), "paid_date": date(rent.paid_date), "payer_account": take(s.acct, np.where(unpaid, -1, rent.payer)),
    }  # fmt: skip
    u = w.util
    out["housing_utilities"] = {
        "unit_id": take(s.unit, u.unit), "period": period(u.month), "water_m3": pa.array(u.water.to_numpy()),
        "electricity_kwh": pa.array(u.elec.to_numpy()),
    }  # fmt: skip
    co = w.coops
    count = np.bincount(w.coop_members.coop.to_numpy(), minlength=len(co))
    out["cooperatives"] = {
        "coop_id": s.coop, "name": pa.array(co.name.to_numpy()), "region_code": take(s.region, co.village),
        "registered_date": date(co.registered), "dissolved_date": date(co.dissolved), "legal_rep_id": take(s.pid, co.legal_rep),
        "member_count_declared": pa.array(np.where(co.declared.to_numpy() > 0, co.declared.to_numpy(), count)),
    }  # fmt: skip
    cm = w.coop_members
    out["coop_members"] = {
        "coop_id": take(s.coop, cm.coop),
        "person_id": take(s.pid, cm.person),
        "join_date": date(cm.joined),
        "shares": pa.array(cm.shares.to_numpy()),
    }
    f = w.fin
    out["coop_financials"] = {
        "coop_id": take(s.coop, f.coop), "year": pa.array(f.year.to_numpy()), "revenue": money(f.revenue), "cost": money(f.cost),
        "surplus": money(f.revenue - f.cost), "subsidies_received": money(f.subsidies), "dividends_declared": money(f.declared),
    }  # fmt: skip
    dv = w.div
    out["coop_dividends"] = {
        "coop_id": take(s.coop, dv.coop), "person_id": take(s.pid, dv.person), "year": pa.array(dv.year.to_numpy()),
        "amount": money(dv.amount), "pay_date": date(dv.pay), "bank_account": take(s.acct, dv.acct),
    }  # fmt: skip
    from fundwatch_sample import residents  # the registries of who should be paid (issue 23)

    out.update(residents.tables(w, s, take, date))
    w.strings = s
    return out


def to_table(name: str, cols: dict[str, pa.Array]) -> pa.Table:
    spec = TABLES[name]
    if set(cols) != set(spec.column_names):
        raise AssertionError(f"{name}: columns {sorted(cols)} differ from the contract {spec.column_names}")
    arrays = []
    for c in spec.columns:
        arr = cols[c.name]
        arrays.append(arr.cast(_ARROW.get(c.kind, pa.string())))
    return pa.Table.from_arrays(arrays, names=spec.column_names)


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
        return
    with open(path, "wb") as fh:
        fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
        try:
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        except pa.ArrowInvalid:  # a value with a comma or quote: fall back to quoting strings
            fh.seek(0)
            fh.truncate()
            fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="needed"))


def write_truth(w, path: Path) -> int:
    """ground_truth.csv; `finding` is the truth_id of the first row of the row's finding."""
    s = w.strings
    first: dict = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(TRUTH_COLUMNS)
        for i, t in enumerate(w.truth_rows, 1):
            eid = s.entity_id(t["entity_type"], t["entity"])
            finding = i if t["finding"] is None else first.setdefault(t["finding"], i)
            out.writerow(
                [
                    i,
                    t["kind"],
                    t["scenario"],
                    t["program"],
                    t["entity_type"],
                    eid,
                    t["year"],
                    t["rule_id"],
                    t["description"],
                    finding,
                ]
            )
    return len(w.truth_rows)
