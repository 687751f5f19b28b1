"""docs/features.md documents every feature of the code, and the excluded columns."""

from pathlib import Path

from fundwatch.detect import FEATURE_SETS
from fundwatch.detect.docs import BEGIN, END, features_markdown, render_into
from fundwatch.detect.protected import ID_COLUMNS, PROTECTED_COLUMNS

DOC = Path(__file__).resolve().parent.parent / "docs" / "features.md"


def test_feature_tables_match_the_code():
    text = DOC.read_text(encoding="utf-8")
    assert render_into(text) == text, "run: python -m fundwatch.detect.docs docs/features.md"
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert generated.strip() == features_markdown().strip()
    for fs in FEATURE_SETS:
        assert f"### {fs.program} / {fs.entity_type}" in generated
        for f in fs.features:
            assert f.description and f.source, f.name
            assert f"| `{f.name}` | {f.description}" in generated


def test_excluded_columns_are_written_down():
    text = DOC.read_text(encoding="utf-8").split(BEGIN, 1)[0]
    for col in sorted(PROTECTED_COLUMNS | ID_COLUMNS):
        assert f"`{col}`" in text, col
