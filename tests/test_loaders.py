"""Loading real files of every format and encoding, with every kind of bad value."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from fundwatch.errors import LoadError
from fundwatch.workspace import Workspace
from tests.conftest import make_code, make_id

DEATHS_HEADER = "person_id,name,death_date"


def write(path, lines, encoding="utf-8"):
    path.write_text("\n".join(lines) + "\n", encoding=encoding)


def quarantine(ws, table=None):
    sql = "SELECT line, column_name, raw_value, reason FROM fw_quarantine"
    if table:
        sql += f" WHERE table_name = '{table}'"
    return ws.con.execute(sql + " ORDER BY line").fetchall()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_with_chinese_headers(ws, tmp_path, encoding):
    write(tmp_path / "deaths.csv", ["公民身份号码,姓名,死亡日期", f"{make_id(1)},张三丰,2023-02-01",
                                    f"{make_id(2)},李四,2023年3月5日"], encoding)
    report = ws.load(tmp_path)
    assert report.tables["deaths"].rows_loaded == 2
    rows = ws.con.execute("SELECT person_id, name, death_date FROM deaths ORDER BY name").fetchall()
    assert rows == [(make_id(1), "张三丰", dt.date(2023, 2, 1)), (make_id(2), "李四", dt.date(2023, 3, 5))]


def test_every_kind_of_bad_value_is_quarantined_with_its_line(ws, tmp_path):
    good = make_id(1)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    write(tmp_path / "subsidy_payments.csv", [
        "payment_id,program_code,person_id,period,amount,pay_date",
        f"1,FARM,{good},2023-03,\"1,234.50\",2023/3/5",           # 2 loads (separator, slashes)
        f"2,FARM,{bad_check},2023-03,100,2023-03-05",               # 3 check digit
        "3,FARM,110105800101123,2023-03,100,2023-03-05",            # 4 legacy
        "4,FARM,1.10105E+17,2023-03,100,2023-03-05",                # 5 excel
        f"5,FARM,{good},2023-13,100,2023-03-05",                    # 6 month 13
        f"6,FARM,{good},2023-03,abc元,2023-03-05",                  # 7 money
        f"7,FARM,{good},2023-03,100,2023-02-30",                    # 8 date that does not exist
        "",                                                          # 9 blank
        "payment_id,program_code,person_id,period,amount,pay_date",  # 10 repeated header
        f"8,,{good},202303,100元,20230305",                          # 11 missing required program_code
        f" 9 ,FARM, {good.lower()} ,2023/3,100.5元,45000",           # 12 loads (spaces, lower x, serial date)
    ])
    report = ws.load(tmp_path)
    t = report.tables["subsidy_payments"]
    assert (t.rows_loaded, t.rows_quarantined, t.blank, t.repeated_headers) == (2, 7, 1, 1)
    assert t.rows_read == t.rows_loaded + t.rows_quarantined + t.repeated_headers
    assert [(q[0], q[1], q[3]) for q in quarantine(ws)] == [
        (3, "person_id", "bad_check_digit"), (4, "person_id", "legacy_id"), (5, "person_id", "excel_mangled_id"),
        (6, "period", "bad_period"), (7, "amount", "bad_money"), (8, "pay_date", "bad_date"),
        (11, "program_code", "missing_required"),
    ]
    loaded = ws.con.execute("SELECT payment_id, person_id, period, amount, pay_date FROM subsidy_payments "
                            "ORDER BY payment_id").fetchall()
    assert loaded == [("1", good, dt.date(2023, 3, 1), Decimal("1234.50"), dt.date(2023, 3, 5)),
                      ("9", good, dt.date(2023, 3, 1), Decimal("100.50"), dt.date(2023, 3, 15))]
    # The raw row is kept, so nothing is lost.
    raw = ws.con.execute("SELECT raw_row FROM fw_quarantine WHERE line = 7").fetchall()[0][0]
    assert "abc元" in raw


def test_row_with_wrong_number_of_fields_is_quarantined(ws, tmp_path):
    write(tmp_path / "deaths.csv", [DEATHS_HEADER, f"{make_id(1)},a,2023-01-01,extra", f"{make_id(2)},b,2023-01-02"])
    report = ws.load(tmp_path)
    assert report.tables["deaths"].rows_loaded == 1
    assert [(q[0], q[3]) for q in quarantine(ws)] == [(2, "bad_row_shape")]


def test_quoted_field_spanning_lines_keeps_line_numbers(ws, tmp_path):
    write(tmp_path / "deaths.csv", [DEATHS_HEADER, f'{make_id(1)},"two', 'lines",2023-01-01', "bad,c,2023-01-01"])
    ws.load(tmp_path)
    assert [(q[0], q[3]) for q in quarantine(ws)] == [(4, "bad_id_format")]
    assert ws.con.execute("SELECT name FROM deaths").fetchall() == [("two\nlines",)]


def test_xlsx_title_rows_serial_dates_and_mangled_ids(ws, tmp_path):
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["2023年死亡火化登记"])
    sheet.append([])
    sheet.append(["身份证号", "姓名", "死亡日期"])
    sheet.append([make_id(1), "张三", dt.datetime(2023, 4, 1)])
    sheet.append([make_id(2), "李四", 45000])  # Excel serial number
    sheet.append([110105198001010000, "王五", "2023-01-01"])  # an ID Excel turned into a number
    wb.save(tmp_path / "deaths.xlsx")
    report = ws.load(tmp_path)
    assert report.tables["deaths"].rows_loaded == 2
    assert ws.con.execute("SELECT death_date FROM deaths ORDER BY name").fetchall() == [
        (dt.date(2023, 4, 1),), (dt.date(2023, 3, 15),)]
    assert [(q[0], q[3]) for q in quarantine(ws)] == [(6, "excel_mangled_id")]


def test_parquet_and_a_folder_of_parts(ws, tmp_path):
    part = tmp_path / "coop_members"
    part.mkdir()
    pd.DataFrame({"coop_id": [make_code(1)], "person_id": [make_id(1)], "shares": [2.5]}).to_parquet(part / "a.parquet")
    pd.DataFrame({"coop_id": [make_code(2)], "person_id": [make_id(2)], "join_date": [dt.date(2020, 1, 1)]}).to_parquet(
        part / "b.parquet")
    (part / "c.csv").write_text(f"coop_id,person_id\n{make_code(3)},{make_id(3)}\n{make_code(4)},bad\n")
    report = ws.load(tmp_path)
    t = report.tables["coop_members"]
    assert (t.rows_loaded, t.rows_quarantined, len(t.files)) == (3, 1, 3)
    assert ws.con.execute("SELECT count(*) FROM coop_members WHERE join_date = DATE '2020-01-01'").fetchall() == [(1,)]


def test_missing_required_column_names_file_column_and_found_columns(ws, tmp_path):
    write(tmp_path / "deaths.csv", ["身份证号,姓名", f"{make_id(1)},a"])
    write(tmp_path / "vehicles.csv", ["person_id,plate_no", f"{make_id(1)},浙A12345"])
    with pytest.raises(LoadError) as err:
        ws.load(tmp_path)
    text = str(err.value)
    # Every problem of the load is reported together, each naming its file.
    assert "deaths.csv" in text and "death_date" in text and "'身份证号'" in text and "'姓名'" in text
    assert "vehicles.csv" in text and "registration_date" in text
    assert ws.loaded_tables() == []


def test_unreadable_file_is_named(ws, tmp_path):
    (tmp_path / "deaths.xlsx").write_bytes(b"this is not a zip file")
    with pytest.raises(LoadError, match=r"deaths\.xlsx: cannot open as an Excel workbook"):
        ws.load(tmp_path)


def test_failed_load_changes_nothing(ws, tmp_path):
    write(tmp_path / "deaths.csv", [DEATHS_HEADER, f"{make_id(1)},a,2023-01-01"])
    ws.load(tmp_path)
    write(tmp_path / "deaths.csv", [DEATHS_HEADER, f"{make_id(2)},b,2023-01-01", f"{make_id(3)},c,2023-01-01"])
    write(tmp_path / "vehicles.csv", ["person_id", make_id(1)])  # broken: no registration_date
    with pytest.raises(LoadError):
        ws.load(tmp_path)
    assert ws.con.execute("SELECT person_id FROM deaths").fetchall() == [(make_id(1),)]


def test_same_files_twice_changes_nothing_and_new_version_replaces(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write(data / "deaths.csv", [DEATHS_HEADER, f"{make_id(1)},a,2023-01-01", "bad,b,2023-01-01"])
    path = tmp_path / "ws.duckdb"
    with Workspace(path) as ws:
        first = ws.load(data)
        second = ws.load(data)
        assert first.tables["deaths"].status == "loaded" and second.tables["deaths"].status == "unchanged"
        assert ws.con.execute("SELECT count(*) FROM deaths").fetchall() == [(1,)]
        assert ws.con.execute("SELECT count(*) FROM fw_quarantine").fetchall() == [(1,)]
        assert ws.con.execute("SELECT count(*) FROM fw_load_files").fetchall() == [(1,)]
    write(data / "deaths.csv", [DEATHS_HEADER, f"{make_id(2)},b,2023-01-01", f"{make_id(3)},c,2023-01-02"])
    with Workspace(path) as ws:
        third = ws.load(data)
        assert third.tables["deaths"].status == "loaded"
        assert ws.con.execute("SELECT person_id FROM deaths ORDER BY 1").fetchall() == [(make_id(2),), (make_id(3),)]
        assert ws.con.execute("SELECT count(*) FROM fw_quarantine").fetchall() == [(0,)]
        assert ws.con.execute("SELECT count(*) FROM fw_load_files").fetchall() == [(2,)]


def test_user_mapping_file_and_unknown_headers(ws, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write(data / "deaths.csv", ["亡者证件,姓名,殁日,备注", f"{make_id(1)},a,2023-01-01,x"])
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[deaths]\n"亡者证件" = "person_id"\n"殁日" = "death_date"\n', encoding="utf-8")
    report = ws.load(data, mapping=mapping)
    assert report.tables["deaths"].rows_loaded == 1
    assert report.tables["deaths"].unknown_headers == ["备注"]
    assert "备注" in report.format()


def test_two_headers_meaning_one_column_is_an_error(ws, tmp_path):
    write(tmp_path / "deaths.csv", ["身份证号,公民身份号码,death_date", f"{make_id(1)},{make_id(1)},2023-01-01"])
    with pytest.raises(LoadError, match="both mean column 'person_id'"):
        ws.load(tmp_path)


def test_enum_values_in_chinese_and_unknown(ws, tmp_path):
    write(tmp_path / "civil_servants.csv", ["身份证号,单位性质,任职日期", f"{make_id(1)},村干部,2020-01-01",
                                            f"{make_id(2)},government,2020-01-01", f"{make_id(3)},外星人,2020-01-01"])
    ws.load(tmp_path)
    assert ws.con.execute("SELECT employer_type FROM civil_servants ORDER BY 1").fetchall() == [
        ("government",), ("village_cadre",)]
    assert [(q[1], q[3]) for q in quarantine(ws)] == [("employer_type", "bad_enum")]


def test_spans_that_close_before_they_open_load_and_are_reported(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write(data / "civil_servants.csv", ["person_id,start_date,end_date", f"{make_id(1)},2020-01-01,2019-12-31",
                                        f"{make_id(2)},2020-01-01,2020-01-01", f"{make_id(3)},2020-01-01,"])
    write(data / "vehicles.csv", ["person_id,registration_date,deregistration_date",
                                  f"{make_id(4)},2021-05-01,2021-04-30", f"{make_id(5)},2021-05-01,2021-05-01",
                                  f"{make_id(6)},2021-05-01,2021-04-01"])
    write(data / "deaths.csv", [DEATHS_HEADER, f"{make_id(1)},a,2023-01-01"])
    with Workspace(tmp_path / "ws.duckdb") as ws:
        for report in (ws.load(data), ws.load(data)):  # loaded, then unchanged
            tables = report.tables
            assert tables["civil_servants"].rows_loaded == 3 and tables["civil_servants"].rows_quarantined == 0
            assert tables["civil_servants"].warnings == [("end_date before start_date", 1)]
            assert tables["vehicles"].warnings == [("deregistration_date before registration_date", 2)]
            assert tables["deaths"].warnings == []
            text = report.format()
            assert "civil_servants: 1 rows with end_date before start_date, loaded as they are" in text
            assert "vehicles: 2 rows with deregistration_date before registration_date" in text
            frame = report.to_frame().set_index("table")
            assert frame.loc["vehicles", "warnings"] == "deregistration_date before registration_date (2)"
            assert frame.loc["deaths", "warnings"] == ""


def test_spans_name_two_date_columns_of_their_table():
    from fundwatch.contract.tables import SPANS, TABLES

    for table, columns in SPANS.items():
        assert [TABLES[table].column(c).kind for c in columns] == ["date", "date"], table


def test_files_that_are_not_tables_are_listed_as_ignored(ws, tmp_path):
    write(tmp_path / "deaths.csv", [DEATHS_HEADER, f"{make_id(1)},a,2023-01-01"])
    write(tmp_path / "notes.csv", ["a,b", "1,2"])
    report = ws.load(tmp_path)
    assert report.ignored == ["notes.csv"]


def test_windows_line_endings_with_blank_lines_and_gbk(ws, tmp_path):
    lines = ["身份证号,姓名,死亡日期", f"{make_id(1)},张三,2023-01-01", "", "bad,李四,2023-01-02", f"{make_id(2)},王五,2023-01-03"]
    (tmp_path / "deaths.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    report = ws.load(tmp_path)
    t = report.tables["deaths"]
    assert (t.rows_loaded, t.rows_quarantined, t.blank) == (2, 1, 1)
    assert [(q[0], q[3]) for q in quarantine(ws)] == [(4, "bad_id_format")]
    assert ws.con.execute("SELECT name FROM deaths ORDER BY name").fetchall() == [("张三",), ("王五",)]


def test_numbers_too_large_for_their_type_are_quarantined_not_a_crash(ws, tmp_path):
    write(tmp_path / "subsidy_payments.csv", [
        "payment_id,program_code,person_id,period,amount",
        f"1,FARM,{make_id(1)},2023-03,100.00",
        f"2,FARM,{make_id(1)},2023-03,{'9' * 18}",  # 18 digits do not fit DECIMAL(18,2)
    ])
    report = ws.load(tmp_path)
    assert report.tables["subsidy_payments"].rows_loaded == 1
    assert [(q[0], q[1], q[3]) for q in quarantine(ws)] == [(3, "amount", "bad_money")]


@pytest.mark.parametrize("blank_runs", [1, 3, 20])  # few skipped lines: offsets in SQL; many: a join
def test_line_numbers_after_many_blank_and_broken_lines(ws, tmp_path, blank_runs):
    lines = [DEATHS_HEADER]
    expected = []
    for i in range(blank_runs):
        lines += [f"{make_id(i + 1)},a{i},2023-01-01", "", f"{make_id(i + 1)},b{i},2023-01-01,extra",
                  f"bad{i},c{i},2023-01-01"]
        expected += [(len(lines) - 1, "bad_row_shape"), (len(lines), "bad_id_format")]
    write(tmp_path / "deaths.csv", lines)
    report = ws.load(tmp_path)
    t = report.tables["deaths"]
    assert (t.rows_loaded, t.rows_quarantined, t.blank) == (blank_runs, 2 * blank_runs, blank_runs)
    assert [(q[0], q[3]) for q in quarantine(ws)] == expected


def test_rows_are_loaded_in_the_order_of_the_file(ws, tmp_path):
    # The ID check's join may emit the rows out of order (a file smaller than the county
    # table is the join's build side); the table keeps the file's order.
    n = 3_000
    names = [f"n{(i * 7919) % n:06d}" for i in range(n)]
    write(tmp_path / "deaths.csv", [DEATHS_HEADER] + [f"{make_id(i % 500 + 1)},{name},2023-01-01" for i, name in enumerate(names)])
    assert ws.load(tmp_path).tables["deaths"].rows_loaded == n
    assert [r[0] for r in ws.con.execute("SELECT name FROM deaths").fetchall()] == names


@pytest.mark.parametrize("later", ["gbk", "bad bytes"])
def test_a_file_utf8_only_at_its_start_is_read_as_a_whole(ws, tmp_path, monkeypatch, later):
    """The encoding is guessed from the file's start; rows further on that are not UTF-8 make
    fundwatch decide on the whole file, as if it had read it all at first."""
    import fundwatch.load.encoding as encoding

    monkeypatch.setattr(encoding, "CHUNK", 64)  # "the start" is the first 64 bytes here
    # Past the header, more than Python's text reader decodes at once: DuckDB meets the bytes.
    head = ["person_id,name,death_date"] + [f"{make_id(i)},Zhang San,2023-02-01" for i in range(1, 700)]
    text = "\n".join(head) + "\n"
    assert len(text.encode()) > 3 * 8192
    tail = f"{make_id(9)},李四,2023-03-05\n".encode("gbk")
    if later == "bad bytes":  # neither UTF-8 nor GBK in the end: charset detection decides
        tail = f"{make_id(9)},Li Si,2023-03-05\n".encode() + b"\xff\xfe\xfd\n"
    (tmp_path / "deaths.csv").write_bytes(text.encode() + tail)
    report = ws.load(tmp_path)
    names = [r[0] for r in ws.con.execute("SELECT name FROM deaths ORDER BY person_id").fetchall()]
    if later == "gbk":
        assert report.tables["deaths"].rows_loaded == 700
        assert "李四" in names  # transcoded from GBK, not rejected as bad bytes
    else:
        table = report.tables["deaths"]
        assert table.rows_loaded + table.rows_quarantined == 701  # nothing lost either way


def test_a_large_table_without_ids_keeps_the_order_of_the_file(ws, tmp_path):
    # Typed on every core with no sort (no join in its typing): rows still come in file order.
    n = 300_000  # several of DuckDB's row groups, so that the typing runs in parallel
    ids = [f"P{(i * 7919) % n:07d}" for i in range(n)]
    lines = ["payment_id,household_id,period,amount"] + [f"{p},H{i % 997},2023-{i % 12 + 1:02d},{i % 500}.00"
                                                         for i, p in enumerate(ids)]
    (tmp_path / "dibao_payments.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ws.load(tmp_path).tables["dibao_payments"].rows_loaded == n
    assert [r[0] for r in ws.con.execute("SELECT payment_id FROM dibao_payments").fetchall()] == ids
