"""Valid identifiers, built a whole column at a time.

- resident IDs (GB 11643-1999): birth-place county + birth date + order code + check digit;
  the county must be one stdnum's cn/loc database knows for the birth year, so we only use
  counties listed there without a validity range;
- unified social credit codes (GB 32100-2015) whose organisation code also carries its
  GB 11714 check character;
- bank card numbers (16 or 19 digits, Luhn check digit);
- plain running keys such as H0000123.

Numbers come from bijections of a running index, so they are unique without a retry loop.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# The county of the sample world and the places its people were born in. All are in
# stdnum's cn/loc without a validity range, so any birth year passes.
HOME_COUNTY = "522631"  # 黎平县, 黔东南州, 贵州省
BIRTH_PLACES = (
    ("522631", 0.88),  # born in the county
    ("522632", 0.03),  # 榕江县 (neighbours)
    ("522633", 0.025),  # 从江县
    ("522628", 0.02),  # 锦屏县
    ("522627", 0.015),  # 天柱县
    ("433122", 0.015),  # 泸溪县, 湖南 (married in)
    ("350121", 0.015),  # 闽侯县, 福建 (returned migrants' children)
)

_RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_RIC_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_USCC_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ZERO = ord("0")


def digits(values, width: int) -> np.ndarray:
    """n x width matrix (int64) of the decimal digits of non-negative ints below 10**13.

    Float division is exact enough here (values far below 2**53) and much faster than
    integer division over a wide matrix.
    """
    v = np.asarray(values, dtype=np.float64)
    pows = 10.0 ** np.arange(width, -1, -1)
    q = np.floor(v[:, None] / pows)
    return (q[:, 1:] - 10 * q[:, :-1]).astype(np.int64)


def to_strings(mat: np.ndarray) -> pa.Array:
    """n x k uint8 ASCII matrix -> arrow string array."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, k = mat.shape
    if n == 0:
        return pa.array([], pa.string())
    offsets = np.arange(0, (n + 1) * k, k, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(mat)])


def scramble(index, width: int, salt: int) -> np.ndarray:
    """A bijection of [0, 10**width): unique, random-looking numbers from a running index.

    index * mult + salt modulo 10**width with mult coprime to 10; the product is split in
    two so that it stays inside int64 for widths up to 12 and indexes below 10**7.
    """
    if width > 12:
        raise ValueError("width > 12")
    mod = 10**width
    mult = int(mod * 0.6180339887) | 1
    if mult % 5 == 0:
        mult += 2
    i = np.asarray(index, dtype=np.int64)
    hi, lo = divmod(mult, 1_000_000)
    return ((((i * hi) % mod) * 1_000_000) % mod + i * lo + salt) % mod


def resident_ids(place: np.ndarray, birth_yyyymmdd: np.ndarray, order: np.ndarray) -> pa.Array:
    """18-character resident IDs from 6-digit place ints, yyyymmdd ints and 3-digit order codes."""
    n = len(place)
    mat = np.empty((n, 18), dtype=np.uint8)
    step = 1 << 17  # chunks small enough to stay in cache
    for s in range(0, n, step):
        sl = slice(s, s + step)
        body = np.concatenate(
            [digits(place[sl], 6), digits(birth_yyyymmdd[sl], 8), digits(order[sl], 3)], axis=1
        )
        check = _RIC_CHECK[(body.astype(np.float64) @ _RIC_WEIGHTS).astype(np.int64) % 11]
        mat[sl, :17] = body + _ZERO
        mat[sl, 17] = check
    return to_strings(mat)


# The prefecture's other counties (all without a validity range in stdnum's cn/loc): where
# the births go that one place has no order code left for, in a world of a province's size.
SPARE_PLACES = ("522622", "522623", "522624", "522625", "522626", "522629", "522630", "522634",
                "522635", "522636")
MAX_RANK = 498  # order codes 002-999, men odd and women even: 499 of each a day per place


def places_and_order_codes(
    place: np.ndarray, birth_yyyymmdd: np.ndarray, male: np.ndarray, rng
) -> tuple[np.ndarray, np.ndarray]:
    """(birth place, order code) of each person, unique per (place, birth date, sex): odd codes
    for men, even for women. Above scale ~100 a popular birthday in the home county has more
    people than order codes: the surplus is born in the next of SPARE_PLACES instead. Nobody
    moves in a world where every group fits (the ranks of those who stay do not change)."""
    from fundwatch_sample.util import group_ranks

    place = np.array(place, dtype=np.int64)
    shuffled = rng.permutation(len(place))
    for spare in (*SPARE_PLACES, None):
        key = (place * 100_000_000 + birth_yyyymmdd) * 2 + male
        ranks = np.empty(len(key), dtype=np.int64)
        ranks[shuffled] = group_ranks(key[shuffled])
        surplus = ranks > MAX_RANK
        if not surplus.any():
            # Keep clear of 000 and 001; men odd, women even.
            return place, 2 * ranks + 2 + np.where(male, 1, 0)
        if spare is not None:
            place[surplus] = int(spare)
    raise ValueError("too many people born on one day for the home county and its spare places")


def credit_codes(index, entity_type: np.ndarray, region: str = HOME_COUNTY, salt: int = 0) -> pa.Array:
    """Unified social credit codes: '9' + entity type (1 company, 2 sole trader, 3 farmers'
    cooperative) + region + organisation code (8 digits + GB 11714 check) + GB 32100 check."""
    idx = np.asarray(index, dtype=np.int64)
    n = len(idx)
    org = digits(scramble(idx, 8, 13_579_246 + salt), 8)
    c9 = 11 - (org @ _ORG_WEIGHTS) % 11
    org_check = np.where(c9 == 10, 30, np.where(c9 == 11, 0, c9))  # 10 -> 'X' (index 30), 11 -> '0'
    head = np.concatenate(
        [
            np.full((n, 1), 9),
            np.asarray(entity_type, dtype=np.int64).reshape(n, 1),
            np.tile(np.array([int(c) for c in region]), (n, 1)),
            org,
            org_check[:, None],
        ],
        axis=1,
    )  # alphabet indexes
    check = (31 - (head @ _USCC_WEIGHTS) % 31) % 31
    mat = _USCC_ALPHABET[np.concatenate([head, check[:, None]], axis=1)]
    return to_strings(mat)


# Issuer prefixes seen on benefit cards in rural Guizhou, with card length.
_BANKS = (
    ("621779", 19, 0.45),  # rural credit union 一卡通
    ("622848", 19, 0.20),  # Agricultural Bank of China
    ("621700", 19, 0.12),  # China Construction Bank
    ("621226", 19, 0.10),  # ICBC
    ("622150", 16, 0.08),  # postal savings, older cards
    ("628312", 16, 0.05),  # credit card style numbers on older passbooks
)


def bank_accounts(index, rng, salt: int = 0) -> pa.Array:
    """Unique bank card numbers with a Luhn check digit, one per index."""
    idx = np.asarray(index, dtype=np.int64)
    n = len(idx)
    bank = rng.choice(len(_BANKS), size=n, p=[b[2] for b in _BANKS])
    out = np.empty((n, 19), dtype=np.uint8)
    lengths = np.empty(n, dtype=np.int64)
    for b, (prefix, length, _) in enumerate(_BANKS):  # six issuers, not rows
        sel = np.flatnonzero(bank == b)
        body_len = length - 7
        body = digits(scramble(idx[sel], body_len, 48_271_000_013 * (b + 1) + salt), body_len)
        payload = np.concatenate([np.tile([int(c) for c in prefix], (len(sel), 1)), body], axis=1)
        dbl = payload[:, ::-1].copy()
        dbl[:, 0::2] *= 2
        dbl[dbl > 9] -= 9
        check = (10 - dbl.sum(axis=1) % 10) % 10
        full = np.concatenate([payload, check[:, None]], axis=1) + _ZERO
        out[sel, :length] = full
        lengths[sel] = length
    # Variable length strings: pack the rows without their padding.
    mask = np.arange(19)[None, :] < lengths[:, None]
    data = out[mask]
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def running_keys(prefix: str, numbers, width: int) -> pa.Array:
    """prefix + zero padded number, e.g. H0000123."""
    nums = np.asarray(numbers, dtype=np.int64)
    pre = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    mat = np.concatenate(
        [np.tile(pre, (len(nums), 1)), (digits(nums, width) + _ZERO).astype(np.uint8)], axis=1
    )
    return to_strings(mat)
