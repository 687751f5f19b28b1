"""Dibao anomalies and their look-alikes, one of each per rule and year."""

from __future__ import annotations

from datetime import date, timedelta

from . import enrol
from .pick import full_year_dibao, member
from .world import World, months

P = "dibao"


def plant(w: World, y: int) -> None:
    hid = "household"
    # public staff member: a member on the payroll all year / a job that ended years before.
    h = full_year_dibao(w, y, min_size=2)
    m = member(w, h)
    w.staff.append(enrol.staff_row(w, w.people[m], "光山县乡村振兴局", "government", "科员", date(y, 1, 5), date(y, 12, 31), 4800))
    w.record("anomaly", "member_on_public_payroll", P, hid, h["household_id"], y, "dibao.public_staff",
             f"A member is on the payroll of 光山县乡村振兴局 while the household is paid dibao in {y}.")
    h = full_year_dibao(w, y, min_size=2)
    m = member(w, h)
    w.staff.append(enrol.staff_row(w, w.people[m], "光山县第三小学", "institution", "代课教师", date(2008, 9, 1),
                                   h["enrolments"][0]["start"] - timedelta(days=60), 3100))
    w.record("lookalike", "payroll_ended_before_enrolment", P, hid, h["household_id"], y, "dibao.public_staff",
             "A member taught until two months before the household enrolled.")
    # village cadre
    h = full_year_dibao(w, y, urban=False, min_size=2)
    m = member(w, h)
    w.staff.append(enrol.staff_row(w, w.people[m], f"{h['region_code']}村委会", "village_cadre", "村民小组长",
                                   date(y, 1, 1), date(y, 12, 31), 1800))
    w.record("anomaly", "cadre_in_household", P, hid, h["household_id"], y, "dibao.village_cadre",
             f"A member serves as a village cadre while the household is paid dibao in {y}.")
    h = full_year_dibao(w, y, urban=False, min_size=2)
    w.staff.append(enrol.staff_row(w, w.people[member(w, h)], f"{h['region_code']}村委会", "village_cadre", "会计",
                                   date(2012, 1, 1), date(y - 2, 12, 31), 1500))
    w.record("lookalike", "cadre_term_ended", P, hid, h["household_id"], y, "dibao.village_cadre",
             f"A member's cadre term ended at the end of {y - 2}.")
    # approver on the roster: a re-enrolment in January of the year, approved by a member (the
    # enrolment before was approved properly, and so is the one after: the anomaly is the year's).
    h = full_year_dibao(w, y, min_size=2)
    first = h["enrolments"][0]
    earlier = dict(first, end=date(y - 1, 12, 31)) if first["start"] < date(y, 1, 1) else None
    first.update(start=max(first["start"], date(y, 1, 1)), approved_by=member(w, h))
    _reexamined_next_year(w, h, y)
    if earlier is not None:
        earlier["approved_by"] = w.pick(w.approvers[h["region_code"][6:9]])
        h["enrolments"].insert(0, earlier)
    w.record("anomaly", "self_approved", P, hid, h["household_id"], y, "dibao.approver_member",
             "The enrolment was approved by a member of the household itself.")
    h = full_year_dibao(w, y, min_size=2)
    first = h["enrolments"][0]
    old = dict(first, approved_by=member(w, h), start=date(2012, 1, 1), end=first["start"] - timedelta(days=1))
    h["enrolments"].insert(0, old)
    w.record("lookalike", "reenrolled_with_proper_approval", P, hid, h["household_id"], y, "dibao.approver_member",
             "A self-approved enrolment ended before the present one, approved by the township official.")
    # business role
    h = full_year_dibao(w, y, min_size=2)
    enrol.add_role(w, member(w, h), "legal_rep", date(y, 1, 10), date(y, 12, 31), 300000)
    w.record("anomaly", "member_runs_company", P, hid, h["household_id"], y, "dibao.business_role",
             f"A member is legal representative of a company with 300,000 yuan capital in {y}.")
    h = full_year_dibao(w, y, min_size=2)
    enrol.add_role(w, member(w, h), "shareholder", date(2010, 1, 1), h["enrolments"][0]["start"] - timedelta(days=40), 50000)
    w.record("lookalike", "role_ended_before_enrolment", P, hid, h["household_id"], y, "dibao.business_role",
             "A member's shareholding ended before the household enrolled.")
    # duplicate enrolment: one person on two rosters in two townships at once.
    a = full_year_dibao(w, y, min_size=2)
    b = full_year_dibao(w, y, min_size=1)
    p = member(w, a)
    b["members"].append((p, "other"))
    b["enrolments"][0]["size"] += 1
    # enrolled in January with a member of another household, found at the year-end review: the
    # rosters overlap in this year only
    b["enrolments"][0]["start"] = max(b["enrolments"][0]["start"], date(y, 1, 1))
    b["enrolments"][0]["end"] = date(y, 12, 31)
    w.record("anomaly", "person_on_two_rosters", P, "person", p, y, "dibao.duplicate_enrolment",
             f"The person is on the rosters of {a['household_id']} and {b['household_id']} at once.")
    a = full_year_dibao(w, y, min_size=2)
    b = full_year_dibao(w, y, min_size=1)
    p = member(w, a)
    # a move: the new enrolment starts in March, the old one closes 20 days later.
    b["enrolments"][0]["start"] = date(y, 3, 1)
    a["enrolments"][0]["end"] = date(y, 3, 20)
    b["members"].append((p, "other"))
    w.record("lookalike", "moved_between_households", P, "person", p, y, "dibao.duplicate_enrolment",
             "The person moved households; the enrolments overlap 20 days.")
    # a non-head member dies and the amount is never reassessed / is reassessed.
    h = full_year_dibao(w, y, min_size=3)
    h["no_reassess"] = True
    h["enrolments"][0]["end"] = date(y, 12, 31)
    w.people[member(w, h)]["death_date"] = date(y, 3, 11)
    w.record("anomaly", "dead_member_still_counted", P, hid, h["household_id"], y, "dibao.member_deceased",
             f"A member died on {y}-03-11; the household is paid the same amount for the rest of {y}.")
    h = full_year_dibao(w, y, min_size=3)
    w.people[member(w, h)]["death_date"] = date(y, 4, 2)
    w.record("lookalike", "dead_member_reassessed", P, hid, h["household_id"], y, "dibao.member_deceased",
             "A member died; the benefit was reduced from the second month after.")
    # two homes / a home and a shop
    h = full_year_dibao(w, y, min_size=2)
    enrol.add_property(w, member(w, h), h["region_code"][:9] + "001", "residential", date(y, 1, 15), date(y + 1, 1, 1))
    w.record("anomaly", "second_home", P, hid, h["household_id"], y, "dibao.multiple_properties",
             "A member registered a second flat in the town seat.")
    h = full_year_dibao(w, y, min_size=2)
    enrol.add_property(w, member(w, h), h["region_code"], "commercial", date(y - 1, 8, 1), None)
    w.record("lookalike", "home_and_shop", P, hid, h["household_id"], y, "dibao.multiple_properties",
             "A member owns a small shop besides the family home (commercial).")
    # paid above the formula by far more than any classified allowance (two per year).
    for _ in range(2):
        h = full_year_dibao(w, y, min_size=1, max_size=2)
        for m in months(date(y, 1, 1), date(y, 12, 1)):
            h["overrides"][m] = None  # resolved below: formula + 520 yuan
        h["over_by"] = 520
        w.record("anomaly", "paid_far_above_standard", P, hid, h["household_id"], y, "dibao.over_standard",
                 f"The household is paid 520 yuan a month above the {y} standard formula and its classified allowance.")
    h = _allowance_household(w, y)
    w.record("lookalike", "classified_allowance", P, hid, h["household_id"], y, "dibao.over_standard",
             "The household is paid a classified allowance (分类施保) on top of the formula, as the county rules say.")
    # head dies: payments continue / household re-enrolled under the spouse.
    h = full_year_dibao(w, y, min_size=1, max_size=1)
    h["pay_after_death"] = True
    h["enrolments"][0]["end"] = date(y, 12, 31)
    w.people[h["enrolments"][0]["head_id"]]["death_date"] = date(y, 2, 14)
    w.record("anomaly", "paid_after_head_died", P, hid, h["household_id"], y, "dibao.paid_after_death",
             f"The only member died on {y}-02-14 and the dibao kept being paid.")
    h = full_year_dibao(w, y, min_size=2)
    spouse = member(w, h, "spouse")
    head = h["enrolments"][0]["head_id"]
    w.people[head]["death_date"] = date(y, 4, 9)
    h["enrolments"].append(dict(h["enrolments"][0], start=date(y, 5, 1), head_id=spouse,
                                size=h["enrolments"][0]["size"] - 1))
    h["enrolments"][0]["end"] = date(y, 4, 30)
    w.record("lookalike", "reenrolled_under_spouse", P, hid, h["household_id"], y, "dibao.paid_after_death",
             "The head died; the household was re-enrolled under the spouse from the next month.")
    # one official's account receives three unrelated households' dibao (one finding).
    official = w.people[w.pick(w.approvers[w.pick(list(w.approvers))])]
    f = w.new_finding()
    for _ in range(3):
        h = full_year_dibao(w, y)
        for m in months(date(y, 1, 1), date(y, 12, 1)):
            h["extra_account"][m] = official["account"]
        w.record("anomaly", "official_collects_dibao", P, hid, h["household_id"], y, "dibao.shared_account",
                 "The household's dibao is paid into a township official's account with two other households'.",
                 finding=f)
    a = full_year_dibao(w, y, min_size=2)
    b = full_year_dibao(w, y, min_size=1)
    b["members"].append((member(w, a), "other"))
    b["enrolments"][0]["size"] += 1
    b["account"] = a["account"]
    # not a duplicate enrolment: the two enrolments never overlap
    b["enrolments"][0]["start"], a["enrolments"][0]["end"] = date(y, 7, 1), date(y, 6, 30)
    w.record("lookalike", "split_household_same_card", P, hid, b["household_id"], y, "dibao.shared_account",
             "A household split off from a related one (a shared member) keeps the family card.")
    # cars: expensive, and cheap (below 100,000 yuan) — any car excludes here.
    h = full_year_dibao(w, y, min_size=2)
    enrol.add_vehicle(w, member(w, h), "car", date(y, 1, 20), vtype="K31", price=148000, dereg=date(y + 1, 1, 1))
    w.record("anomaly", "household_with_suv", P, hid, h["household_id"], y, "dibao.vehicle",
             "A member registered a 148,000 yuan passenger car (K31).")
    h = full_year_dibao(w, y, min_size=2)
    enrol.add_vehicle(w, member(w, h), "car", date(y, 1, 20), vtype="K33", price=58000, dereg=date(y + 1, 1, 1))
    w.record("anomaly", "household_with_cheap_car", P, hid, h["household_id"], y, "dibao.vehicle",
             "A member registered a 58,000 yuan car (K33 小型轿车): the province excludes any non-exempt car.")
    for vtype in ("M11", "T21"):
        h = full_year_dibao(w, y, urban=False, min_size=2)
        enrol.add_vehicle(w, member(w, h), "cheap", date(y - 2, 4, 1), vtype=vtype)
        w.record("lookalike", f"household_with_{vtype}", P, hid, h["household_id"], y, "dibao.vehicle",
                 f"A member owns a {vtype} (an electric tricycle or a small tractor), a livelihood vehicle.")


def _reexamined_next_year(w: World, h: dict, y: int) -> None:
    """The review at the year's end re-approves the enrolment properly from January."""
    first = h["enrolments"][0]
    first["end"] = date(y, 12, 31)
    h["enrolments"].append(dict(first, start=date(y + 1, 1, 1), end=None,
                                approved_by=w.pick(w.approvers[h["region_code"][6:9]])))


def _allowance_household(w: World, y: int) -> dict:
    """A household with a grade 1-2 disabled member: paid 30% of the standard on top (分类施保)."""
    h = full_year_dibao(w, y, min_size=1, max_size=2)
    enrol.add_cert(w, h["members"][0][0], 1, date(2015, 5, 1), None, "physical")
    return h


def resolve_overrides(w: World) -> None:
    """Households paid `over_by` above their own formula (the plants leave the months as None)."""
    from .payments import dibao_amount, enrolment_for
    for h in w.dibao:
        for m, v in list(h["overrides"].items()):
            if v is None:
                h["overrides"][m] = dibao_amount(w, h, enrolment_for(h, m), m) + h["over_by"]
