"""Normalised keys: properties that must hold for any input, and the examples the issue names."""

from __future__ import annotations

import opencc
from hypothesis import given
from hypothesis import strategies as st

from salescope.resolve import normalize as nz

_S2T = opencc.OpenCC("s2t")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

cores = st.text(alphabet="华贸茂科技东方新恒信鼎盛宏达远航金桥中天成瑞丰博汇通海川电子实业物流", min_size=2, max_size=8)
regions = st.sampled_from(["北京", "上海", "广州", "深圳", "杭州", "成都"])
suffixes = st.sampled_from(["", "有限公司", "有限责任公司", "股份有限公司", "集团有限公司"])
latin_words = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8), min_size=1, max_size=3)
latin_suffixes = st.sampled_from(["", "Co., Ltd.", "Inc.", "GmbH", "Ltd", "Corp."])


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def _uscc(body: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def _cn_id(body: str) -> str:
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


uscc_bodies = st.builds(
    lambda reg, cat, admin, org: reg + cat + admin + org,
    st.sampled_from("159ABCDEFGHJNY"),
    st.sampled_from("123459"),
    st.from_regex(r"[1-6][0-9]{5}", fullmatch=True),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)
id_bodies = st.builds(
    lambda admin, year, month, day, seq: f"{admin}{year:04d}{month:02d}{day:02d}{seq:03d}",
    st.from_regex(r"[1-6][0-9]{5}", fullmatch=True),
    st.integers(1920, 2020),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 999),
)


@given(regions, cores, suffixes)
def test_company_key_ignores_legal_form_script_width_and_where_the_region_is_written(
    region: str, core: str, suffix: str
) -> None:
    plain = nz.company_name_key(f"{region}{core}有限公司")
    assert nz.company_name_key(f"{region}{core}{suffix}") == plain
    assert nz.company_name_key(f"{core}（{region}）{suffix}") == plain
    assert nz.company_name_key(f"{core}({region}市){suffix}") == plain
    assert nz.company_name_key(f"{region}市{core}{suffix}") == plain
    assert nz.company_name_key(_S2T.convert(f"{region}{core}{suffix}")) == plain
    assert nz.company_name_key(plain) == plain


@given(latin_words, latin_suffixes)
def test_latin_company_key_is_case_width_and_legal_form_invariant(words: list[str], suffix: str) -> None:
    name = " ".join(w.capitalize() for w in words)
    key = nz.company_name_key(f"{name} {suffix}")
    assert nz.company_name_key(name.upper()) == key
    assert nz.company_name_key(_full_width(f"{name}, {suffix}")) == key
    assert nz.company_name_key(key) == key


@given(st.text(max_size=30))
def test_keys_are_idempotent_on_any_text(text: str) -> None:
    for fn in (nz.person_name_key, nz.address_key, nz.code_key):
        once = fn(text)
        assert fn(once) == once


def test_named_examples() -> None:
    assert nz.company_name_key("华贸科技（北京）有限公司") == nz.company_name_key("北京华贸科技有限公司")
    assert nz.company_name_key("北京华茂科技有限公司") != nz.company_name_key("北京华贸科技有限公司")
    assert nz.company_name_key("华贸科技北京分公司") != nz.company_name_key("华贸科技")
    assert nz.person_name_key("Smith, John") == nz.person_name_key("JOHN  SMITH")
    assert nz.person_name_key("張偉") == nz.person_name_key("张伟")
    assert nz.person_name_translit(nz.person_name_key("张晓明")) == nz.person_name_translit("Xiaoming Zhang")
    assert nz.person_name_translit("潘琳") == nz.person_name_translit("潘麟")
    assert nz.email_key(" John.Doe+crm@GoogleMail.com ") == "johndoe@gmail.com"
    assert nz.email_key("not an email") is None
    assert nz.address_key("中国 北京市朝阳区 建國路１號") == nz.address_key("北京市朝阳区建国路1号")
    assert nz.code_key(" c001 ") == nz.code_key("C001") == "C001"
    assert nz.code_key("1001.0") == "1001"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.integers(0, 5))
def test_one_mobile_in_every_format_has_one_e164(mobile: str, style: int) -> None:
    formats = [
        mobile,
        f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
        f"(+86){mobile}",
        f"0086{mobile}",
        _full_width(mobile),
    ]
    e164 = nz.phone_e164(formats[style])
    assert e164 == "+86" + mobile
    assert nz.phone_e164(e164) == e164


def test_landlines_and_non_numbers() -> None:
    assert nz.phone_e164("010-6234 5678") == nz.phone_e164("+86 10 62345678") == "+861062345678"
    assert nz.phone_e164("12345") is None
    assert nz.phone_e164(None) is None
    assert nz.phone_e164("13812345678.0") == "+8613812345678"


@given(uscc_bodies)
def test_generated_uscc_is_valid_and_any_one_character_change_breaks_it(body: str) -> None:
    code = _uscc(body)
    assert nz.uscc_valid(code)
    assert nz.uscc_valid(code.lower())
    for i in range(18):
        for ch in "0A9Y":
            if ch != code[i]:
                assert not nz.uscc_valid(code[:i] + ch + code[i + 1 :]), (code, i, ch)


@given(uscc_bodies, st.integers(0, 16))
def test_uscc_adjacent_transposition_is_caught(body: str, i: int) -> None:
    code = _uscc(body)
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    if swapped != code:
        assert not nz.uscc_valid(swapped)


@given(id_bodies, st.integers(0, 16))
def test_generated_id_number_is_valid_and_a_changed_or_swapped_digit_breaks_it(body: str, i: int) -> None:
    number = _cn_id(body)
    assert nz.cn_id_valid(number)
    changed = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
    assert not nz.cn_id_valid(changed)
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    if swapped != number:
        assert not nz.cn_id_valid(swapped)


def test_id_number_needs_a_real_birth_date() -> None:
    assert nz.cn_id_valid("11010519491231002X")
    assert not nz.cn_id_valid(_cn_id("11010519490231002"))  # 31 February
    assert not nz.cn_id_valid("110105194912310021")
    assert not nz.cn_id_valid(None)
