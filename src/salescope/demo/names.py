"""Chinese company and person names, phones, e-mails and 统一社会信用代码 for demo customers.

Company names follow how Chinese registrations are formed — 行政区划 + 字号 + 行业 + 组织形式
(北京 + 华贸 + 科技 + 有限公司) — because entity resolution has to cope with exactly the ways
people rewrite them: the region moved into brackets, the legal form dropped. Person names draw
from the commonest surnames, weighted roughly by their share of the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Characters that make up 字号 (trade names), with pinyin so e-mail domains look like the name.
_ZIHAO_CHARS: tuple[tuple[str, str], ...] = (
    ("华", "hua"), ("贸", "mao"), ("恒", "heng"), ("信", "xin"), ("鑫", "xin"), ("源", "yuan"), ("宏", "hong"),
    ("达", "da"), ("永", "yong"), ("盛", "sheng"), ("金", "jin"), ("泰", "tai"), ("瑞", "rui"), ("丰", "feng"),
    ("东", "dong"), ("方", "fang"), ("天", "tian"), ("成", "cheng"), ("中", "zhong"), ("科", "ke"), ("博", "bo"),
    ("远", "yuan"), ("嘉", "jia"), ("禾", "he"), ("海", "hai"), ("川", "chuan"), ("航", "hang"), ("德", "de"),
    ("润", "run"), ("联", "lian"), ("创", "chuang"), ("新", "xin"), ("通", "tong"), ("明", "ming"), ("辉", "hui"),
    ("同", "tong"), ("安", "an"), ("宝", "bao"), ("诚", "cheng"), ("鼎", "ding"), ("凯", "kai"), ("隆", "long"),
    ("泽", "ze"), ("和", "he"), ("银", "yin"), ("志", "zhi"), ("卓", "zhuo"), ("越", "yue"), ("佳", "jia"),
    ("利", "li"), ("富", "fu"), ("广", "guang"), ("兴", "xing"), ("汇", "hui"), ("友", "you"), ("星", "xing"),
    ("锦", "jin"), ("正", "zheng"), ("维", "wei"), ("启", "qi"), ("升", "sheng"), ("益", "yi"), ("康", "kang"),
    ("荣", "rong"), ("昌", "chang"), ("晟", "sheng"), ("弘", "hong"), ("骏", "jun"), ("逸", "yi"), ("鸿", "hong"),
    ("力", "li"), ("万", "wan"), ("顺", "shun"), ("旺", "wang"), ("亿", "yi"), ("聚", "ju"), ("百", "bai"),
    ("祥", "xiang"), ("福", "fu"), ("裕", "yu"), ("欣", "xin"), ("森", "sen"), ("林", "lin"), ("峰", "feng"),
    ("腾", "teng"), ("飞", "fei"), ("奥", "ao"), ("迪", "di"), ("思", "si"), ("睿", "rui"), ("捷", "jie"),
)  # fmt: skip


@dataclass(frozen=True)
class Industry:
    word: str
    """The 行业 part of a registered name."""
    label: str
    """What a CRM's 所属行业 column says."""
    slug: str
    category: int
    """Index of the product category this kind of business buys most (see catalog.CATEGORIES)."""


INDUSTRIES: tuple[Industry, ...] = (
    Industry("科技", "信息技术", "tech", 1),
    Industry("网络科技", "互联网", "net", 1),
    Industry("电子", "电子制造", "elec", 6),
    Industry("机械", "装备制造", "machinery", 5),
    Industry("建设工程", "建筑业", "build", 5),
    Industry("物流", "交通物流", "logistics", 6),
    Industry("供应链管理", "交通物流", "scm", 6),
    Industry("餐饮管理", "餐饮", "catering", 3),
    Industry("酒店管理", "住宿", "hotel", 4),
    Industry("医药", "医药", "pharm", 4),
    Industry("教育科技", "教育", "edu", 0),
    Industry("食品", "食品加工", "food", 6),
    Industry("服饰", "纺织服装", "fashion", 6),
    Industry("化工", "化工", "chem", 5),
    Industry("汽车配件", "汽车", "auto", 5),
    Industry("物业管理", "房地产", "pm", 4),
    Industry("印刷", "印刷包装", "print", 0),
    Industry("家具", "家具制造", "furniture", 7),
    Industry("环保科技", "环保", "eco", 5),
    Industry("贸易", "批发零售", "trade", 2),
    Industry("商贸", "批发零售", "trading", 3),
    Industry("实业", "综合", "group", 0),
    Industry("文化传媒", "文化传媒", "media", 0),
    Industry("信息咨询", "商务服务", "consult", 0),
)

LEGAL_FORMS: tuple[str, ...] = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
_LEGAL_FORM_P = np.array([0.80, 0.12, 0.06, 0.02])

# Commonest surnames in rough order of frequency (public census rankings), with decaying weights.
SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严"
)
GIVEN_CHARS: tuple[str, ...] = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞建文辉宇浩晨欣怡子轩梓涵雨博思佳嘉琪然俊峰凯雪婷晓燕颖慧丹阳斌波宁倩东海鑫婧琳瑶昊天志云亮"
)

# Mobile prefixes in service with the three operators (China Mobile, Unicom, Telecom).
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "184", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])


def _zipf_weights(n: int, s: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


@dataclass(frozen=True)
class CompanyNames:
    canonical: list[str]
    bracketed: list[str]
    """华贸科技（北京）有限公司 — the region moved into brackets after the trade name."""
    short: list[str]
    """北京华贸科技 — the legal form dropped, as salespeople type it."""
    half_width: list[str]
    """华贸科技(北京)有限公司 — what another ERP with ASCII brackets stores."""
    zihao: list[str]
    industry: np.ndarray
    domain: list[str]


def company_names(rng: np.random.Generator, places: list[str]) -> CompanyNames:
    """One registered name per company; names are unique, as registration requires within a region."""
    n = len(places)
    k = len(_ZIHAO_CHARS)
    first = rng.integers(0, k, n)
    second = (first + rng.integers(1, k, n)) % k
    industry = rng.integers(0, len(INDUSTRIES), n)
    # Redraw trade names that collide with an earlier company's full name: 同名 registrations are refused.
    for _ in range(20):
        keys = [f"{p}|{a}|{b}|{i}" for p, a, b, i in zip(places, first, second, industry, strict=True)]
        _, first_index = np.unique(np.asarray(keys), return_index=True)
        clash = np.ones(n, dtype=bool)
        clash[first_index] = False
        if not clash.any():
            break
        m = int(clash.sum())
        first[clash] = rng.integers(0, k, m)
        second[clash] = (first[clash] + rng.integers(1, k, m)) % k
    form = rng.choice(len(LEGAL_FORMS), size=n, p=_LEGAL_FORM_P)
    tld = rng.choice(np.array([".com", ".com.cn", ".cn"]), size=n, p=[0.6, 0.3, 0.1])
    canonical, bracketed, short, half, domain, zihaos = [], [], [], [], [], []
    for place, a, b, i, f, t in zip(places, first, second, industry, form, tld, strict=True):
        zihao = _ZIHAO_CHARS[a][0] + _ZIHAO_CHARS[b][0]
        ind = INDUSTRIES[i]
        legal = LEGAL_FORMS[f]
        canonical.append(f"{place}{zihao}{ind.word}{legal}")
        bracketed.append(f"{zihao}{ind.word}（{place}）{legal}")
        short.append(f"{place}{zihao}{ind.word}")
        half.append(f"{zihao}{ind.word}({place}){legal}")
        domain.append(f"{_ZIHAO_CHARS[a][1]}{_ZIHAO_CHARS[b][1]}-{ind.slug}{t}")
        zihaos.append(zihao)
    return CompanyNames(canonical, bracketed, short, half, zihaos, industry, domain)


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    surname = rng.choice(len(SURNAMES), size=n, p=_zipf_weights(len(SURNAMES)))
    g1 = rng.integers(0, len(GIVEN_CHARS), n)
    g2 = rng.integers(0, len(GIVEN_CHARS), n)
    two = rng.random(n) < 0.7
    return [
        SURNAMES[s] + GIVEN_CHARS[a] + (GIVEN_CHARS[b] if t else "")
        for s, a, b, t in zip(surname, g1, g2, two, strict=True)
    ]


def unique_person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct names, for staff lists where two 王芳 would make ownership ambiguous."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        for name in person_names(rng, n):
            if name not in seen and len(names) < n:
                seen.add(name)
                names.append(name)
    return names


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Eleven-digit mobile numbers as int64 (prefix from the operators' ranges, 8 random digits)."""
    prefix = np.asarray([int(p) for p in MOBILE_PREFIXES], dtype=np.int64)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    return prefix * 100_000_000 + rng.integers(0, 100_000_000, n, dtype=np.int64)


def format_mobile(number: int, style: int) -> str:
    """The same mobile written the ways exports write it: plain, dashed, spaced, with +86."""
    s = str(number)
    if style == 1:
        return f"{s[:3]}-{s[3:7]}-{s[7:]}"
    if style == 2:
        return f"{s[:3]} {s[3:7]} {s[7:]}"
    if style == 3:
        return f"+86 {s}"
    return s


def landline_locals(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """Local fixed-line numbers of the given lengths (7 or 8), starting 2–8 as CN numbering requires."""
    scale = 10 ** (np.asarray(digits, dtype=np.int64) - 1)
    return rng.integers(2, 9, len(scale)) * scale + (rng.random(len(scale)) * scale).astype(np.int64)


def uscc_codes(rng: np.random.Generator, division: list[str]) -> list[str]:
    """统一社会信用代码 with valid check characters (GB 32100-2015, organisation code per GB 11714).

    ``division`` is the six-digit administrative division of each company's registration.
    """
    n = len(division)
    if n == 0:
        return []
    chars = np.frombuffer(_USCC_CHARS.encode(), dtype=np.uint8)
    # Organisation code body: newer registrations start with MA, older ones are all digits.
    body = rng.integers(0, 10, (n, 8))
    new_style = rng.random(n) < 0.5
    body[new_style, 0] = _USCC_CHARS.index("M")
    body[new_style, 1] = _USCC_CHARS.index("A")
    letters = rng.integers(10, len(_USCC_CHARS), (n, 6))
    mixed = rng.random((n, 6)) < 0.25
    body[:, 2:] = np.where(new_style[:, None] & mixed, letters, body[:, 2:])
    body_chars = chars[body]
    # GB 11714 values letters A=10 … Z=35 (ASCII code minus 55); the USCC alphabet skips some letters.
    gb_values = np.where(body_chars >= ord("A"), body_chars.astype(np.int64) - 55, body_chars.astype(np.int64) - 48)
    c9 = 11 - (gb_values * _ORG_WEIGHTS).sum(axis=1) % 11
    org_check = np.where(c9 == 10, ord("X"), np.where(c9 == 11, ord("0"), c9 + ord("0"))).astype(np.uint8)
    head = np.frombuffer("".join("91" + d for d in division).encode(), dtype=np.uint8).reshape(n, 8)
    first17 = np.concatenate([head, body_chars, org_check[:, None]], axis=1)
    lookup = np.full(256, -1, dtype=np.int64)
    lookup[chars] = np.arange(len(chars))
    values = lookup[first17]
    check = (31 - (values * _USCC_WEIGHTS).sum(axis=1) % 31) % 31
    full = np.concatenate([first17, chars[check][:, None]], axis=1)
    return [bytes(row).decode() for row in full]
