"""Which text encoding a file is in: UTF-8 (with or without BOM), UTF-16, GB18030/GBK, latin-1.

Chinese ERP exports are often GBK; European ones latin-1/cp1252. A wrong guess
silently corrupts every name, so detection only answers when the bytes support it
and otherwise asks for ``--encoding`` in one sentence.
"""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

from salescope.errors import InputError

SAMPLE_BYTES = 1 << 20
_SCAN_BLOCK = 8 << 20

_ALIASES = {
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "utf8-sig": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
    "gb18030": "gb18030",
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
    "windows-1252": "cp1252",
}


def normalise_name(encoding: str, *, file: str | None = None) -> str:
    """A user's ``--encoding`` value to a codec name; GBK and GB2312 read as their superset GB18030."""
    key = encoding.strip().lower().replace("_", "-")
    name = _ALIASES.get(key, _ALIASES.get(key.replace("-", ""), key))
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise InputError(
            "unknown text encoding", file=file, value=encoding, expected="utf-8, gb18030, gbk, latin-1 or cp1252"
        ) from exc
    return name


def _valid_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        while block := fh.read(_SCAN_BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _whole_lines(sample: bytes, complete: bool) -> bytes:
    """Cut a sample at its last newline so a multi-byte character is never split."""
    if complete:
        return sample
    cut = sample.rfind(b"\n")
    return sample[: cut + 1] if cut > 0 else sample


def _looks_like_text(text: str) -> bool:
    if not text:
        return True
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
    return controls / len(text) < 0.001


def _mostly_cjk(text: str) -> bool:
    """Whether GB18030-decoded text reads like Chinese rather than latin-1 accents read as pairs.

    Latin-1 "Åland" also decodes as GBK (Å and the following "A" form one character), but such
    characters take an ASCII byte as their second half, which real Chinese text almost never does.
    """
    wide = [ch for ch in text[:65536] if ord(ch) > 0x7F]
    if not wide:
        return True
    cjk = sum(1 for ch in wide if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    ascii_trail = sum(1 for ch in wide if len(b := ch.encode("gb18030")) == 2 and b[1] < 0x80)
    return cjk / len(wide) >= 0.6 and ascii_trail / len(wide) <= 0.2


def detect(path: Path) -> str:
    """The codec to read ``path`` with; raises ``InputError`` for empty, binary or undecidable files."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        raw = fh.read(SAMPLE_BYTES)
    if not raw.strip():
        raise InputError("the file is empty", file=path.name, expected="a header row and at least one data row")
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in raw:
        raise InputError(
            "the file is binary, not text", file=path.name, expected="a CSV/TSV text file, an Excel workbook or Parquet"
        )
    if _valid_utf8(path):
        return "utf-8"
    sample = _whole_lines(raw, size <= SAMPLE_BYTES)
    try:
        text = sample.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    if text and _looks_like_text(text) and _mostly_cjk(text):
        return "gb18030"
    name = "cp1252" if any(0x80 <= b <= 0x9F for b in sample) else "latin-1"
    try:
        text = sample.decode(name)
    except UnicodeDecodeError:
        text = ""
    wide = sum(1 for ch in text if ord(ch) > 0x7F)
    if text and _looks_like_text(text) and wide / len(text) < 0.5:
        return name
    raise InputError(
        "cannot tell the text encoding of the file",
        file=path.name,
        expected="UTF-8, GBK/GB18030 or latin-1 text; pass --encoding to say which",
    )
