"""What the demo company sells and who it buys from: eight categories, their products and suppliers.

The company is a typical 采销 distributor of office, IT, household and industrial supplies,
selling to companies (直销, 经销商) and consumers (电商, 门店). Margins differ by category the
way they do in that trade (electronics thin, household goods fat); popularity inside a
category is Zipf-distributed, so a few SKUs carry most of the volume and ABC analysis has a
real A class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salescope.demo import names, places


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    margin: float
    brands: tuple[str, ...]
    items: tuple[tuple[str, float, tuple[tuple[str, float], ...]], ...]
    """(item, base price in 元, ((spec, price factor), ...))."""
    supplier_word: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "BG",
        "办公用品",
        0.30,
        ("晨星", "金彩", "立信", "博文"),
        (
            ("复印纸", 25, (("A4 70g 500张/包", 1), ("A4 80g 500张/包", 1.2), ("A4 70g 5包/箱", 4.8))),
            ("中性笔", 18, (("0.5mm 黑色 12支/盒", 1), ("0.5mm 蓝色 12支/盒", 1), ("0.38mm 黑色 12支/盒", 1.1))),
            ("订书机", 15, (("标准型", 1), ("重型", 3.5))),
            ("文件夹", 8, (("A4 单夹", 1), ("A4 双夹", 1.3), ("A4 10个/包", 7))),
            ("笔记本", 6, (("A5 60页", 1), ("B5 80页", 1.5), ("皮面 A5", 4))),
            ("计算器", 45, (("12位", 1), ("财务专用", 1.8))),
            ("档案盒", 5, (("A4 35mm", 1), ("A4 55mm", 1.3))),
            ("便利贴", 4, (("76×76mm", 1), ("5色组合", 2.5))),
            ("硒鼓", 280, (("88A 黑色", 1), ("12A 黑色", 0.9), ("大容量", 1.6))),
            ("墨盒", 150, (("黑色", 1), ("彩色", 1.3))),
            ("碎纸机", 600, (("4级保密", 1), ("5级保密", 1.6))),
            ("白板笔", 12, (("黑色 10支/盒", 1), ("多色 10支/盒", 1.1))),
        ),
        "文具",
    ),
    Category(
        "SM",
        "电脑数码",
        0.12,
        ("星驰", "联云", "极客派", "蓝鲸"),
        (
            ("笔记本电脑", 5500, (("14英寸 i5 16G", 1), ("15.6英寸 i7 16G", 1.35), ("14英寸 轻薄本", 1.15))),
            ("台式电脑", 4200, (("i5 16G 512G", 1), ("i7 32G 1T", 1.5))),
            ("显示器", 1300, (("24英寸", 0.75), ("27英寸 2K", 1), ("27英寸 4K", 1.8))),
            ("激光打印机", 1600, (("黑白", 1), ("彩色", 2.2), ("多功能一体机", 1.6))),
            ("无线鼠标", 79, (("静音款", 1), ("人体工学", 1.8))),
            ("机械键盘", 299, (("青轴", 1), ("红轴", 1.05))),
            ("移动硬盘", 399, (("1TB", 1), ("2TB", 1.5), ("4TB", 2.4))),
            ("U盘", 49, (("64GB", 1), ("128GB", 1.6))),
            ("路由器", 259, (("千兆 双频", 1), ("Wi-Fi 6", 1.6))),
            ("投影仪", 3200, (("1080P", 1), ("4K", 2.1))),
            ("耳机", 199, (("头戴式", 1.5), ("蓝牙入耳", 1))),
            ("平板电脑", 2600, (("10.9英寸 64G", 1), ("11英寸 256G", 1.5))),
        ),
        "电子科技",
    ),
    Category(
        "JD",
        "家用电器",
        0.18,
        ("美家", "格润", "沃康", "优选"),
        (
            ("空调", 3200, (("1.5匹 挂机", 1), ("3匹 柜机", 2.3), ("1匹 挂机", 0.85))),
            ("冰箱", 3800, (("双门 260L", 0.7), ("对开门 500L", 1), ("十字门 450L", 1.2))),
            ("洗衣机", 2500, (("滚筒 10kg", 1), ("波轮 8kg", 0.5))),
            ("电饭煲", 399, (("4L", 1), ("5L IH", 1.8))),
            ("微波炉", 599, (("20L", 1), ("23L 变频", 1.5))),
            ("电热水壶", 129, (("1.7L", 1), ("恒温款", 1.6))),
            ("空气净化器", 1499, (("标准版", 1), ("除甲醛版", 1.5))),
            ("吸尘器", 899, (("手持无线", 1), ("扫地机器人", 2.2))),
            ("电风扇", 229, (("落地扇", 1), ("塔扇", 1.4))),
            ("饮水机", 699, (("立式 冷热", 1), ("台式 温热", 0.6))),
        ),
        "电器",
    ),
    Category(
        "SP",
        "食品饮料",
        0.25,
        ("农夫坊", "山泉源", "谷香", "甄味"),
        (
            ("矿泉水", 36, (("550ml×24瓶", 1), ("380ml×24瓶", 0.8), ("5L×4桶", 0.9))),
            ("咖啡", 69, (("速溶 30条", 1), ("咖啡豆 500g", 1.6))),
            ("茶叶", 128, (("绿茶 250g", 1), ("红茶 250g", 1.1), ("礼盒装", 2.5))),
            ("饼干礼盒", 58, (("1kg", 1), ("2kg", 1.8))),
            ("坚果礼盒", 139, (("1.2kg", 1), ("2kg", 1.6))),
            ("牛奶", 65, (("250ml×24盒", 1), ("200ml×12盒", 0.55))),
            ("方便面", 45, (("5连包×6", 1), ("桶装×12", 1.2))),
            ("食用油", 89, (("5L", 1), ("1.8L×2", 0.8))),
            ("大米", 69, (("10kg", 1), ("5kg", 0.55))),
            ("饮料", 48, (("果汁 1L×12", 1), ("茶饮 500ml×15", 0.9))),
        ),
        "食品",
    ),
    Category(
        "RH",
        "清洁日化",
        0.35,
        ("洁雅", "清风源", "净佳"),
        (
            ("洗手液", 19, (("500ml", 1), ("补充装 1L", 1.4))),
            ("抽纸", 39, (("3层 24包/箱", 1), ("4层 18包/箱", 1.1))),
            ("卷纸", 45, (("4层 27卷/提", 1), ("大盘纸 12卷", 1.5))),
            ("洗洁精", 15, (("1.5kg", 1), ("5kg", 2.6))),
            ("洗衣液", 49, (("3kg", 1), ("2kg 薰衣草", 0.75))),
            ("垃圾袋", 12, (("中号 100只", 1), ("大号 50只", 1.1))),
            ("消毒液", 29, (("1L", 1), ("5L", 3.5))),
            ("拖把", 59, (("平板拖", 1), ("旋转拖 套装", 1.7))),
            ("湿巾", 9, (("80抽", 1), ("10包/箱", 8.5))),
        ),
        "日化用品",
    ),
    Category(
        "LB",
        "劳保用品",
        0.28,
        ("安盾", "固安", "卫士"),
        (
            ("劳保手套", 24, (("棉纱 12双", 1), ("丁腈 12双", 1.8))),
            ("安全帽", 35, (("ABS 标准", 1), ("玻璃钢", 1.8))),
            ("防护口罩", 59, (("KN95 50只", 1), ("医用外科 50只", 0.5))),
            ("工作服", 128, (("夏季 短袖", 0.8), ("冬季 棉服", 1.6), ("防静电", 1.3))),
            ("劳保鞋", 169, (("防砸 防刺穿", 1), ("绝缘", 1.1))),
            ("护目镜", 19, (("防雾", 1), ("防冲击", 1.4))),
            ("反光背心", 15, (("标准", 1), ("多口袋", 1.5))),
            ("耳塞", 29, (("50副/盒", 1), ("带线 100副", 2.2))),
        ),
        "劳保用品",
    ),
    Category(
        "BZ",
        "包装耗材",
        0.22,
        ("顺封", "宝盛", "鑫包"),
        (
            ("纸箱", 3, (("3层 小号", 0.6), ("5层 中号", 1), ("5层 大号", 1.6))),
            ("封箱胶带", 48, (("4.5cm×100m 6卷", 1), ("6cm×100m 6卷", 1.3))),
            ("气泡膜", 65, (("50cm×100m", 1), ("100cm×50m", 1.05))),
            ("缠绕膜", 38, (("50cm 2.5kg", 1), ("30cm 1.5kg", 0.65))),
            ("打包带", 55, (("PP 10kg", 1), ("PET 20kg", 1.9))),
            ("快递袋", 35, (("28×42cm 100个", 1), ("38×52cm 100个", 1.3))),
            ("标签纸", 25, (("热敏 100×150mm", 1), ("铜版纸 60×40mm", 0.8))),
            ("珍珠棉", 45, (("1mm 卷", 1), ("5mm 片", 1.4))),
        ),
        "包装材料",
    ),
    Category(
        "JJ",
        "家居百货",
        0.40,
        ("宜居", "木语", "简品"),
        (
            ("办公椅", 499, (("人体工学", 1), ("网布 简约", 0.6))),
            ("收纳箱", 49, (("55L", 1), ("3个装", 2.3))),
            ("保温杯", 89, (("500ml", 1), ("350ml", 0.85))),
            ("毛巾", 25, (("纯棉 2条装", 1), ("浴巾", 2.4))),
            ("床上四件套", 299, (("1.5m", 1), ("1.8m", 1.2))),
            ("台灯", 129, (("护眼 LED", 1), ("无线充电款", 1.6))),
            ("雨伞", 39, (("折叠", 1), ("长柄 商务", 1.5))),
            ("餐具套装", 99, (("陶瓷 16件", 1), ("骨瓷 28件", 2.5))),
        ),
        "家居用品",
    ),
)

# Items bought together, so basket analysis finds rules a category manager would recognise.
COMPANIONS: tuple[tuple[str, str], ...] = (
    ("激光打印机", "硒鼓"),
    ("硒鼓", "复印纸"),
    ("笔记本电脑", "无线鼠标"),
    ("台式电脑", "显示器"),
    ("显示器", "机械键盘"),
    ("纸箱", "封箱胶带"),
    ("快递袋", "标签纸"),
    ("安全帽", "劳保手套"),
    ("工作服", "劳保鞋"),
    ("咖啡", "牛奶"),
    ("抽纸", "卷纸"),
    ("洗衣液", "洗洁精"),
    ("文件夹", "档案盒"),
    ("床上四件套", "毛巾"),
)

# Share of the catalogue per category (by number of SKUs).
_CATEGORY_SHARE = np.array([0.14, 0.14, 0.12, 0.13, 0.12, 0.11, 0.11, 0.13])
ZIPF_EXPONENT = 1.07


@dataclass(frozen=True)
class Catalog:
    code: list[str]
    name: list[str]
    item: list[str]
    category: np.ndarray
    price_cents: np.ndarray
    cost_cents: np.ndarray
    popularity: np.ndarray
    """Within-category Zipf weight; sums to 1 inside each category."""
    companion: np.ndarray
    """Index of the product most often bought with this one, or -1."""
    supplier: np.ndarray


@dataclass(frozen=True)
class Suppliers:
    code: list[str]
    name: list[str]
    phone: list[str]
    province: list[str]
    category: np.ndarray
    on_time: np.ndarray
    """Probability a delivery arrives by the promised date."""
    late_days: np.ndarray
    """Mean delay of a late delivery, in days."""
    defect_rate: np.ndarray
    lead_days: np.ndarray
    price_factor: np.ndarray


def _retail_price(p: np.ndarray) -> np.ndarray:
    """Prices as shops set them: 9.9, 299, 5,499 — not 312.47."""
    small = np.round(p, 1)
    mid = np.maximum(np.round(p / 10) * 10 - 1, 1)
    big = np.round(p / 100) * 100 - 1
    return np.where(p < 20, small, np.where(p < 1000, mid, big))


def build_catalog(rng: np.random.Generator, n_products: int, suppliers: Suppliers) -> Catalog:
    quotas = np.maximum(np.floor(_CATEGORY_SHARE * n_products).astype(int), 1)
    quotas[0] += n_products - quotas.sum()
    codes: list[str] = []
    product_names: list[str] = []
    items: list[str] = []
    category: list[int] = []
    base: list[float] = []
    for c_idx, (cat, quota) in enumerate(zip(CATEGORIES, quotas, strict=True)):
        combos = [
            (brand, item, spec, price * factor)
            for item, price, specs in cat.items
            for spec, factor in specs
            for brand in cat.brands
        ]
        order = rng.permutation(len(combos))
        for k in range(quota):
            brand, item, spec, price = combos[order[k % len(combos)]]
            model = f" 型号{k // len(combos) + 1}" if k >= len(combos) else ""
            codes.append(f"{cat.code}{10001 + k}")
            product_names.append(f"{brand} {item} {spec}{model}")
            items.append(item)
            category.append(c_idx)
            base.append(price)
    cat_arr = np.asarray(category, dtype=np.int16)
    n = len(codes)
    brand_factor = rng.lognormal(0.0, 0.15, n)
    price = _retail_price(np.asarray(base) * brand_factor)
    margins = np.asarray([c.margin for c in CATEGORIES])[cat_arr] * rng.lognormal(0.0, 0.2, n)
    cost = np.round(price * (1 - np.clip(margins, 0.03, 0.7)), 2)

    popularity = np.zeros(n)
    for c_idx in range(len(CATEGORIES)):
        members = np.flatnonzero(cat_arr == c_idx)
        ranks = rng.permutation(len(members)) + 1
        w = 1.0 / ranks**ZIPF_EXPONENT
        popularity[members] = w / w.sum()

    companion = np.full(n, -1, dtype=np.int32)
    item_arr = np.asarray(items)
    for a, b in COMPANIONS:
        src, dst = np.flatnonzero(item_arr == a), np.flatnonzero(item_arr == b)
        if len(src) and len(dst):
            best = dst[np.argsort(-popularity[dst], kind="stable")[: max(1, len(dst) // 3)]]
            companion[src] = best[rng.integers(0, len(best), len(src))]

    supplier = np.empty(n, dtype=np.int32)
    for c_idx in range(len(CATEGORIES)):
        members = np.flatnonzero(cat_arr == c_idx)
        options = np.flatnonzero(suppliers.category == c_idx)
        supplier[members] = options[rng.integers(0, len(options), len(members))]

    return Catalog(
        code=codes,
        name=product_names,
        item=items,
        category=cat_arr,
        price_cents=np.round(price * 100).astype(np.int64),
        cost_cents=np.round(cost * 100).astype(np.int64),
        popularity=popularity,
        companion=companion,
        supplier=supplier,
    )


# Manufacturing provinces where suppliers of these goods cluster.
_SUPPLIER_PROVINCES = {"广东": 5.0, "浙江": 4.0, "江苏": 3.5, "山东": 2.0, "福建": 1.5, "上海": 1.5, "河北": 1.0}


def build_suppliers(rng: np.random.Generator, n: int) -> Suppliers:
    n = max(n, len(CATEGORIES))
    category = np.concatenate([np.arange(len(CATEGORIES)), rng.integers(0, len(CATEGORIES), n - len(CATEGORIES))])
    provs = [p for p in places.PROVINCES if p.short in _SUPPLIER_PROVINCES]
    w = np.asarray([_SUPPLIER_PROVINCES[p.short] for p in provs])
    prov_idx = rng.choice(len(provs), size=n, p=w / w.sum())
    city = [provs[i].cities[rng.integers(0, len(provs[i].cities))] for i in prov_idx]
    company = names.company_names(rng, [c.short for c in city])
    # Replace the generic industry word with what this supplier makes (东莞宏达包装材料有限公司).
    supplier_names = [
        f"{c.short}{zihao}{CATEGORIES[k].supplier_word}有限公司"
        for c, zihao, k in zip(city, company.zihao, category, strict=True)
    ]
    locals_ = names.landline_locals(rng, np.asarray([c.local_digits for c in city]))
    mob = names.mobiles(rng, n)
    phone = [
        f"{c.area_code}-{loc}" if rng.random() < 0.6 else str(m) for c, loc, m in zip(city, locals_, mob, strict=True)
    ]
    # Most suppliers are reliable; a minority are chronically late or sloppy, which is what the
    # supplier scorecard should surface.
    weak = rng.random(n) < 0.25
    on_time = np.where(weak, rng.beta(4, 4, n), rng.beta(12, 1.5, n))
    late_days = np.where(weak, rng.uniform(6, 18, n), rng.uniform(2, 6, n))
    defect = np.where(rng.random(n) < 0.2, rng.beta(2, 25, n), rng.beta(1, 80, n))
    return Suppliers(
        code=[f"GYS{1001 + i}" for i in range(n)],
        name=supplier_names,
        phone=phone,
        province=[provs[i].name for i in prov_idx],
        category=category,
        on_time=on_time,
        late_days=late_days,
        defect_rate=defect,
        lead_days=rng.integers(7, 31, n),
        price_factor=rng.normal(1.0, 0.03, n),
    )
