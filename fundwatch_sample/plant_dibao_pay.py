"""Dibao scenarios on the payment side: deaths, enrolment in two households, shared and
changed accounts, amounts above the standard, and back-pay and size outliers.

Called from plant_dibao.plant with its roster context; same conventions (see there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample import dibao
from fundwatch_sample.dibao_roster import PROGRAM, Ctx, enrol_in, exit_at
from fundwatch_sample.people import CHILD, HEAD, OTHER_REL, PARENT, SPOUSE
from fundwatch_sample.plant_common import iso
from fundwatch_sample.util import OPEN, day, mi, month_of, rand_day


def deaths(w, c: Ctx) -> None:
    rng = w.rng
    for scenario, size, base in (
        ("paid_after_head_death", (2, 6), 2),
        ("paid_after_sole_member_death", (1, 1), 2),
    ):
        for y in w.years(w.n(base)):
            h = c.pick(scenario, *size)
            head = int(w.hh["head"][h])
            d = int(rand_day(rng, day(y, 1, 20), day(y, 4, 10)))
            w.set_death(head, d)
            exit_at(w, h, y)
            w.truth("anomaly", scenario, PROGRAM, "household", h, y, "dibao.paid_after_death",
                    f"The head {w.name(head)} died on {iso(d)}; payments for later months continued to the end of {y}.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("death_after_last_payment", 1, 1)
        head = int(w.hh["head"][h])
        w.hh.loc[h, "end"] = day(y, 5, 31)
        d = int(rand_day(rng, day(y, 7, 1), day(y, 9, 30)))
        w.set_death(head, d)
        w.truth("lookalike", "death_after_last_payment", PROGRAM, "household", h, y, "dibao.paid_after_death",
                f"The household left dibao on {y}-05-31; its only member {w.name(head)} died later, on {iso(d)}.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("late_payment_for_month_alive", 1, 1)
        head = int(w.hh["head"][h])
        d = int(rand_day(rng, day(y, 6, 12), day(y, 6, 22)))
        w.set_death(head, d)
        w.hh.loc[h, "end"] = d
        w.hh.loc[h, "last_late"] = 25  # June's payment goes out around July 1st
        w.truth("lookalike", "late_payment_for_month_alive", PROGRAM, "household", h, y, "dibao.paid_after_death",
                f"{w.name(head)} died on {iso(d)}; the June payment was made after the death but is for a month they were alive.")  # fmt: skip
    for y in w.years(w.n(3)):
        h = c.pick("payments_continue_after_member_death", 2, 6)
        m = c.nonhead(h)
        d = int(rand_day(rng, day(y, 1, 10), day(y, 3, 31)))
        w.set_death(m, d)
        exit_at(w, h, y)
        w.truth("anomaly", "payments_continue_after_member_death", PROGRAM, "household", h, y, "dibao.member_deceased",
                f"The {c.rel_name(h, m)} {w.name(m)} died on {iso(d)}; the household kept receiving the same amount for the rest of {y}.")  # fmt: skip
    for y in w.years(w.n(1)):
        h = c.pick("member_died_after_last_payment", 2, 6)
        m = c.nonhead(h)
        w.hh.loc[h, "end"] = day(y, 4, 30)
        d = int(rand_day(rng, day(y, 8, 1), day(y, 10, 31)))
        w.set_death(m, d)
        w.truth("lookalike", "member_died_after_last_payment", PROGRAM, "household", h, y, "dibao.member_deceased",
                f"The household left dibao on {y}-04-30; the {c.rel_name(h, m)} {w.name(m)} died afterwards, on {iso(d)}.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("amount_reduced_after_member_death", 2, 6)
        m = c.nonhead(h)
        d = int(rand_day(rng, day(y, 3, 5), day(y, 3, 25)))
        w.set_death(m, d)
        hh = w.hh.loc[h]
        w.hh.loc[h, "amount2"] = int(
            dibao.monthly_amount(hh["size"] - 1, hh.income * (hh["size"] - 1) // hh["size"], hh.factor)
        )
        w.hh.loc[h, "amount2_from"] = month_of(d) + 1
        w.truth("lookalike", "amount_reduced_after_member_death", PROGRAM, "household", h, y, "dibao.member_deceased",
                f"After the {c.rel_name(h, m)} {w.name(m)} died on {iso(d)} the amount was recalculated for one person fewer from the next month.")  # fmt: skip


def _new_household(w, c: Ctx, head: int, village: int, start: int, income: int, acct: int) -> int:
    town = w.villages.township.iat[village]
    row = w.hh.iloc[[0]].copy()
    row.loc[:, ["fam", "head", "village", "start", "end", "size", "income", "approver", "factor", "acct"]] = [
        -1,
        head,
        village,
        start,
        OPEN,
        1,
        income,
        int(w.approvers[town, 0]),
        1.0,
        acct,
    ]
    for col, v in (
        ("acct2", -1),
        ("acct2_from", OPEN),
        ("amount2", -1),
        ("amount2_from", OPEN),
        ("amount2_to", OPEN),
        ("last_late", 0),
        ("amount_override", -1),
    ):
        row.loc[:, col] = v
    h = len(w.hh)
    w.hh = pd.concat([w.hh, row], ignore_index=True)
    w.hh_members = pd.concat(
        [w.hh_members, pd.DataFrame({"hh": [h], "person": [head], "rel": [HEAD]})], ignore_index=True
    )
    w.used["hh"].add(h)
    return h


def enrolment(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3)):
        a = c.pick("enrolled_in_two_households_a", min_size=2)
        b = c.pick("enrolled_in_two_households_b", max_size=5)
        m = c.nonhead(a, prefer=(CHILD, OTHER_REL, PARENT, SPOUSE))
        w.hh_members = pd.concat(
            [w.hh_members, pd.DataFrame({"hh": [b], "person": [m], "rel": [OTHER_REL]})], ignore_index=True
        )
        w.hh.loc[b, "size"] += 1
        enrol_in(w, b, y)
        w.used["person"].add(m)
        w.truth("anomaly", "enrolled_in_two_households", PROGRAM, "person", m, y, "dibao.duplicate_enrolment",
                f"{w.name(m)} is on the roster of two households (in different villages) paid dibao at the same time in {y}.")  # fmt: skip
    for y in w.years(w.n(2)):
        a = c.pick("moved_old_enrolment_ended", 1, 1)
        p = int(w.hh["head"][a])
        w.hh.loc[a, "end"] = day(y, 3, 31)
        other = np.flatnonzero(
            w.villages.township.to_numpy() != w.villages.township.iat[int(w.hh.village[a])]
        )
        v = int(other[rng.integers(0, len(other))]) if len(other) else int(w.hh.village[a])
        _new_household(
            w, c, p, v, day(y, 5, 1) + int(rng.integers(0, 20)), int(w.hh.income[a]), w.new_account()
        )
        w.used["person"].add(p)
        w.truth("lookalike", "moved_old_enrolment_ended", PROGRAM, "person", p, y, "dibao.duplicate_enrolment",
                f"{w.name(p)} moved: the old household's enrolment ended on {y}-03-31 and the new one started in May {y}.")  # fmt: skip
    for g, y in enumerate(w.years(w.n(3))):
        acct = w.new_account()
        first = c.pick(f"one_account_group_{g}")
        village = int(w.hh.village[first])
        same = np.flatnonzero(c.clean & (w.hh.village.to_numpy()[: len(c.clean)] == village))
        if len(same[~np.isin(same, list(w.used["hh"]))]) < 2:
            same = np.flatnonzero(c.clean)
        group = [first, *[int(x) for x in w.pick("hh", same, 2, "one_account_for_unrelated_households")]]
        for h in group:
            w.hh.loc[h, "acct2"] = acct
            w.hh.loc[h, "acct2_from"] = mi(y, 1)
            exit_at(w, h, y)
        for h in group:
            w.truth("anomaly", "one_account_for_unrelated_households", PROGRAM, "household", h, y, "dibao.shared_account",
                    f"In {y} the dibao of {len(group)} unrelated households, including this one, was paid into one bank account.",
                    finding=("dibao_account", g))  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("household_changed_account")
        w.hh.loc[h, "acct2"] = w.new_account()
        w.hh.loc[h, "acct2_from"] = mi(y, 6)
        w.truth("lookalike", "household_changed_account", PROGRAM, "household", h, y, "dibao.shared_account",
                f"The household switched to a new bank card of its own from June {y}.")  # fmt: skip


def amounts(w, c: Ctx) -> None:
    for y in w.years(w.n(3)):
        h = c.pick("paid_above_standard")
        hh = w.hh.loc[h]
        due = int(dibao.monthly_amount(hh["size"], hh.income, 1.0))
        paid = int(round((due * 1.5 + 30_000) / 100)) * 100
        w.hh.loc[h, "amount_override"] = paid
        enrol_in(w, h, y)
        w.truth("anomaly", "paid_above_standard", PROGRAM, "household", h, y, "dibao.over_standard",
                f"Paid {paid / 100:.2f} yuan a month where the standard allows {due / 100:.2f} for {hh['size']} people and the declared income.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("paid_exactly_at_standard")
        w.hh.loc[h, "income"] = 0
        w.hh.loc[h, "factor"] = 1.0
        size = int(w.hh["size"][h])
        w.truth("lookalike", "paid_exactly_at_standard", PROGRAM, "household", h, y, "dibao.over_standard",
                f"No declared income: paid exactly the standard, {dibao.STANDARD * size} yuan for {size} people.")  # fmt: skip


def statistical(w, c: Ctx) -> None:
    """Outliers no rule states: back-pay of months before enrolment, a declared size the roster does not show."""
    rng = w.rng
    for y in w.years(w.n(3)):
        h = c.pick("backdated_extra_periods")
        w.hh.loc[h, "start"] = day(y, 1, 2) + int(rng.integers(0, 7))
        exit_at(w, h, y)
        back = int(rng.integers(5, 8))
        for k in range(back):
            m = mi(y, 1) - back + k
            w.extra["dibao_payments"].append(
                {"hh": h, "month": m, "amount": -1, "pay": day(y, 1, 15) + 3 * k, "acct": -1}
            )
        w.truth("anomaly", "backdated_extra_periods", PROGRAM, "household", h, y, "",
                f"Enrolled in January {y} yet paid {12 + back} times in {y}: {back} back-dated months from before enrolment.")  # fmt: skip
    for y in w.years(w.n(3)):
        h = c.pick("declared_size_above_roster", 2, 2)
        w.hh.loc[h, "size"] = 5
        enrol_in(w, h, y)
        w.truth("anomaly", "declared_size_above_roster", PROGRAM, "household", h, y, "",
                "Declared and paid as a household of 5 though only 2 people are on its roster.")  # fmt: skip
