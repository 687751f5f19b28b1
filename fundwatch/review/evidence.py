"""Evidence files attached to a case (photos, interview records, PDFs), content-addressed.

A file is stored once under its SHA-256 (`ab/abcdef…`), written to a temporary name and linked
into place, so it is never overwritten and the same file attached twice takes the space once.
Its type is what its first bytes say, not what its name says; the name's extension must agree.
Who may see a case may see its files: every read goes through the store's scoped `case()`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fundwatch.errors import ConfigError

ENV_DIR = "FUNDWATCH_EVIDENCE_DIR"
ENV_MAX_MB = "FUNDWATCH_EVIDENCE_MAX_MB"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    mime: str
    extensions: tuple[str, ...]
    label: str


JPEG = Kind("image/jpeg", (".jpg", ".jpeg"), "JPEG photo")
PNG = Kind("image/png", (".png",), "PNG image")
PDF = Kind("application/pdf", (".pdf",), "PDF")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",),
            "Word document (.docx)")
KINDS = (JPEG, PNG, PDF, DOCX)
ALLOWED = ", ".join(k.label for k in KINDS)


class EvidenceRefused(ValueError):
    """A file the workbench does not keep: says why (too large, empty, not an accepted type)."""


def sniff(head: bytes, path: Path) -> Kind | None:
    """The kind the content's magic bytes show (a .docx is a zip holding word/document.xml)."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                return DOCX if "word/document.xml" in z.namelist() else None
        except zipfile.BadZipFile:
            return None
    return None


def max_bytes() -> int:
    text = os.environ.get(ENV_MAX_MB)
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        return int(float(text) * 1024 * 1024)
    except ValueError:
        raise ConfigError(f"{ENV_MAX_MB}={text!r}: expected a number of megabytes, e.g. 10") from None


def evidence_dir(review_url: str) -> Path:
    """$FUNDWATCH_EVIDENCE_DIR, else `<review db>.evidence/` beside a SQLite review database."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    if review_url.startswith("sqlite:///"):
        db = Path(review_url[len("sqlite:///"):])
        return db.with_name(db.name + ".evidence")
    raise ConfigError(f"a PostgreSQL review database keeps no files: set {ENV_DIR} to the folder for evidence uploads")


def safe_name(name: str) -> str:
    """The file's own name, without any folder and without control characters, at most 120 characters."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", name.replace("\\", "/").rsplit("/", 1)[-1]).strip() or "upload"
    return name[-120:]


class BlobStore:
    """Files by SHA-256 under one folder; put() never replaces a file that is there."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, chunks, name: str, limit: int) -> tuple[str, int, Kind]:
        """Hash and check a file while writing it to a temporary name; link it into place unless
        a file with that hash is there already. Returns (sha256, size, kind) or raises EvidenceRefused."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise EvidenceRefused(f"{name} is larger than {limit / 1024 / 1024:.3g} MB, the limit for evidence")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise EvidenceRefused(f"{name} is empty")
            with open(tmp, "rb") as f:
                kind = sniff(f.read(16), Path(tmp))
            if kind is None:
                raise EvidenceRefused(f"{name} is not an accepted type: its content is none of {ALLOWED}")
            if Path(name).suffix.lower() not in kind.extensions:
                raise EvidenceRefused(f"{name}: its content is a {kind.label}, but its name does not end in "
                                      f"{' or '.join(kind.extensions)}")
            sha = digest.hexdigest()
            target = self.path(sha)
            target.parent.mkdir(exist_ok=True)
            os.chmod(tmp, 0o440)
            with contextlib.suppress(FileExistsError):  # a file that is there is never overwritten
                os.link(tmp, target)
            return sha, size, kind
        finally:
            os.unlink(tmp)

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
