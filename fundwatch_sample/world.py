"""The sample world: sizes per scale, shared state, and the build pipeline.

build() runs the steps in an order that matters: people, programme entities, background
registries (which need to know who is in which programme), programme setup, then the
scenarios (which change entity parameters and add registry rows and explicit payments),
and only then the expansion of entities into payment rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fundwatch_sample import cooperative, dibao, housing, people, registries, subsidy
from fundwatch_sample.util import OPEN, day


@dataclass(frozen=True)
class Sizes:
    townships: int
    villages_per_township: int
    dibao: int
    farm: int
    other: int
    units: int
    coops: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        r = math.sqrt(scale)  # townships and villages grow with the square root
        return cls(
            townships=max(3, round(8 * r)),
            villages_per_township=max(4, round(10 * r)),
            dibao=max(160, round(1150 * scale)),
            farm=max(800, round(3000 * scale)),
            other=max(600, round(3500 * scale)),
            units=max(120, round(440 * scale)),
            coops=max(60, round(110 * scale)),
        )


class World:
    """Everything generated so far, held as integer-coded frames; strings come at write time."""

    def __init__(self, seed: int, scale: float):
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.seed, self.scale = seed, scale
        self.rng = np.random.default_rng([seed, 2022])
        self.sizes = Sizes.for_scale(scale)
        self.n_townships = self.sizes.townships
        self.extra: dict[str, list[dict]] = {
            t: [] for t in ("dibao_payments", "subsidy_payments", "fund_allocations", "coop_dividends")
        }
        self.skip: dict[str, set[int]] = {c: set() for c in subsidy.PROGRAM_CODES}
        self.truth_rows: list[dict] = []
        self.moved_out: dict[int, int] = {}  # person -> day moved out of the county (户籍迁出)
        self.used: dict[str, set[int]] = {
            k: set() for k in ("hh", "ten", "coop", "person", "agency", "village")
        }
        self.n_extra_accounts = 0
        self._year_cursor = 0

    # --- small helpers used by the scenario modules ------------------------------------
    def n(self, base: int) -> int:
        """How many cases of a scenario to plant: base at scale 1, growing with sqrt(scale)."""
        return max(1, round(base * math.sqrt(self.scale)))

    def years(self, n: int, allowed=None) -> list[int]:
        """Years for n cases: by default 2023 for two cases in three and 2022 or 2024 for the
        rest, continuing one pattern across scenarios (any three consecutive cases include two
        in 2023, so a rule's three anomalies put two in the README's 2023 scan); or cycling
        through `allowed`."""
        if allowed is not None:
            return [allowed[i % len(allowed)] for i in range(n)]
        pattern = (2023, 2023, 2022, 2023, 2023, 2024)
        out = [pattern[(self._year_cursor + i) % len(pattern)] for i in range(n)]
        self._year_cursor += n
        return out

    def town_name(self, t: int) -> str:
        return people.TOWNSHIPS[t] if t < len(people.TOWNSHIPS) else f"第{t + 1}乡"

    def name(self, person: int) -> str:
        return self.pname[int(person)].as_py()

    def new_account(self) -> int:
        """An account that belongs to nobody in the data (index past the people's own)."""
        self.n_extra_accounts += 1
        return len(self.people) + self.n_extra_accounts - 1

    def pick(self, kind: str, candidates, n: int = 1, what: str = "", up_to: bool = False) -> np.ndarray:
        """n unused entities of a kind from the candidates (deterministic); marks them used.

        Draws at random and rejects used ones, which is cheap because scenarios use a tiny
        share of any pool; falls back to filtering the pool when it is nearly exhausted.
        """
        cand = np.asarray(candidates, dtype=np.int64)
        used = self.used[kind]
        out: list[int] = []
        for _ in range(20 * n + 20):
            if len(out) == n or len(cand) == 0:
                break
            x = int(cand[self.rng.integers(0, len(cand))])
            if x not in used and x not in out:
                out.append(x)
        if len(out) < n:
            free = np.unique(cand)
            free = free[~np.isin(free, np.fromiter(used | set(out), dtype=np.int64))]
            if up_to:  # as many as there are, at most n (a small world, an unlucky seed)
                n = min(n, len(free) + len(out))
            if len(free) < n - len(out):
                raise ValueError(
                    f"sample world too small to plant {what or kind}: {len(free) + len(out)} candidates for {n}"
                )
            out += [int(x) for x in self.rng.choice(free, size=n - len(out), replace=False)]
        used.update(out)
        return np.sort(np.array(out, dtype=np.int64))

    def truth(self, kind, scenario, program, entity_type, entity, year, rule_id, description, finding=None) -> None:
        """One ground-truth row. Rows given the same `finding` key are one finding (the households of
        one shared account, an agency's late batch and its recipients); any other row is its own."""
        self.truth_rows.append(
            {
                "kind": kind, "scenario": scenario, "program": program, "entity_type": entity_type,
                "entity": entity, "year": int(year), "rule_id": rule_id or "", "description": description,
                "finding": finding,
            }
        )  # fmt: skip

    def add_rows(self, frame: str, **cols) -> None:
        """Append one registry row (civil, vehicles, roles, properties) given as keyword values."""
        self.pending.setdefault(frame, []).append(cols)

    def busy_people(self) -> np.ndarray:
        """Bool per person: already in some registry, dead, or used by a scenario."""
        busy = np.zeros(len(self.people), dtype=bool)
        for f in (self.civil, self.vehicles, self.roles, self.properties):
            busy[f.person.to_numpy()] = True
        busy[self.people.death.to_numpy() != OPEN] = True
        busy[np.fromiter(self.used["person"], dtype=np.int64)] = True
        return busy

    def set_death(self, person: int, d: int) -> None:
        self.people.loc[int(person), "death"] = int(d)
        self.used["person"].add(int(person))


def build(w: World) -> World:
    s = w.sizes
    w.villages = people.make_villages(s.townships, s.villages_per_township, w.rng)
    n_housing_fam = round(s.units * 1.3) + 40
    w.fam, w.people = people.make_people(
        {people.DIBAO: s.dibao, people.HOUSING: n_housing_fam, people.FARM: s.farm, people.OTHER: s.other},
        w.villages,
        w.rng,
    )
    w.people["death"] = OPEN
    w.pname = people.make_names(w.people, w.rng)
    w.pid = people.make_person_ids(w.people, w.rng)
    w.pending = {}

    # Programme entities first, so the registries know whom to leave alone.
    w.coops, w.coop_members = cooperative.cooperatives(w, s.coops)
    w.civil = registries.civil_servants(w)
    w.civil = pd.concat(
        [w.civil, registries.village_cadres(w, w.coops.legal_rep.to_numpy())], ignore_index=True
    )
    protected = np.concatenate([w.civil.person.to_numpy(), w.coop_members.person.to_numpy()])
    w.hh, w.hh_members = dibao.households(w)
    w.units = housing.units(w, s.units)
    w.ten, w.ten_members = housing.tenancies(w)
    w.agencies = subsidy.agencies(w)
    subsidy.setup(w)
    registries.background_deaths(w, np.concatenate([protected, w.disabled.person.to_numpy()]))
    w.vehicles = registries.vehicles(w)
    w.entities, w.roles = registries.business_roles(w)
    w.roles["coop"] = -1
    w.properties = registries.properties(w)
    w.fin = cooperative.financials(w)

    # Scenarios: anomalies, look-alikes and statistical outliers, with their ground truth.
    from fundwatch_sample import (
        plant_coop,
        plant_coverage,
        plant_cross,
        plant_dibao,
        plant_housing,
        plant_subsidy,
    )

    for mod in (plant_dibao, plant_subsidy, plant_housing, plant_coop, plant_cross, plant_coverage):
        mod.plant(w)
    _merge_pending(w)
    _coop_roles(w)

    # Expand entities into rows.
    w.dibao_pay = dibao.payments(w)
    w.sub_pay = subsidy.payments(w)
    w.alloc = subsidy.allocations(w, w.sub_pay)
    w.rent, w.util = housing.ledger(w)
    w.div = cooperative.dividends(w)
    w.fin["declared"] = cooperative.declared(w)
    return w


def _merge_pending(w: World) -> None:
    for frame, rows in w.pending.items():
        cur = getattr(w, frame)
        add = pd.DataFrame(rows)
        setattr(
            w, frame, pd.concat([cur, add[[c for c in cur.columns if c in add.columns]]], ignore_index=True)
        )
        if frame == "civil":
            w.civil["end"] = w.civil["end"].fillna(OPEN).astype(np.int64)
    for name in ("vehicles", "roles", "properties"):
        f = getattr(w, name)
        for c in ("dereg", "end"):
            if c in f.columns:
                f[c] = f[c].fillna(OPEN).astype(np.int64)
    w.roles["coop"] = w.roles["coop"].fillna(-1).astype(np.int64)


def _coop_roles(w: World) -> None:
    """Every cooperative's legal representative is on the market-entity register too."""
    c = w.coops
    rows = pd.DataFrame(
        {
            "person": c.legal_rep.to_numpy(), "entity": -1, "role": "legal_rep",
            "start": c.registered.to_numpy(), "end": c.dissolved.to_numpy(), "coop": np.arange(len(c)),
        }
    )  # fmt: skip
    w.roles = pd.concat([w.roles, rows], ignore_index=True)


__all__ = ["World", "Sizes", "build", "day"]
