"""Made-up but realistic people for the demo: names, phones, ID numbers, household make-ups.

Everything is drawn from a `random.Random` the caller seeds, so the demo is the same every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Common surnames, the most frequent first (weights fall off roughly as in the census).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严武戴孔汤"
)
SURNAME_WEIGHTS = [max(1.0, 30.0 - index * 0.4) for index in range(len(SURNAMES))]

# Given names by generation: older residents, middle-aged, and the young.
GIVEN_NAMES = {
    ("M", "old"): ["建国", "建华", "国强", "志强", "卫东", "红军", "德明", "福生", "永庆", "文斌",
                   "立新", "振华", "长顺", "宝山", "守信", "树林", "玉成", "金贵", "洪涛", "庆祥"],
    ("F", "old"): ["秀英", "桂英", "秀兰", "玉兰", "桂兰", "凤英", "淑珍", "秀珍", "玉梅", "丽华",
                   "淑芬", "红梅", "玉珍", "凤兰", "春花", "素琴", "翠萍", "金凤", "爱华", "兰英"],
    ("M", "middle"): ["伟", "磊", "军", "勇", "杰", "涛", "鹏", "超", "强", "斌", "海涛", "晓东",
                      "建军", "志刚", "永刚", "宏伟", "立强", "文博", "俊峰", "国栋"],
    ("F", "middle"): ["静", "丽", "娜", "敏", "燕", "艳", "芳", "霞", "婷", "颖", "晓燕", "海燕",
                      "丽娟", "雪梅", "慧敏", "秀梅", "春燕", "晓红", "丽萍", "玉洁"],
    ("M", "young"): ["浩然", "子轩", "宇航", "俊杰", "博文", "思远", "一鸣", "天佑", "嘉豪",
                     "明轩", "浩宇", "梓睿", "皓轩", "子墨", "奕辰", "晨阳", "家乐", "铭泽",
                     "宇轩", "俊熙"],
    ("F", "young"): ["欣怡", "梓萱", "诗涵", "雨桐", "子涵", "可馨", "思琪", "佳怡", "梦瑶",
                     "语嫣", "一诺", "若曦", "紫涵", "芷若", "雨欣", "佳琪", "沐晴", "安然",
                     "书瑶", "婉清"],
}

# 青岛市黄岛区 (西海岸新区): the region code the ID numbers start with.
REGION_CODE = "370211"
CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


@dataclass
class Person:
    name: str
    gender: str
    birth_year: int
    phone: str = ""
    id_number: str = ""
    tags: list[str] = field(default_factory=list)
    is_household_head: bool = False


def generation(birth_year: int) -> str:
    if birth_year < 1966:
        return "old"
    return "middle" if birth_year < 1995 else "young"


def person_name(rng: random.Random, gender: str, birth_year: int,
                surname: str | None = None) -> str:
    surname = surname or rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    return surname + rng.choice(GIVEN_NAMES[(gender, generation(birth_year))])


def id_number(rng: random.Random, gender: str, birth_year: int) -> str:
    """An 18-digit number with a valid GB 11643 check character (fictional, never issued)."""
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    sequence = rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
    body = f"{REGION_CODE}{birth_year:04d}{month:02d}{day:02d}{sequence:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, CHECK_WEIGHTS, strict=True))
    return body + CHECK_CHARS[total % 11]


class PhoneBook:
    """Unique 139xxxxxxxx numbers; 1390000xxxx is left free for the fixed demo accounts."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def next(self) -> str:
        while True:
            phone = f"139{self._rng.randrange(10_000_000, 100_000_000):08d}"
            if phone not in self._used:
                self._used.add(phone)
                return phone


# Household make-ups: (weight, [(gender or None, first birth year, last birth year), ...]).
# None picks a gender at random. Averages about 2.7 people a household.
MAKE_UPS: list[tuple[int, str, list[tuple[str | None, int, int]]]] = [
    (6, "elder_alone", [(None, 1938, 1956)]),
    (12, "empty_nest", [("M", 1940, 1958), ("F", 1942, 1960)]),
    (16, "young_couple", [("M", 1985, 1998), ("F", 1987, 1999)]),
    (35, "three", [("M", 1972, 1990), ("F", 1974, 1992), (None, 2004, 2020)]),
    (15, "four", [("M", 1975, 1990), ("F", 1977, 1992), (None, 2002, 2012), (None, 2012, 2021)]),
    (6, "three_generations", [("M", 1950, 1960), ("F", 1952, 1962), ("M", 1978, 1990),
                              ("F", 1980, 1992), (None, 2010, 2022)]),
    (10, "single", [(None, 1980, 2001)]),
]


def household_people(rng: random.Random, phones: PhoneBook, *, make_up: str | None = None,
                     this_year: int = 2025) -> list[Person]:
    """The people of one household. Spouses and children share the head's surname."""
    if make_up is None:
        weights = [weight for weight, _, _ in MAKE_UPS]
        _, make_up, slots = rng.choices(MAKE_UPS, weights=weights)[0]
    else:
        slots = next(slots for _, kind, slots in MAKE_UPS if kind == make_up)
    surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    people = []
    for index, (gender, first_year, last_year) in enumerate(slots):
        gender = gender or rng.choice("MF")
        birth_year = rng.randint(first_year, last_year)
        # A wife usually keeps her own surname.
        own_surname = None if (gender == "F" and index > 0 and birth_year < 2000) else surname
        person = Person(name=person_name(rng, gender, birth_year, own_surname), gender=gender,
                        birth_year=birth_year, is_household_head=index == 0)
        if this_year - birth_year >= 16:
            person.phone = phones.next()
            if rng.random() < 0.55:
                person.id_number = id_number(rng, gender, birth_year)
        if make_up in ("elder_alone", "empty_nest"):
            person.tags.append(make_up)
        if rng.random() < 0.015:
            person.tags.append("disabled")
        elif this_year - birth_year > 60 and rng.random() < 0.02:
            person.tags.append("low_income")
        if person.gender == "M" and 1950 < birth_year < 1995 and rng.random() < 0.04:
            person.tags.append("veteran")
        people.append(person)
    return people


OCCUPATIONS = [
    ("教师", "长江路小学"), ("医生", "西海岸新区中心医院"), ("护士", "西海岸新区中心医院"),
    ("工程师", "瑞丰电子科技有限公司"), ("公务员", "长江路街道办事处"),
    ("会计", "青岛港湾物流公司"), ("律师", "海岸律师事务所"), ("银行职员", "农商银行长江路支行"),
    ("软件工程师", "瑞丰电子科技有限公司"),
    ("企业管理人员", "海川造船有限公司"), ("民警", "长江路派出所"), ("电工", "供电公司黄岛分公司"),
    ("销售经理", "万家汇购物中心"), ("社会工作者", "和邻一起社会工作服务中心"),
    ("大学教师", "青岛理工大学"), ("消防员", "长江路消防救援站"), ("药剂师", "众康大药房"),
    ("建筑设计师", "城建设计院"),
]
RETIRED_FORMER = ["退休教师", "退休干部", "退休工人", "退休医生", "退休会计", "退役军人",
                  "退休工程师"]
SKILLS = ["政策宣传", "矛盾调解", "电路维修", "义诊咨询", "法律咨询", "书法", "摄影", "心理疏导",
          "家电维修", "理发", "电脑维护", "急救培训", "垃圾分类指导", "财务审核", "文艺编排"]
INTERESTS = ["书法", "国画", "摄影", "广场舞", "太极拳", "乒乓球", "阅读", "园艺", "合唱", "象棋",
             "跑步", "烹饪"]
DUTIES = [
    "负责本楼栋政策宣传，每月入户走访联系户",
    "负责本楼栋矛盾纠纷排查与调解",
    "负责本楼栋环境整治巡查，督促楼道堆物清理",
    "负责联系本楼独居、空巢老人，定期探望",
    "负责本楼栋安全隐患排查（消防通道、电动车充电）",
    "负责收集本楼居民诉求，报送网格员",
]
PLEDGES = [
    "每月至少参加2次志愿服务",
    "认领并完成居民“微心愿”",
    "每周巡查一次楼道消防通道",
    "为邻里提供帮办代办服务",
    "参加每月15日小区议事会",
    "带头做好垃圾分类",
]
