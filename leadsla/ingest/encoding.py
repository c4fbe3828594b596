"""Encodings: decided once per file, from its first bytes and the source's ``encoding``.

A byte order mark decides UTF-8 or UTF-16; UTF-16 and Windows-1252 are transcoded to a UTF-8
copy in C-speed chunks, keeping undecodable bytes invalid so that exactly their records are
quarantined."""

from __future__ import annotations

import codecs
import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Byte order marks: UTF-8 (read as UTF-8), UTF-16 little and big endian (transcoded first).
BOM_UTF8, BOM_LE, BOM_BE = b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"

#: How much of a file's start the reader looks at to decide its encoding and read its header.
HEAD_BYTES = 1 << 16

#: A valid multi-byte UTF-8 sequence: a file with one is UTF-8 (with some bad records), not a
#: legacy 8-bit file.
_UTF8_MULTI = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def open_plain(path: str) -> Any:
    return gzip.open(path, "rb") if path.endswith(".gz") else Path(path).open("rb")


def utf16_codec(head: bytes, codec: str | None) -> str | None:
    """The UTF-16 codec of a file with a UTF-16 byte order mark (or declared ``utf-16``:
    little endian without a mark), or None when the mark is a stray pair of bytes (the text
    after it does not have UTF-16's NUL halves: a comma or a line end would be ``,\\x00`` /
    ``\\x00,`` at an even offset)."""
    for bom, name in ((BOM_LE, "utf-16-le"), (BOM_BE, "utf-16-be")):
        if head.startswith(bom):
            units = head[2 : 2 + (len(head) - 2) // 2 * 2]
            marks = (b",\x00", b"\n\x00") if name == "utf-16-le" else (b"\x00,", b"\x00\n")
            pairs = {units[i : i + 2] for i in range(0, min(len(units), 4096), 2)}
            if codec == "utf-16" or pairs & set(marks):
                return name
    return "utf-16-le" if codec == "utf-16" else None


def transcode(path: str, codec: str, target: Path, skip: int) -> str:
    """Write ``path`` (after ``skip`` bytes of byte order mark) as UTF-8 to ``target``, once,
    in C-speed chunks. Bytes that do not decode stay invalid in the output (``surrogatepass``
    for lone UTF-16 halves, ``surrogateescape`` for undefined 8-bit bytes), so the UTF-8 read
    after quarantines exactly their records."""
    errors = "surrogatepass" if codec.startswith("utf-16") else "surrogateescape"
    dec = codecs.getincrementaldecoder(codec)(errors=errors)
    with open_plain(path) as src, target.open("wb") as out:
        src.read(skip)
        while chunk := src.read(1 << 22):
            out.write(dec.decode(chunk).encode("utf-8", errors))
        try:
            out.write(dec.decode(b"", final=True).encode("utf-8", errors))
        except UnicodeDecodeError:
            out.write(b"\xff")  # an odd trailing byte: its record is quarantined
    return str(target)


def legacy_8bit(path: str) -> bool:
    """Whether a file that is not valid UTF-8 is a legacy 8-bit one (Windows-1252, whose
    printable range covers Latin-1's): no valid multi-byte UTF-8 sequence anywhere and no
    byte order mark pair in it. Only files whose UTF-8 read rejected records come here."""
    with open_plain(path) as fh:
        while chunk := fh.read(1 << 22):
            if _UTF8_MULTI.search(chunk) or BOM_LE in chunk or BOM_BE in chunk:
                return False
    return True


@dataclass
class CsvInput:
    """How a CSV file is read: the path DuckDB reads (the file, or a UTF-8 copy), the encoding
    it reads it in, the header's column names, and what was decided (for the manifest)."""

    path: str
    enc: str
    columns: list[str]
    encoding: str

    @property
    def params(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "enc": self.enc,
            "columns": dict.fromkeys(self.columns, "VARCHAR"),
        }


def decide_csv_encoding(path: str, declared: str, tmp: Path) -> tuple[CsvInput, bytes]:
    """Decide a CSV file's encoding once, from its first bytes and the source's ``encoding``
    (``declared``); returns how DuckDB reads it (its ``columns`` still empty) and the first
    :data:`HEAD_BYTES` of what it reads, for the header. UTF-16 (by mark or declared) and
    Windows-1252 (declared) are transcoded to a UTF-8 copy; a UTF-8 mark, ``utf-8`` or
    ``auto`` read UTF-8 as it is (an ``auto`` file whose bytes are not UTF-8 anywhere is then
    read as Windows-1252, see :func:`leadsla.ingest.csv_read.read_csv`); ``latin-1`` is
    DuckDB's own."""
    with open_plain(path) as fh:
        head = fh.read(HEAD_BYTES)
    wide = utf16_codec(head, declared)
    if wide is not None:
        skip = 2 if head.startswith((BOM_LE, BOM_BE)) else 0
        inp = CsvInput(transcode(path, wide, tmp / "utf16.csv", skip), "utf-8", [], wide)
        with Path(inp.path).open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    elif declared == "windows-1252":
        inp = CsvInput(transcode(path, "cp1252", tmp / "cp1252.csv", 0), "utf-8", [], declared)
        with Path(inp.path).open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    else:
        enc = "latin-1" if declared == "latin-1" else "utf-8"
        label = "utf-8 (byte order mark)" if head.startswith(BOM_UTF8) else enc
        inp = CsvInput(path, enc, [], declared if declared != "auto" else label)
    return inp, head
