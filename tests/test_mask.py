"""Masking keeps area code and last four of IDs, last four of accounts, and leaves credit codes alone."""

import pandas as pd

from fundwatch.report.mask import mask_frame, mask_text
from tests.conftest import make_code, make_id


def test_resident_id_is_masked_as_the_contract_shows():
    assert mask_text("110105194912310021") == "110105********0021"
    assert mask_text("id 11010519491231002X.") == "id 110105********002X."
    assert mask_text(make_id(5).lower()) == make_id(5).lower()[:6] + "********" + make_id(5).lower()[-4:]


def test_accounts_keep_last_four_and_credit_codes_with_letters_stay():
    assert mask_text("paid into 6222021234567890123") == "paid into ***************0123"
    assert mask_text("91330100MA27XK3937") == "91330100MA27XK3937"
    # All digits: indistinguishable from an account, so masked (the safe side).
    assert mask_text(f"cooperative {make_code(42)}") == "cooperative **************0429"


def test_entity_id_is_masked_only_for_persons():
    pid, code = make_id(3), make_code(42)
    frame = pd.DataFrame({"entity_type": ["person", "cooperative", "household"], "entity_id": [pid, code, "H123"]})
    assert list(mask_frame(frame)["entity_id"]) == [pid[:6] + "********" + pid[-4:], code, "H123"]


def test_mask_frame_masks_every_text_column_but_not_numbers():
    pid = make_id(7)
    frame = pd.DataFrame({"entity_id": [pid], "summary": [f"member {pid} paid into 6222021234567890"],
                          "amount": [123456789012.0]})
    out = mask_frame(frame)
    assert pid not in out.to_csv() and out["amount"].iloc[0] == 123456789012.0
    assert out["summary"].iloc[0] == f"member {pid[:6]}********{pid[-4:]} paid into ************7890"


def test_area_codes_and_case_ids_are_not_masked():
    frame = pd.DataFrame({"case_id": ["C2023-123456789012"], "region_code": ["522631102001"],
                          "summary": ["household in 522631102001 paid into 6222021234567890"]})
    out = mask_frame(frame)
    assert out["case_id"].iloc[0] == "C2023-123456789012" and out["region_code"].iloc[0] == "522631102001"
    assert out["summary"].iloc[0] == "household in 522631102001 paid into ************7890"


def test_logs_are_masked_and_progress_is_quiet_off_a_terminal(capsys):
    import json

    from fundwatch import log

    pid = make_id(9)
    log.set_format("text")
    log.emit(f"reading file of {pid}")  # progress: quiet when stderr is not a terminal
    log.emit(f"warning about {pid} and 6222021234567890123", level="warning", event="x")
    err = capsys.readouterr().err
    assert "reading" not in err and pid not in err and "6222021234567890123" not in err and pid[:6] in err
    log.set_format("json")
    log.emit(f"progress {pid}", person=pid)
    record = json.loads(capsys.readouterr().err)
    log.set_format("text")
    assert record["event"] == "progress" and pid not in json.dumps(record) and record["person"].startswith(pid[:6])


def test_a_case_entities_list_masks_people_and_keeps_codes():
    from fundwatch.report.mask import mask_entities, mask_frame

    listed = "person:110105199001010016;cooperative:93522631467055507X;household:H0001"
    assert mask_entities(listed) == "person:110105********0016;cooperative:93522631467055507X;household:H0001"
    frame = pd.DataFrame({"entities": [listed], "weights": ["dibao.vehicle=0.512"]})
    assert mask_frame(frame).iloc[0].tolist() == [mask_entities(listed), "dibao.vehicle=0.512"]
