"""Propose a column for every header the load cannot place, from its name and its values.

    from fundwatch.load.header_guess import propose_headers
    propose_headers("exports/")          # a DataFrame, one row per unplaced header

Only columns of the file's table that no header holds yet are candidates; required columns
missing from the file come first. A proposal's confidence (0-1) mixes how well the sampled
values fit the column's kind (header_shapes.py) with how close the name is to the column's
known aliases and key words. Within a file no header gets two columns and no column two
headers: the more confident proposal wins and the other says who took its column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import duckdb
import pandas as pd

from fundwatch.contract.aliases import COLUMN_ALIASES, NEUTRAL_UNITS, TABLE_ALIASES, normalise_header
from fundwatch.contract.tables import TABLES, ColumnSpec, TableSpec
from fundwatch.load.header_sample import SAMPLE_ROWS, FileSample, sample_directory
from fundwatch.load.header_shapes import Shape, enum_fit, kind_fit, shapes_of
from fundwatch.load.headers import UserMapping, read_mapping

APPLY = 0.6  # at or above: written as a mapping line
CHECK = 0.35  # at or above: written commented out, to check; below: ignore

# Words in a header that say what kind of value it holds.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "person_id": ("身份证", "证件", "身份号", "公民身份"),
    "credit_code": ("信用代码", "统一代码"),
    "date": ("日期", "时间"),
    "period": ("月份", "期间", "所属期", "年月", "账期"),
    "money": ("金额", "元", "工资", "租金", "资本", "价格", "收入", "成本", "盈余", "补助", "分红", "标准"),
    "account": ("账号", "卡号", "账户", "存折"),
    "region": ("区划", "地区", "区域"),
    "key": ("编号", "编码", "代码", "序号", "流水号", "号码", "id"),
    "year": ("年度", "年份"),
    "int": ("人数", "人口", "数"),
    "number": ("面积", "数量", "量", "份额", "股"),
    "enum": ("类型", "性质", "关系", "类别", "用途", "角色"),
    "text": ("名称", "姓名", "单位", "职务", "岗位"),
}

# Words that tell columns of one kind apart (which date, which amount, whose ID).
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "起始": ("start_date", "join_date", "registration_date", "registered_date"),
    "开始": ("start_date",), "纳入": ("start_date",), "入职": ("start_date",), "起租": ("start_date",),
    "入住": ("start_date",), "终止": ("end_date", "deregistration_date", "dissolved_date"),
    "结束": ("end_date",), "截止": ("end_date",), "退出": ("end_date",), "停保": ("end_date",),
    "离职": ("end_date",), "注销": ("deregistration_date", "dissolved_date", "end_date"),
    "户主": ("head_id",), "审批": ("approve_date", "approved_by"), "审核": ("approve_date", "approved_by"),
    "申请": ("apply_date",), "发放": ("pay_date", "amount", "payment_id"), "支付": ("pay_date", "payment_id"),
    "到账": ("pay_date", "received_date"), "拨": ("allocation_id", "amount", "received_date"),
    "死": ("death_date",), "火化": ("death_date",), "逝": ("death_date",),
    "应缴": ("rent_due",), "应收": ("rent_due",), "实缴": ("rent_paid",), "实收": ("rent_paid",),
    "缴费": ("paid_date", "payer_account"), "水": ("water_m3",), "电": ("electricity_kwh",),
    "法定代表人": ("legal_rep_id",), "法人": ("legal_rep_id",), "理事长": ("legal_rep_id",),
    "合作社": ("coop_id",), "成员数": ("member_count_declared",), "社员": ("member_count_declared",),
    "入社": ("join_date",), "家庭": ("household_id", "household_size", "declared_monthly_income"),
    "户": ("household_id",), "人口": ("household_size",), "购": ("purchase_price",),
    "车牌": ("plate_no",), "号牌": ("plate_no",), "车": ("vehicle_type", "plate_no"),
    "房源": ("unit_id",), "房屋": ("unit_id", "property_id"), "合同": ("tenancy_id",), "租赁": ("tenancy_id",),
    "项目": ("program_code", "program_name"), "经办": ("agency_code",), "机构": ("agency_code",),
    "文号": ("allocation_id",), "指标": ("allocation_id",), "流水": ("payment_id",), "序号": ("payment_id",),
    "不动产": ("property_id",), "产权": ("property_id",), "亩": ("basis_quantity",), "标准": ("unit_rate",),
    "单价": ("unit_rate",), "租金": ("monthly_rent",), "企业": ("entity_name", "entity_code"),
    "资本": ("registered_capital",), "单位": ("employer", "agency_code"), "收入": ("declared_monthly_income", "revenue"),
}

# A unit in the header that the contract does not use: the values need converting first.
FOREIGN_UNITS = {"money": ("万元", "千元", "万"), "area_m2": ("亩", "公顷")}
_UNIT = re.compile(r"\(([^()]*)\)$")


@dataclass
class Candidate:
    column: str
    confidence: float
    reason: str
    required: bool


def _names_of(spec: TableSpec, col: ColumnSpec) -> list[str]:
    return [normalise_header(a) for a in (col.name, *COLUMN_ALIASES.get(col.name, ()),
                                           *TABLE_ALIASES.get(spec.name, {}).get(col.name, ()))]


def name_score(header: str, spec: TableSpec, col: ColumnSpec) -> tuple[float, str]:
    """How close a header's name is to a column (0-1), and why."""
    h = normalise_header(header)
    ratio, closest = max((SequenceMatcher(None, h, a).ratio(), a) for a in _names_of(spec, col))
    kind = next((w for w in KIND_WORDS.get(col.kind, ()) if w in h), None)
    role = next((w for w, cols in ROLE_WORDS.items() if w in h and col.name in cols), None)
    score = min(1.0, 0.7 * ratio + (0.2 if kind else 0.0) + (0.25 if role else 0.0))
    why = []
    if ratio >= 0.5:
        why.append(f"name {header} close to {closest}")
    words = [w for w in (kind, role) if w]
    if words:
        why.append("name says " + "/".join(dict.fromkeys(words)))
    return score, "; ".join(why)


def _unit_warning(header: str, col: ColumnSpec) -> str | None:
    m = _UNIT.search(normalise_header(header))
    if not m or m.group(1) in NEUTRAL_UNITS:
        return None
    foreign = FOREIGN_UNITS.get(col.kind, ()) + FOREIGN_UNITS.get(col.name, ())
    if m.group(1) in foreign:
        return f"the header is in {m.group(1)}, the contract's {col.name} is not: convert the values before loading"
    return None


# The key that names each row of its table: its values never repeat. (Other keys repeat:
# a household has many payments.)
ROW_KEYS = {"dibao_payments": "payment_id", "subsidy_payments": "payment_id", "fund_allocations": "allocation_id",
            "housing_tenancies": "tenancy_id", "dibao_households": "household_id", "cooperatives": "coop_id"}


def _with_uniqueness(fit: tuple[float, str], shape: Shape, spec: TableSpec, col: ColumnSpec) -> tuple[float, str]:
    score, why = fit
    if spec.name not in ROW_KEYS or shape.n < 20 or score == 0:
        return fit
    unique = shape.distinct == shape.n
    if col.name == ROW_KEYS[spec.name] and not unique:
        return score * 0.5, why + f"; but they repeat ({shape.distinct} distinct in {shape.n}), a row key does not"
    if col.name == ROW_KEYS[spec.name]:
        return score, why + ", all different"
    if unique and col.kind == "key":
        return score * 0.8, why + f"; all different, as {ROW_KEYS[spec.name]}'s are"
    return fit


def score_header(con, header: str, shape: Shape, values: list[str], spec: TableSpec,
                 candidates: list[ColumnSpec], missing: set[str]) -> list[Candidate]:
    """Every candidate column for one header, most confident first."""
    fits = {}
    for col in candidates:
        enum = enum_fit(con, values, col) if col.kind == "enum" else 0.0
        fits[col.name] = _with_uniqueness(kind_fit(shape, col, enum), shape, spec, col)
    specific = {"person_id", "credit_code", "date", "period", "year", "region", "account", "money", "enum"}
    strong = [c.name for c in candidates if fits[c.name][0] >= 0.8 and c.kind in specific]
    out = []
    for col in candidates:
        fit, fit_why = fits[col.name]
        name, name_why = name_score(header, spec, col)
        if shape.n:
            confidence = 0.55 * fit + 0.45 * name
            if strong == [col.name]:
                confidence += 0.15  # the one column left that such values can go to
                fit_why += ", the only such column left"
            if fit < 0.5:
                confidence = min(confidence, 0.3)  # a good name does not make unfitting values right
        else:
            confidence = min(0.5, 0.6 * name)  # nothing to check the name against
        if col.name in missing:
            confidence += 0.05
        reasons = [r for r in (fit_why, name_why) if r]
        if (warning := _unit_warning(header, col)) is not None:
            confidence = min(confidence, 0.3)
            reasons.append(warning)
        out.append(Candidate(col.name, round(min(confidence, 1.0), 2), "; ".join(reasons), col.name in missing))
    out.sort(key=lambda c: (-c.confidence, not c.required, c.column))
    return out


def _assign(ranked: dict[int, list[Candidate]], headers: list[str]) -> dict[int, tuple[Candidate | None, list[str]]]:
    """Each header its best column no more confident header took; the notes say who lost what."""
    pairs = sorted(((c.confidence, not c.required, pos, i) for pos, cands in ranked.items()
                    for i, c in enumerate(cands)), key=lambda p: (-p[0], p[1], p[2], p[3]))
    taken: dict[str, int] = {}
    chosen: dict[int, tuple[Candidate | None, list[str]]] = {pos: (None, []) for pos in ranked}
    for confidence, _, pos, i in pairs:
        cand = ranked[pos][i]
        if chosen[pos][0] is not None or confidence < CHECK:
            continue
        if cand.column in taken:
            winner = taken[cand.column]
            chosen[pos][1].append(f"{cand.column} ({confidence:.2f}) went to {headers[winner]} "
                                  f"({chosen[winner][0].confidence:.2f})")
            continue
        taken[cand.column] = pos
        chosen[pos] = (cand, chosen[pos][1])
    return chosen


def propose_file(con, sample: FileSample) -> list[dict]:
    spec = TABLES[sample.table]
    if sample.problems:
        return [dict(table=sample.table, file=str(sample.path), header=None, column=None, confidence=0.0,
                     action="unreadable", reason="; ".join(sample.problems), required=False)]
    placed = sample.placed.columns
    free = [c for c in spec.columns if c.name not in placed]
    missing = {c for c in spec.required if c not in placed}
    positions = [pos for pos, h in enumerate(sample.headers)
                 if h.strip() and pos not in placed.values() and h in sample.placed.unknown]
    values = {pos: sample.values(pos) for pos in positions}
    shapes = shapes_of(con, values)  # one query for the file's columns
    ranked = {pos: score_header(con, sample.headers[pos], shapes[pos], values[pos], spec, free, missing)
              for pos in positions}
    chosen = _assign(ranked, sample.headers)
    rows = []
    for pos in positions:
        cand, notes = chosen[pos]
        if cand is None:
            best = ranked[pos][0] if ranked[pos] else None
            why = f"no column fits (best: {best.column} {best.confidence:.2f}: {best.reason})" if best else \
                "every column of the table is placed already"
            rows.append(dict(table=sample.table, file=str(sample.path), header=sample.headers[pos], column="ignore",
                             confidence=best.confidence if best else 0.0, action="ignore",
                             reason="; ".join([why, *notes]), required=False))
            continue
        rows.append(dict(table=sample.table, file=str(sample.path), header=sample.headers[pos], column=cand.column,
                         confidence=cand.confidence, action="map" if cand.confidence >= APPLY else "check",
                         reason="; ".join([cand.reason, *notes]), required=cand.required))
    proposed = {r["column"] for r in rows if r["action"] in ("map", "check")}
    for col in sorted(missing - proposed):
        rows.append(dict(table=sample.table, file=str(sample.path), header=None, column=col, confidence=0.0,
                         action="missing", reason="required, and no header of the file fits it", required=True))
    return rows


COLUMNS = ["table", "file", "header", "column", "confidence", "action", "reason", "required"]


def propose_samples(samples: list[FileSample]) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        rows = [r for s in samples for r in propose_file(con, s)]
    finally:
        con.close()
    return pd.DataFrame(rows, columns=COLUMNS)


def propose_headers(data_dir: str | Path, mapping: str | Path | UserMapping | None = None,
                    rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    """One row per header of DATA_DIR's table files that the load cannot place (and per
    required column nothing fits): its proposed column, confidence, action and reason.

    action: `map` (confident), `check` (written commented out), `ignore` (no column fits),
    `missing` (a required column no header fits), `unreadable` (the file could not be read)."""
    user = mapping if isinstance(mapping, dict) else read_mapping(mapping)
    return propose_samples(sample_directory(data_dir, user, rows))
