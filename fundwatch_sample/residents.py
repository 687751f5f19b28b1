"""The household registry (residents) and disability certificates of the sample world.

Everyone in the world is on the registry of their village, registered (`resident`), in their
family's hukou household; every person of the disabled-allowance pool holds a valid
certificate whose grade is their allowance level. No missed beneficiary is planted yet
(issue 23, item 5: not done).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fundwatch_sample import ids
from fundwatch_sample.util import NA

CATEGORIES = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")


def _month_start(m: np.ndarray) -> np.ndarray:
    """Day numbers of the first day of month index year*12 + month-1."""
    m = np.asarray(m, dtype=np.int64)
    return (((m // 12) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m % 12)).astype(
        "datetime64[D]").astype(np.int64)


def tables(w, s, take, date) -> dict[str, dict[str, pa.Array]]:
    """residents and disability_certificates, as write.tables() builds the others."""
    p = w.people
    n = len(p)
    residents = {
        "person_id": s.pid, "name": s.name, "birth_date": date(p.birth.to_numpy()),
        "region_code": take(s.region, p.village.to_numpy()),
        "hukou_household_id": ids.running_keys("HK", p.fam.to_numpy() + 1, 8),
        "status": pa.array(np.full(n, "resident")), "moved_out_date": date(np.full(n, NA)),
    }  # fmt: skip
    d = w.disabled
    rng = np.random.default_rng([w.seed, 2023])
    # Issued up to five years before the allowance began.
    issued = _month_start(d.from_month.to_numpy()) - rng.integers(30, 5 * 365, len(d))
    certificates = {
        "person_id": take(s.pid, d.person.to_numpy()),
        "category": pa.array(rng.choice(np.array(CATEGORIES), len(d))),
        "grade": pa.array(d.level.to_numpy().astype(str)),
        "issue_date": date(issued), "revoked_date": date(np.full(len(d), NA)),
    }  # fmt: skip
    return {"residents": residents, "disability_certificates": certificates}
