"""Normalised keys for names, phones, emails, addresses and Chinese identifiers.

Two spellings of one customer must give one key, and two customers must not: every rule
here removes a difference that carries no identity (width, script, case, punctuation, legal
form, where a region is written) and keeps every difference that does. Scalar functions are
the definition; the ``*_keys`` variants apply them once per distinct value, because import
files repeat the same few thousand customers over a million lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import opencc
import pandas as pd
import phonenumbers
from pypinyin import Style, lazy_pinyin

from salescope.resolve.regions import REGIONS, bare_region

_T2S = opencc.OpenCC("t2s")

_BRACKETED = re.compile(r"[(\[{【〔]([^()\[\]{}【】〔〕]*)[)\]}】〕]")
_NON_WORD = re.compile(r"[\W_]+")
_ASCII_WORD = re.compile(r"^[a-z0-9]+$")

# Longest first, so 股份有限公司 is removed whole rather than leaving 股份.
_CN_LEGAL_SUFFIXES: tuple[str, ...] = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "有限合伙",
    "集团",
    "公司",
)
_LATIN_LEGAL_TOKENS: frozenset[str] = frozenset(
    {
        "co",
        "company",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "gmbh",
        "llc",
        "llp",
        "plc",
        "ag",
        "sa",
        "srl",
        "bv",
        "nv",
        "pty",
        "group",
        "holdings",
    }
)
_PERSON_TITLES: frozenset[str] = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof"})

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[1-9A-HJ-NP-RTUWXY][1-9A-HJ-NP-RTUWXY]\d{6}[0-9A-HJ-NP-RTUWXY]{10}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FLOAT_ARTEFACT = re.compile(r"^(\d+)\.0+$")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _text(value: object) -> str:
    """NFKC folds full-width forms (ＡＢＣ，（）) into their ASCII twins; case is folded too."""
    if _missing(value):
        return ""
    folded = unicodedata.normalize("NFKC", str(value)).lower()
    return unicodedata.normalize("NFKC", folded).strip()


@lru_cache(maxsize=65536)
def _simplified(text: str) -> str:
    return text if text.isascii() else str(_T2S.convert(text))


def _fold(value: object) -> str:
    if isinstance(value, str):
        return _fold_text(value)
    return _simplified(_text(value))


@lru_cache(maxsize=262144)
def _fold_text(value: str) -> str:
    return _simplified(_text(value))


def _strip_cn_suffix(text: str) -> str:
    for suffix in _CN_LEGAL_SUFFIXES:
        # 分公司 is a branch, a different customer from its head office; keep it.
        if text.endswith(suffix) and len(text) > len(suffix) and not text.endswith("分" + suffix):
            return text[: -len(suffix)]
    return text


def company_name_key(name: object) -> str:
    """One key per registered company: 華貿科技（北京）有限公司 and 北京华贸科技 give 北京华贸科技."""
    text = _fold(name)
    if not text:
        return ""
    regions: list[str] = []

    def lift(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        region = bare_region(inner)
        if region is not None:
            regions.append(region)
            return " "
        return f" {inner} "

    text = _BRACKETED.sub(lift, text)
    tokens = [t for t in _NON_WORD.split(text) if t]
    if not tokens:
        return ""
    original = "".join(tokens)
    changed = True
    while changed and tokens:
        changed = False
        last = tokens[-1]
        if len(tokens) > 1 and (last in _LATIN_LEGAL_TOKENS or last in _CN_LEGAL_SUFFIXES):
            tokens.pop()
            changed = True
            continue
        stripped = _strip_cn_suffix(last)
        if stripped != last:
            tokens[-1] = stripped
            changed = True
    key = "".join(tokens) or original
    leading = _leading_region(key)
    if leading is not None:
        region, rest = leading
        key = region + rest
    for region in regions:
        if not key.startswith(region):
            key = region + key
    return key


def _leading_region(key: str) -> tuple[str, str] | None:
    """北京市华贸 -> (北京, 华贸): the administrative suffix of a leading region is not identity."""
    for length in (4, 3, 2):
        head = key[:length]
        if head in REGIONS:
            rest = key[length:]
            for suffix in ("特别行政区", "自治区", "省", "市"):
                if rest.startswith(suffix):
                    return head, rest[len(suffix) :]
            return head, rest
    return None


def person_name_key(name: object) -> str:
    """Latin names compare as a set of words (John Smith = Smith, John); Chinese names as written."""
    text = _fold(name)
    tokens = [t for t in _NON_WORD.split(text) if t]
    if all(_ASCII_WORD.match(t) for t in tokens):
        words = [t for t in tokens if t not in _PERSON_TITLES] or tokens
        return " ".join(sorted(words))
    return "".join(tokens)


# Surnames read differently from the same character in ordinary words.
_SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha", "区": "ou", "盖": "ge",
    "覃": "qin", "缪": "miao", "翟": "zhai", "乐": "yue", "万": "wan", "尉": "yu", "秘": "bi", "宿": "su",
}  # fmt: skip
_COMPOUND_SURNAMES: frozenset[str] = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "端木",
        "西门",
        "独孤",
        "南宫",
        "呼延",
        "申屠",
        "澹台",
        "闻人",
    ]
)
_ASCII_RUN = re.compile(r"[a-z0-9]+|[^a-z0-9]")


@lru_cache(maxsize=65536)
def _reading(ch: str) -> str:
    return str(lazy_pinyin(ch, style=Style.NORMAL)[0]).lower()


def _syllables(text: str) -> list[str]:
    return [_reading(t) if len(t) == 1 and not t.isascii() else t for t in _ASCII_RUN.findall(text) if t.strip()]


def person_name_translit(key: object) -> str:
    """Script-free form of a person name key: 张晓明 and Xiaoming Zhang both give 'xiaoming zhang'.

    Pinyin also makes the commonest Chinese typo — a homophone picked from the input method
    (潘琳 for 潘麟) — an exact match, and keeps string distances meaningful on engines that
    measure them in bytes.
    """
    text = _text(key)
    if not text or text.isascii():
        return text
    compact = text.replace(" ", "")
    cut = 2 if compact[:2] in _COMPOUND_SURNAMES else 1
    surname = "".join(_SURNAME_READINGS.get(ch) or _reading(ch) for ch in compact[:cut])
    given = "".join(_syllables(compact[cut:]))
    return " ".join(sorted(t for t in (surname, given) if t))


def company_translit(key: object) -> str:
    """Pinyin of a company key without spaces (华贸科技 -> huamaokeji); Latin keys are unchanged."""
    text = _text(key)
    if not text or text.isascii():
        return text.replace(" ", "")
    return "".join(_syllables(text))


def phone_e164(raw: object, region: str = "CN") -> str | None:
    """E.164 form of a phone number (+8613812345678), or None when it cannot be a phone number."""
    if _missing(raw):
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    artefact = _FLOAT_ARTEFACT.match(text)
    if artefact:
        text = artefact.group(1)
    digits = re.sub(r"\D", "", text)
    if region == "CN":
        national = digits
        if len(digits) == 13 and digits.startswith("86"):
            national = digits[2:]
        elif len(digits) == 15 and digits.startswith("0086"):
            national = digits[4:]
        if _CN_MOBILE.match(national):
            return "+86" + national
    if len(digits) < 7:
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def email_key(raw: object) -> str | None:
    """Lower-case address without a +tag (and without dots for Gmail, which ignores them)."""
    text = _text(raw).replace(" ", "")
    if not _EMAIL_SHAPE.match(text):
        return None
    local, domain = text.rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
        domain = "gmail.com"
    if not local:
        return None
    return f"{local}@{domain}"


def address_key(raw: object) -> str:
    """Address with width, script, case, spacing and punctuation folded, and a leading 中国 dropped."""
    text = "".join(t for t in _NON_WORD.split(_fold(raw)) if t)
    for prefix in ("中华人民共和国", "中国"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def code_key(raw: object) -> str:
    """Source customer codes compare without case, width, spaces or an Excel float tail (1001.0)."""
    text = unicodedata.normalize("NFKC", re.sub(r"\s+", "", _text(raw)).upper())
    artefact = _FLOAT_ARTEFACT.match(text)
    return artefact.group(1) if artefact else text


def tax_id_key(raw: object) -> str:
    """Tax ids compare in upper case without separators; O and I (never used) are read as 0 and 1."""
    text = re.sub(r"[\W_]+", "", _text(raw)).upper()
    return text.replace("O", "0").replace("I", "1")


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a 统一社会信用代码."""
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(code: object) -> bool:
    """True for an 18-character 统一社会信用代码 whose check character matches (GB 32100-2015)."""
    if _missing(code):
        return False
    text = str(code).strip().upper()
    if not _USCC_SHAPE.match(text):
        return False
    return uscc_check_char(text[:17]) == text[17]


def cn_id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of a 居民身份证号码."""
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def cn_id_valid(id_number: object) -> bool:
    """True for an 18-digit resident ID number with a real birth date and a matching check digit."""
    if _missing(id_number):
        return False
    text = str(id_number).strip().upper()
    if not _ID_SHAPE.match(text):
        return False
    try:
        birth = pd.Timestamp(year=int(text[6:10]), month=int(text[10:12]), day=int(text[12:14]))
    except ValueError:
        return False
    if birth.year < 1900:
        return False
    return cn_id_check_char(text[:17]) == text[17]


_ORG_MARKERS: tuple[str, ...] = (
    "公司", "集团", "厂", "店", "商行", "中心", "部", "院", "学校", "大学", "局", "所", "社", "馆", "协会", "站",
    "场", "科技", "贸易", "商贸", "电子", "实业", "工业", "建设", "工程", "物流", "医药", "食品", "超市", "商城",
    "酒店", "餐饮", "网络", "信息", "电器", "机械", "化工", "材料", "服饰", "服装", "文化", "传媒", "咨询",
    "投资", "控股", "银行", "五金", "建材", "百货", "药房", "诊所", "合作社",
)  # fmt: skip


def looks_like_company(name: object) -> bool:
    """A name carrying a legal form or an organisation word is a company; 2–4 Han characters are a person."""
    text = _fold(name)
    if not text:
        return False
    if any(m in text for m in _ORG_MARKERS):
        return True
    tokens = [t for t in _NON_WORD.split(text) if t]
    if all(_ASCII_WORD.match(t) for t in tokens):
        return any(t in _LATIN_LEGAL_TOKENS for t in tokens) or len(tokens) > 3
    return len("".join(tokens)) > 4


def per_distinct(fn: Callable[[Any], Any], values: pd.Series) -> pd.Series:
    """Apply ``fn`` once per distinct non-missing value; missing and empty results become None (object dtype)."""
    present = values.dropna()
    mapping = {v: (fn(v) or None) for v in present.unique()}
    return values.astype("object").map(mapping).astype("object").where(values.notna().to_numpy(), None)


def company_name_keys(values: pd.Series) -> pd.Series:
    return per_distinct(company_name_key, values)


def person_name_keys(values: pd.Series) -> pd.Series:
    return per_distinct(person_name_key, values)


def phone_keys(values: pd.Series, region: str = "CN") -> pd.Series:
    return per_distinct(lambda v: phone_e164(v, region), values)


def email_keys(values: pd.Series) -> pd.Series:
    return per_distinct(email_key, values)


def address_keys(values: pd.Series) -> pd.Series:
    return per_distinct(address_key, values)


def code_keys(values: pd.Series) -> pd.Series:
    return per_distinct(code_key, values)


def tax_id_keys(values: pd.Series) -> pd.Series:
    return per_distinct(tax_id_key, values)


def _per_distinct_flag(fn: Callable[[Any], bool], values: pd.Series) -> pd.Series:
    present = values.dropna()
    mapping = {v: bool(fn(v)) for v in present.unique()}
    flags = [False if _missing(v) else mapping[v] for v in values.tolist()]
    return pd.Series(flags, index=values.index, dtype=bool)


def uscc_valid_mask(values: pd.Series) -> pd.Series:
    return _per_distinct_flag(uscc_valid, values)


def cn_id_valid_mask(values: pd.Series) -> pd.Series:
    return _per_distinct_flag(cn_id_valid, values)


def looks_like_company_mask(values: pd.Series) -> pd.Series:
    return _per_distinct_flag(looks_like_company, values)
