"""Detect a CSV's text encoding and hand DuckDB a UTF-8 file.

Chinese government exports come as UTF-8, UTF-8 with BOM, or GBK/GB18030. DuckDB reads
UTF-8 natively; anything else is transcoded once, streaming, into a temporary file.
"""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
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


def _starts_as_utf8(path: Path) -> bool:
    """The first CHUNK bytes are UTF-8 (a character cut by the chunk's end is allowed)."""
    with path.open("rb") as f:
        head = f.read(CHUNK)
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(head)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, whole: bool = True) -> str:
    """One of utf-8, utf-8-sig, utf-16, gb18030, or what charset-normalizer finds.

    `whole=False`: a file whose first CHUNK bytes are UTF-8 is taken as UTF-8 without
    decoding the rest (nearly a second of a scale-100 load). Only for a reader that checks
    the rest itself: DuckDB's CSV reader rejects every row that is not UTF-8 (`INVALID
    ENCODING`), and fundwatch then asks again with `whole=True`."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _starts_as_utf8(path) if not whole else _decodes_as(path, "utf-8"):
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


def _cr_only(path: Path) -> bool:
    """Lines ended by a lone CR (classic Mac exports): no LF in the first chunk, but a CR."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    return b"\r" in head and b"\n" not in head


def as_utf8(path: Path, encoding: str, tmpdir: Path) -> Path:
    """A path DuckDB can read: the file itself if UTF-8 with LF or CRLF lines, else a
    transcoded copy (lines ended by a lone CR become LF, so that lines can be counted)."""
    cr_only = _cr_only(path)
    if encoding in ("utf-8", "ascii") and not cr_only:
        return path
    fd, name = tempfile.mkstemp(prefix=path.stem[:40] + ".", suffix=".utf8.csv", dir=tmpdir)
    os.close(fd)
    target = Path(name)
    with (
        path.open("r", encoding=encoding, newline=None if cr_only else "") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        shutil.copyfileobj(src, dst, CHUNK)
    return target
