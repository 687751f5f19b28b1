"""`fundwatch calibrate`: propose a county's fundwatch.toml from its own data.

    spec.py         a rule parameter's `calibrate:` block, validated when the rule file loads
    proposals.py    runs those blocks on a county's data and proposes values with their evidence
    firing.py       rules that fire on too much of their population with the current config
    conventions.py  a systematic pattern among one rule's hits (`conventions(hits, rule)`)
    county.py       the county code of the loaded data
    writer.py       the proposed fundwatch.toml, evidence as comments
    run.py          all of it for one folder and year (`calibrate(ws, year)`)

Imports stay lazy here: the rule catalogue imports spec.py while rules load.
"""

from __future__ import annotations


def __getattr__(name):
    if name in ("calibrate", "Calibration"):
        from fundwatch.calibrate import run

        return getattr(run, name)
    if name == "conventions":
        from fundwatch.calibrate.conventions import conventions

        return conventions
    if name == "Proposal":
        from fundwatch.calibrate.proposal import Proposal

        return Proposal
    raise AttributeError(name)
