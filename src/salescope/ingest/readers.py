"""Readers: CSV/TSV, Excel (.xlsx/.xls via python-calamine), Parquet and database tables.

Every reader finds the header row (under any title rows), names the columns, and
hands the data rows over in chunks as Arrow tables with a 1-based ``source_row`` per
row, so the importer can account for every row. CSV, Parquet and database tables
stream without holding the file in memory; an Excel sheet is read whole by calamine
(a sheet stops at 1,048,576 rows, so that stays bounded).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from salescope.engine import loading
from salescope.errors import InputError, SalescopeError
from salescope.ingest import encodings
from salescope.ingest.mapping import known_header
from salescope.ingest.text import clean

HEADER_SCAN_ROWS = 30
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
_DB_URL = re.compile(r"^(?P<scheme>sqlite|postgres|postgresql|mysql)(?:\+\w+)?:/+(?P<rest>.*)$", re.IGNORECASE)


@dataclass
class Layout:
    """Where the data sits in the file: format, encoding, sheet, header row and column names."""

    format: str
    headers: list[str]
    header_row: int = 0
    """1-based row (line) of the header in the file; 0 when the format carries names (Parquet, databases)."""
    encoding: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    sheets: list[str] = field(default_factory=list)


@dataclass
class RawChunk:
    """Data rows as Arrow columns ``c0..cN`` plus rows the parser could not split into columns."""

    table: pa.Table
    source_row: pa.Array
    broken: list[tuple[int, str, str]] = field(default_factory=list)
    """(source_row, raw text, reason) for lines with the wrong number of fields."""


class Reader(Protocol):
    layout: Layout
    size_hint: int
    estimated_rows: int
    """data rows expected (exact where the format says, estimated from the first lines for text)"""

    def chunks(self, rows: int) -> Iterator[RawChunk]: ...


class RenumberError(Exception):
    """Threaded CSV parsing met malformed lines, whose positions it cannot report; read again serially."""


def column_names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def unique_headers(cells: list[str]) -> list[str]:
    """Clean header cells and make them unique (a blank one becomes columnN, a repeat gets .2, .3 ...)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = clean(cell) or f"column{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def pick_header(rows: list[list[str]], extra_known: Callable[[str], bool] | None = None) -> int:
    """The index of the header row among the first rows: the row most cells of which read as headers.

    Without recognisable headers, the first row at least as wide as most rows (titles are narrower).
    """
    known = extra_known or (lambda _h: False)
    best, best_score = -1, 1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = sum(1 for c in row if c and (known_header(c) or known(c)))
        if hits > best_score:
            best, best_score = i, hits
    if best >= 0:
        return best
    widths = [sum(1 for c in row if c) for row in rows[:HEADER_SCAN_ROWS]]
    filled = [w for w in widths if w > 0]
    if not filled:
        return 0
    usual = max(set(filled), key=lambda w: (filled.count(w), w))
    return next(i for i, w in enumerate(widths) if w >= usual)


# -- CSV ------------------------------------------------------------------------------


def _sniff_delimiter(lines: list[str], suffix: str) -> str:
    if suffix in {".tsv", ".tab"}:
        return "\t"
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


class CsvReader:
    """CSV/TSV through Arrow's streaming reader; non-UTF-8 text is transcoded on the fly."""

    def __init__(
        self,
        path: Path,
        *,
        encoding: str | None = None,
        known: Callable[[str], bool] | None = None,
    ) -> None:
        self.path = path
        self.size_hint = path.stat().st_size
        enc = encodings.normalise_name(encoding, file=path.name) if encoding else encodings.detect(path)
        with path.open("rb") as fh:
            sample = fh.read(256 * 1024)
        try:
            text = sample.decode(enc if enc != "utf-8" else "utf-8-sig", errors="strict" if encoding else "replace")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"the file is not valid {enc} text", file=path.name, expected="the encoding the file was saved in"
            ) from exc
        # A sample cut mid-file ends in a partial line.
        lines = text.splitlines() if len(sample) == self.size_hint else text.splitlines()[:-1]
        lines = lines[: HEADER_SCAN_ROWS * 4]
        delimiter = _sniff_delimiter(lines[:HEADER_SCAN_ROWS], path.suffix.lower())
        rows = [r for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)][:HEADER_SCAN_ROWS]
        if not rows or not any(any(c.strip() for c in r) for r in rows):
            raise InputError("the file is empty", file=path.name, expected="a header row and at least one data row")
        header_idx = pick_header(rows, known)
        sampled = sum(len(line.encode(enc if enc != "utf-16" else "utf-8", "replace")) + 1 for line in lines)
        self.estimated_rows = int(self.size_hint * len(lines) / sampled) - header_idx - 1 if sampled else 0
        # Arrow counts skipped rows as CSV rows; blank lines before the header are rows too.
        self.skip_rows = header_idx + 1
        headers = unique_headers(rows[header_idx])
        self.layout = Layout("tsv" if delimiter == "\t" else "csv", headers, header_idx + 1, enc, None, delimiter)
        self.exact_rows = False

    def _open(self, rows: int, broken: list[tuple[int | None, str, str]]) -> pacsv.CSVStreamingReader:
        names = column_names(len(self.layout.headers))
        width = len(names)

        def handler(row: pacsv.InvalidRow) -> str:
            text = row.text or ""
            reason = (
                f"the line has {row.actual_columns} fields where the header has {width}"
                if text.strip()
                else "blank row"
            )
            broken.append((row.number, text, reason))
            return "skip"

        read = pacsv.ReadOptions(
            skip_rows=self.skip_rows,
            column_names=names,
            encoding="utf8" if self.layout.encoding == "utf-8" else (self.layout.encoding or "utf8"),
            block_size=max(1 << 20, min(64 << 20, rows * 64)),
            use_threads=not self.exact_rows,
        )
        parse = pacsv.ParseOptions(
            delimiter=self.layout.delimiter or ",",
            invalid_row_handler=handler,
            ignore_empty_lines=False,
            newlines_in_values=True,
        )
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
        )
        return pacsv.open_csv(self.path, read_options=read, parse_options=parse, convert_options=convert)

    def chunks(self, rows: int) -> Iterator[RawChunk]:
        broken: list[tuple[int | None, str, str]] = []
        try:
            reader = self._open(rows, broken)
            next_row = 1
            for batch in _batches(reader, self.path):
                found = list(broken)
                broken.clear()
                if found and not self.exact_rows:
                    raise RenumberError
                n_valid = batch.num_rows
                total = n_valid + len(found)
                # Malformed lines take their place by line number; valid rows fill the rest in order.
                bad_rows: dict[int, tuple[str, str]] = {}
                for number, text, reason in found:
                    pos = (number or 0) - self.layout.header_row
                    if not next_row <= pos < next_row + total or pos in bad_rows:
                        pos = next(p for p in range(next_row + total - 1, next_row - 1, -1) if p not in bad_rows)
                    bad_rows[pos] = (text, reason)
                good = [p for p in range(next_row, next_row + total) if p not in bad_rows]
                yield RawChunk(
                    pa.Table.from_batches([batch]),
                    pa.array(good, pa.int64()),
                    [(p, t, r) for p, (t, r) in sorted(bad_rows.items())],
                )
                next_row += total
            if broken:
                if not self.exact_rows:
                    raise RenumberError
                pos = next_row
                yield RawChunk(
                    pa.table({n: pa.array([], pa.string()) for n in column_names(len(self.layout.headers))}),
                    pa.array([], pa.int64()),
                    [(pos + i, t, r) for i, (_, t, r) in enumerate(broken)],
                )
        except UnicodeDecodeError as exc:
            raise InputError(
                f"the file is not valid {self.layout.encoding} text ({exc.reason} at byte {exc.start})",
                file=self.path.name,
                expected="one encoding throughout; pass --encoding to choose it",
            ) from exc


def _batches(reader: pacsv.CSVStreamingReader, path: Path) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "UTF8" in message or "utf8" in message.lower():
                raise InputError(
                    "the file is not valid UTF-8 text", file=path.name, expected="pass --encoding (e.g. gb18030)"
                ) from exc
            raise InputError(f"the CSV cannot be parsed: {message}", file=path.name) from exc
        yield batch


# -- Excel ------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """An Excel or database cell as the text a person sees; calamine returns integers as floats."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class ExcelReader:
    """A sheet of an Excel workbook: titles above the header, merged header cells, several sheets."""

    def __init__(self, path: Path, *, sheet: str | None = None, known: Callable[[str], bool] | None = None) -> None:
        from python_calamine import CalamineWorkbook

        self.path = path
        self.size_hint = path.stat().st_size
        if self.size_hint == 0:
            raise InputError("the file is empty", file=path.name, expected="an Excel workbook with a header row")
        try:
            book = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises its own error types for every kind of damage
            raise InputError(
                "the file is not a readable Excel workbook",
                file=path.name,
                expected="an .xlsx or .xls file saved by Excel or WPS",
            ) from exc
        names = list(book.sheet_names)
        if sheet is None:
            chosen, self.sheet = self._first_with_data(book, names, path)
        else:
            if sheet in names:
                chosen = sheet
            elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
                chosen = names[int(sheet) - 1]
            else:
                raise InputError("no such sheet", file=path.name, value=sheet, expected=f"one of {', '.join(names)}")
            self.sheet = self._load(book, chosen, path)
        try:
            rows: list[list[Any]] = self.sheet.to_python(skip_empty_area=False)
        except Exception as exc:
            raise InputError(f"sheet {chosen!r} cannot be read ({exc})", file=path.name) from exc
        self.rows = rows
        width = max((len(r) for r in rows), default=0)
        text_rows = [[cell_text(c) or "" for c in r] + [""] * (width - len(r)) for r in rows[:HEADER_SCAN_ROWS]]
        if not any(any(c for c in r) for r in text_rows):
            raise InputError(f"sheet {chosen!r} is empty", file=path.name, expected="a header row and data rows")
        header_idx = pick_header(text_rows, known)
        headers, data_start = self._headers(text_rows, header_idx, width)
        self.data_start = data_start
        self.width = width
        self.estimated_rows = max(len(rows) - data_start, 0)
        self.layout = Layout(
            "xls" if path.suffix.lower() == ".xls" else "xlsx",
            unique_headers(headers),
            header_idx + 1,
            None,
            chosen,
            None,
            names,
        )

    @staticmethod
    def _load(book: Any, name: str, path: Path) -> Any:
        try:
            return book.get_sheet_by_name(name)
        except Exception as exc:  # calamine's errors have no common base worth naming
            raise InputError(f"sheet {name!r} cannot be read ({exc})", file=path.name) from exc

    @classmethod
    def _first_with_data(cls, book: Any, names: list[str], path: Path) -> tuple[str, Any]:
        """The first sheet with cells (loading a sheet parses it, so the one found is kept)."""
        for name in names:
            try:
                loaded = book.get_sheet_by_name(name)
            except Exception:  # noqa: S112 - an unreadable sheet is simply not the first with data
                continue
            if loaded.height > 0:
                return name, loaded
        if not names:
            raise InputError("the workbook has no sheets", file=path.name)
        return names[0], cls._load(book, names[0], path)

    def _merged(self) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        try:
            ranges = self.sheet.merged_cell_ranges or []
        except Exception:
            return []
        start = self.sheet.start or (0, 0)
        return [((a[0] - start[0], a[1] - start[1]), (b[0] - start[0], b[1] - start[1])) for a, b in ranges]

    def _headers(self, rows: list[list[str]], h: int, width: int) -> tuple[list[str], int]:
        """Header names, reading a two-row header when merged cells group columns under one label."""
        merged = self._merged()
        upper = list(rows[h])
        for (r0, c0), (_r1, c1) in merged:
            if r0 == h and c1 > c0:
                for c in range(c0 + 1, min(c1, width - 1) + 1):
                    upper[c] = upper[c] or upper[c0]
        spans_down = any(r0 == h and r1 > h for (r0, _c0), (r1, _c1) in merged)
        groups = any(r0 == h and r1 == h and c1 > c0 for (r0, c0), (r1, c1) in merged)
        if h + 1 < len(rows) and (spans_down or groups):
            lower = rows[h + 1]
            names = []
            for c in range(width):
                top, sub = upper[c], lower[c] if c < len(lower) else ""
                if not sub:
                    names.append(top)
                elif known_header(sub) or not top:
                    names.append(sub)
                elif known_header(top + sub):
                    names.append(top + sub)
                else:
                    names.append(f"{top}{sub}")
            return names, h + 2
        return upper, h + 1

    def chunks(self, rows: int) -> Iterator[RawChunk]:
        names = column_names(len(self.layout.headers))
        width = len(names)
        data = self.rows[self.data_start :]
        # Trailing empty rows are the sheet's used range, not data rows.
        end = len(data)
        while end > 0 and all(cell_text(c) is None for c in data[end - 1]):
            end -= 1
        for lo in range(0, end, rows):
            part = data[lo : min(lo + rows, end)]
            padded = [r if len(r) >= width else [*r, *([""] * (width - len(r)))] for r in part]
            columns = list(zip(*padded, strict=False))[:width] if padded else [() for _ in names]
            table = pa.table({n: excel_column(list(col)) for n, col in zip(names, columns, strict=True)})
            yield RawChunk(table, pa.array(range(lo + 1, lo + 1 + len(part)), pa.int64()))


_TYPED = {str: pa.string(), float: pa.float64(), int: pa.int64(), dt.date: pa.date32(), dt.datetime: pa.timestamp("us")}


def excel_column(values: list[Any]) -> pa.Array:
    """One sheet column as a typed Arrow array when its cells share a type, else as the text a person sees.

    Numbers stay numbers and dates stay dates (the parsers take them natively), which spares
    a Python call per cell on the large, clean sheets where it would dominate.
    """
    types = {type(v) for v in values if v != "" and v is not None}
    if len(types) == 1:
        (kind,) = types
        target = _TYPED.get(kind)
        if target is not None:
            cleaned = [None if v == "" else v for v in values] if kind is not str else values
            if kind is str:
                return pc.if_else(
                    pc.equal(pa.array(values, pa.string()), ""),
                    pa.scalar(None, pa.string()),
                    pa.array(values, pa.string()),
                )
            return pa.array(cleaned, target)
    return pa.array([cell_text(v) for v in values], pa.string())


# -- Parquet ------------------------------------------------------------------------------


class ParquetReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.size_hint = path.stat().st_size
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError("the file is not a readable Parquet file", file=path.name) from exc
        if self.file.metadata.num_rows == 0:
            raise InputError("the file has no data rows", file=path.name, expected="at least one row")
        self.layout = Layout("parquet", unique_headers(list(self.file.schema_arrow.names)))
        self.estimated_rows = int(self.file.metadata.num_rows)

    def chunks(self, rows: int) -> Iterator[RawChunk]:
        names = column_names(len(self.layout.headers))
        start = 1
        for batch in self.file.iter_batches(batch_size=rows):
            table = pa.Table.from_batches([batch]).rename_columns(names)
            yield RawChunk(table, pa.array(range(start, start + batch.num_rows), pa.int64()))
            start += batch.num_rows


# -- databases ------------------------------------------------------------------------------


def database_url(path: str | Path) -> str | None:
    """The database URL a "path" names, if it is one (``Path`` collapses ``//``, which is undone here)."""
    text = str(path)
    m = _DB_URL.match(text)
    if not m:
        return None
    scheme = m.group("scheme").lower()
    rest = m.group("rest")
    if scheme == "sqlite":
        return f"sqlite:///{rest}"
    return f"{scheme}://{rest}"


class DatabaseReader:
    """A table (or the only table) of a SQLite, PostgreSQL or MySQL database."""

    def __init__(self, url: str, *, table: str | None = None) -> None:
        base, _, query = url.partition("?")
        base, _, fragment = base.partition("#")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        self.url = base
        wanted = table or params.get("table") or fragment or None
        try:
            tables = loading.database_tables(self.url)
        except SalescopeError:
            raise
        except Exception as exc:
            raise InputError(f"cannot open the database ({exc})", file=_redact(url)) from exc
        if wanted is None:
            if len(tables) != 1:
                raise InputError(
                    "the database has several tables", file=_redact(url), expected=f"--sheet one of {', '.join(tables)}"
                )
            wanted = tables[0]
        if wanted not in tables:
            raise InputError(
                "no such table", file=_redact(url), value=wanted, expected=f"one of {', '.join(tables) or '(none)'}"
            )
        self.table = wanted
        self.columns, self.size_hint = loading.database_columns(self.url, wanted)
        self.estimated_rows = self.size_hint
        self.layout = Layout("database", unique_headers(self.columns), 0, None, wanted)

    def chunks(self, rows: int) -> Iterator[RawChunk]:
        names = column_names(len(self.layout.headers))
        start = 1
        for block in loading.database_rows(self.url, self.table, rows):
            cols = list(zip(*block, strict=True)) if block else [() for _ in names]
            table = pa.table(
                {n: pa.array([cell_text(v) for v in col], pa.string()) for n, col in zip(names, cols, strict=True)}
            )
            yield RawChunk(table, pa.array(range(start, start + len(block)), pa.int64()))
            start += len(block)


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def open_reader(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    known: Callable[[str], bool] | None = None,
) -> Reader:
    """The reader for a file or database URL, chosen by suffix (or scheme)."""
    url = database_url(path)
    if url is not None:
        return DatabaseReader(_sqlite_path_fix(url), table=sheet)
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", file=str(path), expected="a path to a CSV, Excel or Parquet file")
    if p.is_dir():
        raise InputError("this is a folder, not a file", file=str(path))
    suffix = p.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return ExcelReader(p, sheet=sheet, known=known)
    if suffix in {".parquet", ".pq"}:
        return ParquetReader(p)
    if suffix in {".db", ".sqlite", ".sqlite3"}:
        return DatabaseReader(f"sqlite:///{p}", table=sheet)
    with p.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return ExcelReader(p, sheet=sheet, known=known)
    if head.startswith(b"PAR1"):
        return ParquetReader(p)
    if head.startswith(b"SQLite f"):
        return DatabaseReader(f"sqlite:///{p}", table=sheet)
    return CsvReader(p, encoding=encoding, known=known)


def _sqlite_path_fix(url: str) -> str:
    """``sqlite:///data.db`` is relative in SQLAlchemy's spelling; ``Path`` may have made it look absolute."""
    if not url.startswith("sqlite:///"):
        return url
    base, sep, rest = url[len("sqlite:///") :].partition("?")
    file_part, hash_sep, frag = base.partition("#")
    candidates = [Path("/" + file_part), Path(file_part)]
    found = next((c for c in candidates if c.exists()), candidates[0])
    return f"sqlite:///{found}" + (hash_sep + frag if hash_sep else "") + (sep + rest if sep else "")
