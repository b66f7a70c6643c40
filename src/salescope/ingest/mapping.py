"""From a file's headers to an import kind's fields: synonyms, detection, user overrides.

Headers are compared on :func:`header_key` (NFKC, case-folded, no spaces or
punctuation), first whole and then without a bracketed unit (``金额(元)``). When two
headers fit one field, the one spelled by the field's earlier synonym wins, so
Tmall's 总金额 beats 买家实际支付金额 for ``amount`` unless the user's mapping says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from salescope.errors import InputError
from salescope.ingest.text import header_key
from salescope.schema.kinds import KINDS, Kind

_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
IGNORE = frozenset({"", "ignore", "skip", "none", "-", "忽略"})


def _keys(header: str) -> list[str]:
    whole = header_key(header)
    bare = header_key(_BRACKETED.sub("", header))
    return [k for k in dict.fromkeys((whole, bare)) if k]


def _synonym_index(kind: Kind) -> dict[str, tuple[str, int]]:
    """Header key -> (field, rank of the synonym in that field's list)."""
    index: dict[str, tuple[str, int]] = {}
    for f in kind.fields:
        for rank, syn in enumerate(f.synonyms):
            index.setdefault(header_key(syn), (f.name, rank))
    return index


_INDEXES: dict[str, dict[str, tuple[str, int]]] = {name: _synonym_index(k) for name, k in KINDS.items()}
ALL_KEYS: frozenset[str] = frozenset(k for index in _INDEXES.values() for k in index)


def known_header(header: str) -> bool:
    """Whether a cell reads like a header of any kind (used to find the header row under titles)."""
    return any(k in ALL_KEYS for k in _keys(header))


@dataclass
class ColumnMap:
    """The columns one file contributes to one kind, and what was ignored."""

    kind: str
    headers: list[str]
    fields: dict[str, int]
    """field name -> column position"""
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def header_of(self, name: str) -> str:
        return self.headers[self.fields[name]]

    def as_dict(self) -> dict[str, str]:
        """Source header -> field, in column order: what is stored with the batch."""
        by_pos = {pos: name for name, pos in self.fields.items()}
        return {self.headers[p]: by_pos[p] for p in sorted(by_pos)}

    def has(self, name: str) -> bool:
        return name in self.fields


def _auto(headers: list[str], kind: Kind) -> tuple[dict[str, int], list[str]]:
    index = _INDEXES[kind.name]
    best: dict[str, tuple[int, int, int]] = {}  # field -> (key pass, synonym rank, position)
    for pos, header in enumerate(headers):
        for pass_no, key in enumerate(_keys(header)):
            hit = index.get(key)
            if hit is None:
                continue
            name, rank = hit
            cand = (pass_no, rank, pos)
            if name not in best or cand < best[name]:
                best[name] = cand
            break
    fields = {name: pos for name, (_, _, pos) in best.items()}
    notes = []
    used = set(fields.values())
    for pos, header in enumerate(headers):
        if pos in used:
            continue
        for key in _keys(header):
            hit = index.get(key)
            if hit is not None:
                notes.append(f"column {header!r} also reads as {hit[0]}; {headers[fields[hit[0]]]!r} was used for it")
                break
    return fields, notes


def score(headers: list[str], kind: Kind) -> int:
    """How many of a kind's fields the headers provide."""
    return len(_auto(headers, kind)[0])


def satisfied(fields: MappingABC[str, int], kind: Kind) -> bool:
    return all(any(name in fields for name in group) for group in kind.required)


def detect_kind(headers: list[str], *, file: str | None = None) -> str:
    """The kind a file's headers describe, when one kind is clearly the best fit."""
    scored = sorted(
        ((score(headers, k), satisfied(_auto(headers, k)[0], k), name) for name, k in KINDS.items()),
        key=lambda s: (s[1], s[0]),
        reverse=True,
    )
    best, runner = scored[0], scored[1]
    if best[1] and (not runner[1] or best[0] >= runner[0] + 2):
        return best[2]
    ranking = ", ".join(f"{name} {n}" for n, ok, name in scored if ok) or "none has its required columns"
    raise InputError(
        "cannot tell which kind of data this is from its headers",
        file=file,
        expected=f"--kind one of {', '.join(KINDS)} (fields matched: {ranking})",
    )


def load_overrides(mapping: Path | str | MappingABC[str, Any] | None, *, file: str | None = None) -> dict[str, Any]:
    """A user mapping (YAML path, YAML text or dict) to a plain dict; ``{}`` when none is given."""
    if mapping is None:
        return {}
    if isinstance(mapping, MappingABC):
        return dict(mapping)
    path = Path(mapping)
    try:
        is_file = path.is_file()
    except OSError:
        is_file = False
    text = path.read_text(encoding="utf-8-sig") if is_file else str(mapping)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError("the mapping is not valid YAML", file=str(mapping), expected="header: field lines") from exc
    if not isinstance(data, dict):
        raise InputError("the mapping must be a YAML mapping", file=str(mapping), expected="header: field lines")
    return data


def build(
    headers: list[str],
    kind_name: str,
    overrides: MappingABC[str, Any] | None = None,
    *,
    file: str | None = None,
) -> ColumnMap:
    """Map headers to a kind's fields, apply the user's overrides, check the required fields."""
    kind = KINDS[kind_name]
    fields, notes = _auto(headers, kind)
    columns = dict(overrides or {})
    columns = dict(columns.get("columns", columns)) if "columns" in columns else columns
    columns.pop("kind", None)
    by_key: dict[str, int] = {}
    for pos, h in enumerate(headers):
        for key in _keys(h):
            by_key.setdefault(key, pos)
    field_names = {f.name for f in kind.fields}
    for left, right in columns.items():
        # Accept both "header: field" and "field: header".
        if isinstance(left, str) and left in field_names and not _is_header(left, by_key) and isinstance(right, str):
            header, target = right, left
        else:
            header, target = str(left), right
        found = next((by_key[k] for k in _keys(header) if k in by_key), None)
        if found is None:
            raise InputError(
                "the mapping names a column the file does not have",
                file=file,
                value=header,
                expected=f"one of the headers found: {', '.join(headers)}",
            )
        fields = {n: p for n, p in fields.items() if p != found}
        if target is None or str(target).strip().lower() in IGNORE:
            continue
        if target not in field_names:
            raise InputError(
                f"the mapping sends column {header!r} to an unknown field",
                file=file,
                value=target,
                expected=f"a {kind_name} field: {', '.join(sorted(field_names))}",
            )
        fields[str(target)] = found
    missing = [group for group in kind.required if not any(n in fields for n in group)]
    if missing:
        wanted = []
        for group in missing:
            names = [s for n in group for s in kind.field(n).synonyms[1:4]]
            wanted.append(" or ".join(group) + f" ({', '.join(names)})")
        raise InputError(
            f"missing required column{'s' if len(missing) > 1 else ''} for {kind_name}: {'; '.join(wanted)}",
            file=file,
            expected=f"headers like those; found: {', '.join(headers)}",
        )
    used = set(fields.values())
    ignored = [h for p, h in enumerate(headers) if p not in used]
    return ColumnMap(kind_name, list(headers), fields, ignored, notes)


def _is_header(name: str, by_key: dict[str, int]) -> bool:
    return any(k in by_key for k in _keys(name))
