"""Seeded, labelled entity-resolution records: people and companies, with the errors real exports carry.

Every record carries ``cluster`` (the true entity). Errors are drawn per record: typos (a
similar-sounding or random character for Chinese names, substitution / deletion / insertion /
transposition for Latin ones), digit transpositions in phones and birth dates, a second phone,
traditional characters, full-width digits, bracketed or dropped legal forms and missing fields.
Namesakes are frequent on purpose (Chinese surnames and given names are drawn from small pools),
and some entities get a "near twin" — same name and city, different ID number / tax id / phone —
so a matcher that merges on name alone is caught. Invalid check digits are never generated for
true IDs: a typo in an ID number is a typo, and the record then simply has no valid ID.

``python bench/data/er_records.py --people 1000 --companies 500`` prints a sample.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass

import opencc
import pandas as pd

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏辉建国志文斌宇浩凯健俊帆帅旭宁龙林欢阳"
    "晨瑞博雪琳晶颖婷倩慧佳欣怡嘉思雨子轩涵梓睿诗琪昊然天翔海波峰亮成立新春飞云鑫鸿晓东"
)
# Characters people confuse when typing pinyin: a "typo" in a Chinese name is usually one of these.
HOMOPHONES = (
    "伟玮炜韦维",
    "丽莉俐力立",
    "明铭鸣敏民",
    "华桦骅化花",
    "军君均俊峻",
    "静婧晶靖菁",
    "芳方舫放坊",
    "杰洁捷婕",
    "娜纳那",
    "强墙蔷",
    "磊蕾雷",
    "洋阳扬杨",
    "勇永咏泳",
    "艳燕彦雁",
    "涛韬桃",
    "超潮朝",
    "霞侠夏",
    "平萍苹评",
    "刚钢纲",
    "英莹颖瑛盈",
    "鹏朋彭",
    "辉晖慧惠",
    "建健剑键",
    "国果",
    "文雯闻",
    "斌彬滨宾",
    "宇雨语羽玉",
    "浩昊皓豪",
    "凯楷锴",
    "帆凡璠",
    "宁凝柠",
    "龙隆珑",
    "林琳霖麟",
    "欢焕",
    "晨辰臣",
    "瑞睿锐蕊",
    "博波勃",
    "雪学",
    "婷庭亭",
    "倩茜",
    "佳嘉家",
    "欣鑫新馨",
    "怡宜仪毅",
    "思斯丝",
    "涵晗寒",
    "梓子紫",
    "诗师",
    "琪琦淇棋",
    "然冉",
    "翔祥",
    "海凯",
    "峰锋枫",
    "亮靓",
    "成诚程",
    "立力莉",
    "春纯",
    "飞菲",
    "云芸匀",
    "鸿宏红",
    "晓小",
    "东冬栋",
)
FIRST_NAMES = [
    "James",
    "John",
    "Robert",
    "Michael",
    "William",
    "David",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "Donald",
    "Steven",
    "Paul",
    "Andrew",
    "Joshua",
    "Kenneth",
    "Nancy",
    "Lisa",
    "Betty",
    "Margaret",
    "Sandra",
    "Ashley",
    "Kimberly",
    "Emily",
    "Donna",
    "Michelle",
    "Wei",
    "Li",
    "Ming",
    "Hui",
    "Anna",
    "Maria",
    "Peter",
    "Laura",
    "Kevin",
    "Brian",
    "George",
    "Helen",
    "Grace",
    "Claire",
    "Sophie",
    "Oliver",
    "Jack",
    "Harry",
    "Lucas",
    "Emma",
    "Olivia",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Chen",
    "Wang",
    "Zhang",
    "Liu",
    "Huang",
]
CITIES = (
    ("北京", "北京", "110105", "100020"),
    ("上海", "上海", "310115", "200120"),
    ("广东", "广州", "440106", "510620"),
    ("广东", "深圳", "440305", "518057"),
    ("浙江", "杭州", "330106", "310012"),
    ("江苏", "南京", "320106", "210008"),
    ("江苏", "苏州", "320505", "215011"),
    ("四川", "成都", "510107", "610041"),
    ("湖北", "武汉", "420106", "430071"),
    ("陕西", "西安", "610113", "710065"),
    ("山东", "青岛", "370202", "266001"),
    ("天津", "天津", "120101", "300041"),
)
STREETS = [
    "建国路",
    "人民路",
    "解放路",
    "中山路",
    "长安街",
    "南京路",
    "淮海路",
    "学院路",
    "科技园路",
    "滨江大道",
    "天府大道",
    "珞喻路",
    "高新路",
    "香港中路",
]
BRANDS = [
    "华贸",
    "华茂",
    "东方",
    "新华",
    "恒信",
    "鼎盛",
    "宏达",
    "远航",
    "金桥",
    "中科",
    "天成",
    "瑞丰",
    "博远",
    "汇通",
    "海川",
    "联创",
    "正泰",
    "安居",
    "德胜",
    "信达",
    "美佳",
    "嘉禾",
    "锦程",
    "鸿运",
]
INDUSTRIES = [
    "科技",
    "贸易",
    "商贸",
    "电子",
    "实业",
    "物流",
    "医药",
    "食品",
    "建材",
    "机械",
    "化工",
    "信息技术",
    "电器",
    "服饰",
]
LEGAL = ("有限公司", "有限责任公司", "股份有限公司")
LATIN_BRANDS: tuple[str, ...] = tuple(
    [
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Stark",
        "Wayne",
        "Wonka",
        "Hooli",
        "Vandelay",
        "Soylent",
        "Cyberdyne",
        "Tyrell",
        "Oscorp",
        "Gringotts",
        "Monarch",
        "Nakatomi",
        "Massive",
        "Aperture",
        "Sterling",
        "Weyland",
        "Zorg",
        "Virtucon",
        "Dunder",
        "Krusty",
        "Prestige",
        "Wernham",
    ]
)
LATIN_REGIONS: tuple[str, ...] = tuple(
    [
        "Pacific",
        "Atlantic",
        "Northern",
        "Southern",
        "Eastern",
        "Western",
        "Central",
        "United",
        "Global",
        "Asia",
        "China",
        "Orient",
    ]
)
LATIN_INDUSTRIES = ["Trading", "Electronics", "Logistics", "Foods", "Machinery", "Chemicals", "Software", "Medical"]
LATIN_LEGAL = ("Co., Ltd.", "Ltd", "Inc.", "GmbH", "Limited", "Corp.")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_S2T = opencc.OpenCC("s2t")
_SIMILAR = {ch: group for group in HOMOPHONES for ch in group}


@dataclass(frozen=True)
class ErrorRates:
    """Per-record probabilities of each kind of error (each record is drawn independently)."""

    name_typo: float = 0.35
    phone_transposition: float = 0.08
    phone_changed: float = 0.1
    birth_transposition: float = 0.08
    email_typo: float = 0.1
    traditional: float = 0.1
    full_width: float = 0.1
    missing: float = 0.25


# "typos": every kind of typo and transposition, fields missing at random, but a person keeps one
# phone. "hard": also a new phone on one record in ten, and more fields missing.
PROFILES: dict[str, ErrorRates] = {
    "typos": ErrorRates(phone_changed=0.0, missing=0.15),
    "hard": ErrorRates(),
}


def uscc(rng: random.Random, admin: str) -> str:
    """A 统一社会信用代码 with a correct GB 32100-2015 check character."""
    body = "91" + admin + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def id_number(rng: random.Random, admin: str, birth: str) -> str:
    """An 18-digit resident ID number with a correct GB 11643 check character."""
    body = admin + birth.replace("-", "") + f"{rng.randrange(1000):03d}"
    return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def _transpose_digits(rng: random.Random, text: str) -> str:
    positions = [
        i for i in range(len(text) - 1) if text[i].isdigit() and text[i + 1].isdigit() and text[i] != text[i + 1]
    ]
    if not positions:
        return text
    i = rng.choice(positions)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _latin_typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(("sub", "del", "ins", "swap"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == "sub":
        return word[:i] + letter + word[i + 1 :]
    if op == "del":
        return word[:i] + word[i + 1 :]
    if op == "ins":
        return word[:i] + letter + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def _chinese_typo(rng: random.Random, name: str, first: int) -> str:
    """Replace one character after ``first`` (the surname is kept) with a similar-sounding one."""
    positions = list(range(first, len(name)))
    i = rng.choice(positions)
    group = _SIMILAR.get(name[i])
    options = [c for c in group if c != name[i]] if group else list(GIVEN.replace(name[i], ""))
    return name[:i] + rng.choice(options) + name[i + 1 :]


def _phone_format(rng: random.Random, mobile: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return mobile
    if style == 1:
        return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    if style == 2:
        return f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    return f"(+86){mobile}"


def _mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "186", "189", "159", "177")) + f"{rng.randrange(10**8):08d}"


def _birth(rng: random.Random) -> str:
    return f"{rng.randrange(1950, 2004)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"


def _person_entity(rng: random.Random, chinese: bool) -> dict[str, str]:
    province, city, admin, postcode = rng.choice(CITIES)
    birth = _birth(rng)
    if chinese:
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        name = rng.choice(SURNAMES) + given
        email_user = f"user{rng.randrange(10**6)}"
    else:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        email_user = f"{first.lower()}.{last.lower()}{rng.randrange(100)}"
    return {
        "name": name,
        "chinese": "1" if chinese else "",
        "phone": _mobile(rng),
        "email": f"{email_user}@{rng.choice(('qq.com', '163.com', 'gmail.com', 'outlook.com'))}",
        "birth_date": birth,
        "id_number": id_number(rng, admin, birth),
        "address": f"{province}{city}{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
        "city": city,
        "province": province,
        "postcode": postcode,
    }


def _near_twin(rng: random.Random, base: dict[str, str]) -> dict[str, str]:
    """Another person with the same name and city: different ID, phone, birth date, address and email."""
    twin = dict(base)
    admin = base["id_number"][:6]
    twin["birth_date"] = _birth(rng)
    twin["id_number"] = id_number(rng, admin, twin["birth_date"])
    twin["phone"] = _mobile(rng)
    twin["address"] = f"{base['province']}{base['city']}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
    user = f"user{rng.randrange(10**6)}" if base["chinese"] else base["email"].split("@")[0].rstrip("0123456789")
    twin["email"] = f"{user}{rng.randrange(100) if not base['chinese'] else ''}@{rng.choice(('qq.com', '163.com'))}"
    return twin


def _person_record(rng: random.Random, e: dict[str, str], rates: ErrorRates) -> dict[str, str | None]:
    chinese = bool(e["chinese"])
    name = e["name"]
    if rng.random() < rates.name_typo:
        if chinese:
            name = _chinese_typo(rng, name, 1)
        else:
            words = name.split()
            j = rng.randrange(len(words))
            words[j] = _latin_typo(rng, words[j])
            name = " ".join(words)
    if chinese and rng.random() < rates.traditional:
        name = _S2T.convert(name)
    if not chinese and rng.random() < 0.1:
        first, last = name.split(" ", 1)
        name = f"{last.upper()}, {first}"
    mobile = e["phone"]
    if rng.random() < rates.phone_changed:
        mobile = _mobile(rng)
    elif rng.random() < rates.phone_transposition:
        mobile = _transpose_digits(rng, mobile)
    phone = _phone_format(rng, mobile)
    if rng.random() < rates.full_width:
        phone = phone.translate(FULL_WIDTH)
    birth = e["birth_date"]
    if rng.random() < rates.birth_transposition:
        birth = _transpose_digits(rng, birth)
    email = e["email"]
    if rng.random() < rates.email_typo:
        user, domain = email.split("@")
        email = _latin_typo(rng, user) + "@" + domain
    elif rng.random() < 0.2:
        email = email.upper()
    record: dict[str, str | None] = {
        "name": name,
        "phone": phone,
        "email": email,
        "birth_date": birth if rng.random() < 0.7 else birth.replace("-", "/"),
        "id_number": e["id_number"],
        "address": e["address"] if rng.random() < 0.8 else e["address"].replace(e["province"], ""),
        "city": e["city"] if rng.random() < 0.8 else e["city"] + "市",
        "province": e["province"],
        "postcode": e["postcode"],
    }
    presence = {"phone": 0.85, "email": 0.6, "birth_date": 0.8, "id_number": 0.45, "address": 0.6, "postcode": 0.5}
    for field, keep in presence.items():
        if rng.random() > keep * (1 - rates.missing) / 0.75:
            record[field] = None
    return record


def _company_entity(rng: random.Random, chinese: bool) -> dict[str, str]:
    province, city, admin, postcode = rng.choice(CITIES)
    if chinese:
        core = rng.choice(BRANDS) + rng.choice(INDUSTRIES)
        name = f"{city}{core}{rng.choice(LEGAL)}"
    else:
        core = f"{rng.choice(LATIN_BRANDS)} {rng.choice(LATIN_REGIONS)} {rng.choice(LATIN_INDUSTRIES)}"
        name = f"{core} {rng.choice(LATIN_LEGAL)}"
    return {
        "name": name,
        "core": core,
        "chinese": "1" if chinese else "",
        "phone": f"0{rng.choice(('10', '21', '20', '755', '571', '25', '512', '28', '27', '29', '532', '22'))}-"
        f"{rng.randrange(2 * 10**7, 9 * 10**7)}",
        "tax_id": uscc(rng, admin),
        "address": f"{province}{city}{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
        "city": city,
        "province": province,
        "postcode": postcode,
    }


def _company_twin(rng: random.Random, base: dict[str, str]) -> dict[str, str]:
    """A different company one character away (北京华茂科技 vs 北京华贸科技): own tax id, phone and address."""
    twin = dict(base)
    if base["chinese"]:
        twin["core"] = _chinese_typo(rng, base["core"], 0)
    else:
        twin["core"] = _latin_typo(rng, base["core"])
    twin["name"] = base["name"].replace(base["core"], twin["core"])
    twin["address"] = f"{base['province']}{base['city']}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
    twin["tax_id"] = uscc(rng, base["tax_id"][2:8])
    twin["phone"] = base["phone"][:-4] + f"{rng.randrange(10**4):04d}"
    return twin


def _company_record(rng: random.Random, e: dict[str, str], rates: ErrorRates) -> dict[str, str | None]:
    core, legal = e["core"], e["name"][e["name"].index(e["core"]) + len(e["core"]) :]
    typo = rng.random() < rates.name_typo / 3
    variant = rng.random()
    if e["chinese"]:
        if typo:
            core = _chinese_typo(rng, core, 0)
        name = f"{e['city']}{core}{legal}"
        if variant < 0.2:
            name = f"{core}（{e['city']}）{legal}"
        elif variant < 0.35:
            name = f"{e['city']}{core}"
        if rng.random() < rates.traditional:
            name = _S2T.convert(name)
    else:
        if typo:
            core = _latin_typo(rng, core)
        name = f"{core} {legal.strip()}"
        if variant < 0.3:
            name = core + " " + rng.choice(LATIN_LEGAL)
        elif variant < 0.45:
            name = name.upper()
    phone = e["phone"]
    if rng.random() < rates.phone_changed:
        phone = phone[:-4] + f"{rng.randrange(10**4):04d}"
    record: dict[str, str | None] = {
        "name": name,
        "phone": phone,
        "tax_id": e["tax_id"] if rng.random() < 0.8 else e["tax_id"].lower(),
        "address": e["address"],
        "city": e["city"],
        "province": e["province"],
        "postcode": e["postcode"],
    }
    presence = {"phone": 0.8, "tax_id": 0.5, "address": 0.6, "postcode": 0.5}
    for field, keep in presence.items():
        if rng.random() > keep * (1 - rates.missing) / 0.75:
            record[field] = None
    return record


def _copies(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4), weights=(0.45, 0.3, 0.15, 0.1))[0]


def people(
    entities: int,
    *,
    seed: int = 1,
    chinese_share: float = 0.7,
    twin_share: float = 0.08,
    rates: ErrorRates | None = None,
) -> pd.DataFrame:
    """Person records with ground-truth ``cluster``; ``strong`` is the true ID number (for veto checks)."""
    rng = random.Random(seed)
    rates = rates or ErrorRates()
    rows: list[dict[str, object]] = []
    cluster = 0
    for _ in range(entities):
        base = _person_entity(rng, rng.random() < chinese_share)
        group = [base] + ([_near_twin(rng, base)] if rng.random() < twin_share else [])
        for e in group:
            for _ in range(_copies(rng)):
                rows.append({**_person_record(rng, e, rates), "cluster": cluster, "strong": e["id_number"]})
            cluster += 1
    frame = pd.DataFrame(rows)
    frame.insert(0, "record_id", range(len(frame)))
    return frame


def companies(
    entities: int,
    *,
    seed: int = 2,
    chinese_share: float = 0.75,
    twin_share: float = 0.1,
    rates: ErrorRates | None = None,
) -> pd.DataFrame:
    """Company records with ground-truth ``cluster``; ``strong`` is the true tax id."""
    rng = random.Random(seed)
    rates = rates or ErrorRates()
    rows: list[dict[str, object]] = []
    cluster = 0
    seen: set[tuple[str, str]] = set()
    for _ in range(entities):
        # Registration keeps a company name unique within its city: redraw a collision.
        base = _company_entity(rng, rng.random() < chinese_share)
        while (base["city"], base["core"]) in seen:
            base = _company_entity(rng, rng.random() < chinese_share)
        seen.add((base["city"], base["core"]))
        group = [base] + ([_company_twin(rng, base)] if rng.random() < twin_share else [])
        seen.update((e["city"], e["core"]) for e in group)
        for e in group:
            for _ in range(_copies(rng)):
                rows.append({**_company_record(rng, e, rates), "cluster": cluster, "strong": e["tax_id"]})
            cluster += 1
    frame = pd.DataFrame(rows)
    frame.insert(0, "record_id", range(len(frame)))
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(people(args.people, seed=args.seed).to_string())
        print(companies(args.companies, seed=args.seed + 1).to_string())


if __name__ == "__main__":
    main()
