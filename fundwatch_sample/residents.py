"""The household registry (residents) and disability certificates of the sample world.

Everyone in the world is on the registry of their village, in their family's hukou household,
registered (`resident`) unless a coverage look-alike moved them out (`w.moved_out`, person ->
day). The certificates are fundwatch_sample/certificates.py's.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fundwatch_sample import ids
from fundwatch_sample.util import NA


def tables(w, s, take, date) -> dict[str, dict[str, pa.Array]]:
    """residents and disability_certificates, as write.tables() builds the others."""
    p = w.people
    n = len(p)
    moved = np.full(n, NA, dtype=np.int64)
    for person, d in w.moved_out.items():
        moved[person] = d
    residents = {
        "person_id": s.pid, "name": s.name, "birth_date": date(p.birth.to_numpy()),
        "region_code": take(s.region, p.village.to_numpy()),
        "hukou_household_id": ids.running_keys("HK", p.fam.to_numpy() + 1, 8),
        "status": pa.array(np.where(moved == NA, "resident", "moved_out")), "moved_out_date": date(moved),
    }  # fmt: skip
    c = w.certs
    certificates = {
        "person_id": take(s.pid, c.person.to_numpy()), "category": pa.array(c.category.to_numpy().astype(str)),
        "grade": pa.array(c.grade.to_numpy().astype(str)),
        "issue_date": date(c.issued.to_numpy()), "revoked_date": date(c.revoked.to_numpy()),
    }  # fmt: skip
    return {"residents": residents, "disability_certificates": certificates}
