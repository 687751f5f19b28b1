"""The county's villages, families and people.

Every person belongs to exactly one family (户). Families come in four kinds, and each
programme draws from its own kinds, which keeps the background free of accidental rule
hits (a civil servant can only land in a dibao household if a scenario puts them there):

- DIBAO: low-income families enrolled in 低保;
- HOUSING: families renting public housing (公租房) in the county seat;
- FARM: farming families; heads receive farmland subsidies and join cooperatives;
- OTHER: everyone else; publicly funded staff, businesses and most registries come from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fundwatch_sample import ids
from fundwatch_sample.util import choice_idx, day

DIBAO, HOUSING, FARM, OTHER = 0, 1, 2, 3
HEAD, SPOUSE, CHILD, PARENT, OTHER_REL = 0, 1, 2, 3, 4
RELATIONS = ("head", "spouse", "child", "parent", "other")

REF_DAY = day(2023, 7, 1)  # ages below are "age in mid-2023"

TOWNSHIPS = (
    "德凤镇", "高屯镇", "中潮镇", "孟彦镇", "敖市镇", "九潮镇", "岩洞镇", "水口镇", "洪州镇", "尚重镇",
    "双江镇", "肇兴镇", "龙额镇", "永从镇", "茅贡镇", "坝寨乡", "口江乡", "地坪镇", "德化乡", "平寨乡",
)  # fmt: skip
_VILLAGE_SYL = "岑高平寨洞坝江溪岩坡冲堡塘湾田坪上下中新大小朝阳金龙凤竹花桥水井"

_SURNAMES = (
    ("吴", 9), ("杨", 8), ("石", 5), ("龙", 4), ("陆", 4), ("潘", 3.5), ("欧", 2.5), ("粟", 2),
    ("姚", 2), ("王", 3), ("李", 3), ("张", 2.5), ("刘", 2), ("陈", 2.5), ("罗", 2), ("胡", 1.5),
    ("杜", 1), ("蒙", 1.5), ("邓", 1), ("赵", 1), ("黄", 1.5), ("周", 1), ("徐", 1), ("谢", 1),
    ("林", 1), ("唐", 1), ("韦", 1), ("滚", 0.8), ("梁", 1), ("田", 1.5), ("彭", 1), ("廖", 0.5),
)  # fmt: skip
_MALE_CHARS = "国建明华军平文勇志强成海金德光永福贵林辉伟东兴生荣昌学胜春宏俊杰浩宇鹏祥秋忠"
_FEMALE_CHARS = "秀英芳玉兰梅丽红霞萍燕娟琴春花珍凤莲敏静婷雪艳慧桂妹美丹香银"

# Family size distributions (sizes 1..6) and how likely the second member is a spouse.
_SIZE_P = {
    DIBAO: (0.30, 0.25, 0.18, 0.14, 0.09, 0.04),
    HOUSING: (0.20, 0.25, 0.30, 0.17, 0.06, 0.02),
    FARM: (0.08, 0.18, 0.22, 0.25, 0.17, 0.10),
    OTHER: (0.12, 0.22, 0.30, 0.22, 0.10, 0.04),
}
_SPOUSE_P = {DIBAO: 0.55, HOUSING: 0.75, FARM: 0.88, OTHER: 0.85}


def make_villages(n_townships: int, per_township: int, rng) -> pd.DataFrame:
    """12-digit region codes: county 6 + township 3 + village 3."""
    t = np.repeat(np.arange(n_townships), per_township)
    v = np.tile(np.arange(per_township), n_townships)
    syl = np.array(list(_VILLAGE_SYL))
    names = [a + b + "村" for a, b in zip(rng.choice(syl, len(t)), rng.choice(syl, len(t)), strict=True)]
    town_names = [TOWNSHIPS[i] if i < len(TOWNSHIPS) else f"第{i + 1}乡" for i in range(n_townships)]
    return pd.DataFrame(
        {
            "township": t,
            "region_code": [
                f"{ids.HOME_COUNTY}{101 + a:03d}{201 + b:03d}" for a, b in zip(t, v, strict=True)
            ],
            "township_name": [town_names[i] for i in t],
            "village_name": names,
            "weight": rng.lognormal(0, 0.35, len(t)),  # villages differ in size
        }
    )


def _head_ages(kind: int, n: int, rng) -> np.ndarray:
    if kind == DIBAO:  # many elderly living alone, the rest middle-aged
        old = rng.random(n) < 0.45
        return np.where(old, rng.uniform(65, 90, n), rng.uniform(30, 64, n))
    if kind == HOUSING:
        return rng.uniform(25, 60, n)
    if kind == FARM:
        return rng.uniform(32, 76, n)
    return rng.uniform(25, 80, n)


def make_people(counts: dict[int, int], villages: pd.DataFrame, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Families and their members.

    Returns (families, people). people columns: fam, kind, rel, male, birth (day number),
    village, death (day number, filled in later by the registries).
    """
    fam_frames = []
    for kind, n in counts.items():
        size = choice_idx(rng, _SIZE_P[kind], n) + 1
        fam_frames.append(
            pd.DataFrame(
                {
                    "kind": np.full(n, kind, dtype=np.int8),
                    "size": size,
                    "head_age": _head_ages(kind, n, rng),
                    "has_spouse": rng.random(n) < _SPOUSE_P[kind],
                    "has_parent": rng.random(n) < 0.3,
                }
            )
        )
    fam = pd.concat(fam_frames, ignore_index=True)
    # Elderly heads rarely live with their own parents.
    fam.loc[fam.head_age > 62, "has_parent"] = False
    nf = len(fam)
    rural = np.flatnonzero(villages.township.to_numpy() > 0)
    seat = np.flatnonzero(villages.township.to_numpy() == 0)
    w = villages.weight.to_numpy()
    # Public housing is in the county seat (township 0); farming and dibao families live in
    # the rural townships; everyone else anywhere.
    kind = fam.kind.to_numpy()
    anywhere = np.arange(len(villages))
    village = np.select(
        [kind == HOUSING, kind == OTHER],
        [rng.choice(seat, nf, p=w[seat] / w[seat].sum()), rng.choice(anywhere, nf, p=w / w.sum())],
        rng.choice(rural, nf, p=w[rural] / w[rural].sum()),
    )
    fam["village"] = village

    # One row per member; k is the member's position in the family.
    sizes = fam["size"].to_numpy()
    f = np.repeat(np.arange(nf), sizes)
    k = np.arange(len(f)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    n = len(f)
    has_sp = fam.has_spouse.to_numpy()[f]
    has_par = fam.has_parent.to_numpy()[f]
    last = k == sizes[f] - 1
    rel = np.full(n, CHILD, dtype=np.int8)
    rel[k == 0] = HEAD
    rel[(k == 1) & has_sp] = SPOUSE
    rel[(k >= 1) & last & has_par & ~((k == 1) & has_sp)] = PARENT
    grandchild = (rel == CHILD) & (k >= 3) & (rng.random(n) < 0.15)
    rel[grandchild] = OTHER_REL

    head_age = fam.head_age.to_numpy()[f]
    age = head_age.copy()
    age = np.where(rel == SPOUSE, head_age + rng.normal(-1.5, 3, n), age)
    age = np.where(rel == CHILD, head_age - rng.uniform(21, 34, n) - 2.5 * np.maximum(k - 2, 0), age)
    age = np.where(rel == PARENT, head_age + rng.uniform(22, 31, n), age)
    age = np.where(rel == OTHER_REL, head_age - rng.uniform(42, 55, n), age)
    # Redraw out-of-range ages instead of clipping, which would pile people onto one birthday.
    age = np.where(age < 0.6, rng.uniform(0.6, 4, n), age)
    age = np.where(age > 99.5, rng.uniform(92, 99.5, n), age)
    age = np.where(rel == SPOUSE, np.maximum(age, 18.5), age)
    birth = (REF_DAY - age * 365.25).astype(np.int64)

    head_male = rng.random(nf) < np.where(fam.head_age.to_numpy() > 65, 0.55, 0.8)
    male = np.where(rel == HEAD, head_male[f], rng.random(n) < 0.5)
    male = np.where(rel == SPOUSE, ~head_male[f], male)

    people = pd.DataFrame(
        {
            "fam": f,
            "kind": fam.kind.to_numpy()[f],
            "rel": rel,
            "male": male,
            "birth": birth,
            "village": village[f],
        }
    )
    fam["head"] = np.flatnonzero(k == 0)
    return fam.drop(columns=["head_age", "has_spouse", "has_parent"]), people


def make_names(people: pd.DataFrame, rng) -> pa.Array:
    """Chinese names: children and grandchildren carry the head's surname."""
    n = len(people)
    sn = np.array([s for s, _ in _SURNAMES])
    fam_surname = choice_idx(rng, [w for _, w in _SURNAMES], people.fam.max() + 1 if n else 0)
    own = choice_idx(rng, [w for _, w in _SURNAMES], n)
    rel = people.rel.to_numpy()
    inherit = np.isin(rel, (HEAD, CHILD, OTHER_REL)) | ((rel == PARENT) & people.male.to_numpy())
    surname = np.where(inherit, fam_surname[people.fam.to_numpy()], own)
    male = people.male.to_numpy()
    mc, fc = np.array(list(_MALE_CHARS)), np.array(list(_FEMALE_CHARS))
    c1 = np.where(male, mc[rng.integers(0, len(mc), n)], fc[rng.integers(0, len(fc), n)])
    c2 = np.where(male, mc[rng.integers(0, len(mc), n)], fc[rng.integers(0, len(fc), n)])
    two = rng.random(n) < 0.72
    given2 = pc.binary_join_element_wise(pa.array(c1), pa.array(c2), "")
    given = pc.if_else(pa.array(two), given2, pa.array(c1))
    return pc.binary_join_element_wise(pa.array(sn).take(pa.array(surname)), given, "")


def make_person_ids(people: pd.DataFrame, rng) -> pa.Array:
    """Valid resident IDs: birth place, birth date, order code, check digit."""
    n = len(people)
    codes = np.array([int(c) for c, _ in ids.BIRTH_PLACES])
    place = codes[choice_idx(rng, [p for _, p in ids.BIRTH_PLACES], n)]
    b = people.birth.to_numpy().astype("datetime64[D]")
    y = b.astype("datetime64[Y]").astype(np.int64) + 1970
    m = b.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (b - b.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = y * 10_000 + m * 100 + d
    male = people.male.to_numpy()
    place, order = ids.places_and_order_codes(place, ymd, male, rng)
    return ids.resident_ids(place, ymd, order)


def age_on(birth: np.ndarray, d) -> np.ndarray:
    """Whole years of age on day d."""
    return np.floor((np.asarray(d) - birth) / 365.2425).astype(np.int64)
