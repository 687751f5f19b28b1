"""Detect a CSV's text encoding and hand DuckDB a UTF-8 file.

Chinese government exports come as UTF-8, UTF-8 with BOM, or GBK/GB18030. DuckDB reads
UTF-8 natively; anything else is transcoded once, streaming, into a temporary file.
"""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

from fundwatch.errors import LoadError

CHUNK = 8 << 20


def _decodes_as(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """One of utf-8, utf-8-sig, utf-16, gb18030, or what charset-normalizer finds."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes_as(path, "utf-8"):
        return "utf-8"
    # GB18030 is a superset of GBK and GB2312: one decoder serves all three.
    if _decodes_as(path, "gb18030"):
        return "gb18030"
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is None:
        raise LoadError(
            [f"{path}: cannot tell the text encoding (tried UTF-8, GBK/GB18030); save it as UTF-8"]
        )
    return best.encoding


def as_utf8(path: Path, encoding: str, tmpdir: Path) -> Path:
    """A path DuckDB can read: the file itself if UTF-8, else a transcoded copy."""
    if encoding in ("utf-8", "ascii"):
        return path
    target = tmpdir / (path.name + ".utf8.csv")
    with (
        path.open("r", encoding=encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        shutil.copyfileobj(src, dst, CHUNK)
    return target
