"""Where demo customers live: provinces, their sales regions, cities, districts and phone area codes.

Province weights follow the rough size of each provincial economy (Guangdong, Jiangsu,
Shandong and Zhejiang first), so regional dashboards show the skew real national sellers see.
Administrative codes are the first two digits of GB/T 2260, used to build plausible
统一社会信用代码. Regions are the seven 大区 Chinese sales teams are usually organised by.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REGIONS: tuple[str, ...] = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")


@dataclass(frozen=True)
class City:
    name: str
    """Official name with its 市 suffix, as an address or a 城市 column writes it."""
    short: str
    """The form that prefixes company names (深圳华贸科技有限公司)."""
    area_code: str
    districts: tuple[str, ...]
    local_digits: int
    """Length of local fixed-line numbers: 8 in the big cities, 7 in smaller ones."""


# Area codes whose local numbers have seven digits (checked against libphonenumber's CN metadata).
_SEVEN_DIGIT_AREAS = frozenset(
    {
        *("0312", "0315", "0316", "0351", "0352", "0459", "0471", "0472", "0535", "0536", "0553", "0592", "0710"),
        *("0717", "0752", "0756", "0771", "0772", "0773", "0797", "0816", "0874", "0891", "0917", "0931", "0951"),
        *("0971", "0991"),
    }
)


@dataclass(frozen=True)
class Province:
    short: str
    name: str
    region: str
    code: str
    weight: float
    cities: tuple[City, ...]

    @property
    def municipality(self) -> bool:
        return len(self.cities) == 1 and self.cities[0].name == self.name


def _c(name: str, area: str, *districts: str) -> City:
    return City(name, name.removesuffix("市"), area, districts, 7 if area in _SEVEN_DIGIT_AREAS else 8)


def _p(short: str, name: str, region: str, code: str, weight: float, *cities: City) -> Province:
    return Province(short, name, region, code, weight, cities)


PROVINCES: tuple[Province, ...] = (
    _p(
        "北京",
        "北京市",
        "华北",
        "11",
        3.5,
        _c("北京市", "010", "朝阳区", "海淀区", "东城区", "西城区", "丰台区", "大兴区"),
    ),
    _p("天津", "天津市", "华北", "12", 1.3, _c("天津市", "022", "和平区", "河西区", "南开区", "滨海新区")),
    _p(
        "河北",
        "河北省",
        "华北",
        "13",
        3.5,
        _c("石家庄市", "0311", "长安区", "桥西区", "裕华区"),
        _c("唐山市", "0315", "路北区", "路南区"),
        _c("保定市", "0312", "竞秀区", "莲池区"),
        _c("廊坊市", "0316", "广阳区", "安次区"),
    ),
    _p(
        "山西",
        "山西省",
        "华北",
        "14",
        2.0,
        _c("太原市", "0351", "小店区", "迎泽区", "杏花岭区"),
        _c("大同市", "0352", "平城区", "云冈区"),
    ),
    _p(
        "内蒙古",
        "内蒙古自治区",
        "华北",
        "15",
        1.8,
        _c("呼和浩特市", "0471", "新城区", "赛罕区"),
        _c("包头市", "0472", "昆都仑区", "青山区"),
    ),
    _p(
        "辽宁",
        "辽宁省",
        "东北",
        "21",
        2.5,
        _c("沈阳市", "024", "和平区", "沈河区", "浑南区"),
        _c("大连市", "0411", "中山区", "沙河口区", "甘井子区"),
    ),
    _p(
        "吉林",
        "吉林省",
        "东北",
        "22",
        1.1,
        _c("长春市", "0431", "朝阳区", "南关区", "宽城区"),
        _c("吉林市", "0432", "船营区", "昌邑区"),
    ),
    _p(
        "黑龙江",
        "黑龙江省",
        "东北",
        "23",
        1.3,
        _c("哈尔滨市", "0451", "南岗区", "道里区", "香坊区"),
        _c("大庆市", "0459", "萨尔图区", "让胡路区"),
    ),
    _p(
        "上海",
        "上海市",
        "华东",
        "31",
        4.0,
        _c("上海市", "021", "浦东新区", "徐汇区", "静安区", "闵行区", "黄浦区", "嘉定区"),
    ),
    _p(
        "江苏",
        "江苏省",
        "华东",
        "32",
        10.0,
        _c("南京市", "025", "玄武区", "鼓楼区", "江宁区"),
        _c("苏州市", "0512", "姑苏区", "虎丘区", "吴中区", "相城区"),
        _c("无锡市", "0510", "梁溪区", "滨湖区", "新吴区"),
        _c("常州市", "0519", "天宁区", "武进区"),
        _c("南通市", "0513", "崇川区", "通州区"),
        _c("徐州市", "0516", "云龙区", "鼓楼区"),
    ),
    _p(
        "浙江",
        "浙江省",
        "华东",
        "33",
        7.0,
        _c("杭州市", "0571", "西湖区", "上城区", "拱墅区", "滨江区", "余杭区"),
        _c("宁波市", "0574", "海曙区", "鄞州区", "北仑区"),
        _c("温州市", "0577", "鹿城区", "瓯海区"),
        _c("绍兴市", "0575", "越城区", "柯桥区"),
        _c("金华市", "0579", "婺城区", "金东区"),
    ),
    _p(
        "安徽",
        "安徽省",
        "华东",
        "34",
        3.5,
        _c("合肥市", "0551", "蜀山区", "包河区", "庐阳区"),
        _c("芜湖市", "0553", "镜湖区", "弋江区"),
    ),
    _p(
        "福建",
        "福建省",
        "华东",
        "35",
        4.5,
        _c("福州市", "0591", "鼓楼区", "台江区", "仓山区"),
        _c("厦门市", "0592", "思明区", "湖里区", "集美区"),
        _c("泉州市", "0595", "丰泽区", "鲤城区"),
    ),
    _p(
        "江西",
        "江西省",
        "华东",
        "36",
        2.5,
        _c("南昌市", "0791", "东湖区", "西湖区", "红谷滩区"),
        _c("赣州市", "0797", "章贡区", "南康区"),
    ),
    _p(
        "山东",
        "山东省",
        "华东",
        "37",
        7.0,
        _c("济南市", "0531", "历下区", "市中区", "槐荫区"),
        _c("青岛市", "0532", "市南区", "市北区", "崂山区", "黄岛区"),
        _c("烟台市", "0535", "芝罘区", "莱山区"),
        _c("潍坊市", "0536", "奎文区", "潍城区"),
    ),
    _p(
        "河南",
        "河南省",
        "华中",
        "41",
        5.0,
        _c("郑州市", "0371", "金水区", "二七区", "中原区", "管城回族区"),
        _c("洛阳市", "0379", "西工区", "洛龙区"),
    ),
    _p(
        "湖北",
        "湖北省",
        "华中",
        "42",
        4.5,
        _c("武汉市", "027", "江汉区", "武昌区", "洪山区", "江岸区"),
        _c("宜昌市", "0717", "西陵区", "伍家岗区"),
        _c("襄阳市", "0710", "襄城区", "樊城区"),
    ),
    _p(
        "湖南",
        "湖南省",
        "华中",
        "43",
        4.0,
        _c("长沙市", "0731", "岳麓区", "芙蓉区", "天心区", "雨花区"),
        _c("株洲市", "0731", "天元区", "芦淞区"),
    ),
    _p(
        "广东",
        "广东省",
        "华南",
        "44",
        11.0,
        _c("广州市", "020", "天河区", "越秀区", "海珠区", "白云区", "番禺区"),
        _c("深圳市", "0755", "南山区", "福田区", "罗湖区", "宝安区", "龙岗区"),
        _c("东莞市", "0769", "南城街道", "东城街道", "长安镇"),
        _c("佛山市", "0757", "禅城区", "南海区", "顺德区"),
        _c("珠海市", "0756", "香洲区", "金湾区"),
        _c("惠州市", "0752", "惠城区", "惠阳区"),
    ),
    _p(
        "广西",
        "广西壮族自治区",
        "华南",
        "45",
        2.2,
        _c("南宁市", "0771", "青秀区", "兴宁区", "西乡塘区"),
        _c("柳州市", "0772", "城中区", "鱼峰区"),
        _c("桂林市", "0773", "秀峰区", "七星区"),
    ),
    _p(
        "海南",
        "海南省",
        "华南",
        "46",
        0.6,
        _c("海口市", "0898", "龙华区", "美兰区"),
        _c("三亚市", "0898", "吉阳区", "天涯区"),
    ),
    _p("重庆", "重庆市", "西南", "50", 2.5, _c("重庆市", "023", "渝中区", "江北区", "南岸区", "渝北区", "九龙坡区")),
    _p(
        "四川",
        "四川省",
        "西南",
        "51",
        5.0,
        _c("成都市", "028", "锦江区", "武侯区", "成华区", "青羊区", "金牛区"),
        _c("绵阳市", "0816", "涪城区", "游仙区"),
    ),
    _p(
        "贵州",
        "贵州省",
        "西南",
        "52",
        1.7,
        _c("贵阳市", "0851", "南明区", "云岩区", "观山湖区"),
        _c("遵义市", "0851", "红花岗区", "汇川区"),
    ),
    _p(
        "云南",
        "云南省",
        "西南",
        "53",
        2.3,
        _c("昆明市", "0871", "五华区", "盘龙区", "官渡区"),
        _c("曲靖市", "0874", "麒麟区", "沾益区"),
    ),
    _p("西藏", "西藏自治区", "西南", "54", 0.2, _c("拉萨市", "0891", "城关区", "堆龙德庆区")),
    _p(
        "陕西",
        "陕西省",
        "西北",
        "61",
        2.5,
        _c("西安市", "029", "雁塔区", "碑林区", "未央区", "莲湖区"),
        _c("宝鸡市", "0917", "渭滨区", "金台区"),
    ),
    _p("甘肃", "甘肃省", "西北", "62", 0.9, _c("兰州市", "0931", "城关区", "七里河区", "安宁区")),
    _p("青海", "青海省", "西北", "63", 0.3, _c("西宁市", "0971", "城中区", "城西区")),
    _p("宁夏", "宁夏回族自治区", "西北", "64", 0.4, _c("银川市", "0951", "兴庆区", "金凤区")),
    _p("新疆", "新疆维吾尔自治区", "西北", "65", 1.5, _c("乌鲁木齐市", "0991", "天山区", "沙依巴克区", "新市区")),
)

STREETS: tuple[str, ...] = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "长江路",
    "黄河路",
    "科技路",
    "创业路",
    "世纪大道",
    "文化路",
    "青年路",
    "滨江路",
    "东风路",
    "迎宾大道",
    "花园路",
    "工业大道",
    "学府路",
    "友谊路",
)


@dataclass(frozen=True)
class Geography:
    """Flat arrays over every city, so customers can be placed with one vectorised draw."""

    province_of_city: np.ndarray
    city_weight: np.ndarray
    district_start: np.ndarray
    district_count: np.ndarray
    districts: tuple[str, ...]
    cities: tuple[City, ...]


def geography() -> Geography:
    province_of_city: list[int] = []
    weights: list[float] = []
    starts: list[int] = []
    counts: list[int] = []
    districts: list[str] = []
    cities: list[City] = []
    for p_idx, prov in enumerate(PROVINCES):
        # The first city of a province (its capital or biggest city) gets half the province's weight.
        shares = [0.5] + [0.5 / (len(prov.cities) - 1)] * (len(prov.cities) - 1) if len(prov.cities) > 1 else [1.0]
        for city, share in zip(prov.cities, shares, strict=True):
            province_of_city.append(p_idx)
            weights.append(prov.weight * share)
            starts.append(len(districts))
            counts.append(len(city.districts))
            districts.extend(city.districts)
            cities.append(city)
    w = np.asarray(weights)
    return Geography(
        province_of_city=np.asarray(province_of_city, dtype=np.int16),
        city_weight=w / w.sum(),
        district_start=np.asarray(starts, dtype=np.int32),
        district_count=np.asarray(counts, dtype=np.int32),
        districts=tuple(districts),
        cities=tuple(cities),
    )
