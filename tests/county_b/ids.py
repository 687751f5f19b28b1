"""Identifiers of county B: resident IDs (GB 11643), credit codes (GB 32100), area codes, accounts.

County B is 光山县 (Henan, 411522). Its village codes follow the statistical convention the
rules read: village part 001-199 is an urban 居委会, 200-399 a rural 村委会.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from stdnum.cn import ric, uscc

COUNTY = "411522"
# Birth places: the county itself mostly, a few neighbours (people who married or moved in).
BIRTH_PLACES = ("411522", "411522", "411522", "411522", "411521", "411502", "411523")
# Townships: 3 streets (街道, urban) and 9 towns; each has urban and rural villages.
TOWNSHIPS = ("001", "002", "003", "101", "102", "103", "104", "105", "106", "107", "108", "109")


def village_code(township: str, village: int) -> str:
    return f"{COUNTY}{township}{village:03d}"


def is_urban(region_code: str) -> bool:
    return int(region_code[9:12]) < 200


# Before 1998 the county was 412526 (信阳地区); GB 11643 checks that the birth-place code existed
# in the birth year. python-stdnum's table lacks the 信阳 codes for 1987-1997: people born then
# carry a 郑州 code (born there, moved here), so every ID passes the same check as fundwatch's.
OLD_CODES = {"411522": "412526", "411521": "412525", "411502": "412501", "411523": "412527"}
FALLBACK = ("410102", "410105")


def resident_id(rng: np.random.Generator, birth: date, female: bool) -> str:
    place = BIRTH_PLACES[int(rng.integers(len(BIRTH_PLACES)))]
    seq = int(rng.integers(0, 50)) * 2 + (0 if female else 1)  # odd = male (GB 11643)
    tail = f"{birth:%Y%m%d}{int(rng.integers(0, 10))}{seq:02d}"
    for code in (place, OLD_CODES[place], *FALLBACK):
        body = code + tail
        number = body + ric.calc_check_digit(body + "0")  # stdnum's function skips the last char
        if ric.is_valid(number):
            return number
    raise ValueError(f"no valid birth-place code for a birth on {birth}")


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(rng: np.random.Generator, kind: str = "93") -> str:
    """A unified social credit code: 93 = farmers' cooperative, 92 = individual business, 91 = company."""
    while True:
        org8 = "".join(str(int(d)) for d in rng.integers(0, 10, 8))
        c9 = 11 - sum(int(d) * w for d, w in zip(org8, _ORG_WEIGHTS, strict=True)) % 11
        if c9 == 10:
            continue  # would be X; keep to digits
        body = f"{kind}{COUNTY}{org8}{0 if c9 == 11 else c9}"
        return body + uscc.calc_check_digit(body)


def bank_account(rng: np.random.Generator) -> str:
    # 19-digit card numbers of the rural commercial bank's 惠民一卡通 range.
    return "621799" + "".join(str(int(d)) for d in rng.integers(0, 10, 13))


SURNAMES = "陈李王张刘杨黄吴周徐胡朱高何郭罗马梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "志明华国建军伟强秀英兰芳丽娟敏静霞玉梅红云海波平勇杰涛磊超春燕桂珍凤琴"


def person_name(rng: np.random.Generator, surname: str | None = None) -> str:
    s = surname or SURNAMES[int(rng.integers(len(SURNAMES)))]
    n = int(rng.integers(1, 3))
    return s + "".join(GIVEN[int(i)] for i in rng.integers(0, len(GIVEN), n))
