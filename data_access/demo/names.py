"""Fictional names for the demo data: places, people, units.

All place names are composed from common morphemes of south-western Chinese
place names (岩, 坪, 寨, 坝...), so they read naturally but name no real place
on purpose. Person names are random surname + given-name combinations.
"""

from __future__ import annotations

import random

PROVINCE_NAME = "黔山省"
CITY_NAME = "青岚市"
COUNTY_NAME = "云岭县"

# Other fictional cities and counties for the province scale.
CITY_NAMES = ("青岚市", "翠屏市", "云雾市", "松岩市", "碧峰市", "岚川市", "苍岭市", "明溪市", "赤水湾市", "白云岗市")

PLACE_HEAD = (
    "岩", "石", "高", "大", "小", "新", "老", "龙", "凤", "青", "云", "花", "松", "茶", "竹", "马", "牛", "羊",
    "水", "河", "沙", "平", "田", "山", "草", "桃", "李", "杨", "黄", "白", "红", "金", "银", "铜", "木", "安",
    "乐", "和", "兴", "中", "上", "下", "东", "西", "南", "北", "团", "双", "三", "五", "半", "鸡", "鹰", "猫",
    "狮", "梨", "柏", "枫", "槐", "樱", "杉", "兰", "翠", "碧", "清", "丰", "富", "联", "长", "永", "太", "文",
)
PLACE_TAIL = (
    "脚", "坪", "寨", "坝", "田", "沟", "湾", "山", "坡", "岭", "林", "冲", "塘", "井", "桥", "溪", "河", "关",
    "场", "堡", "屯", "庄", "园", "坎", "岩", "洞", "口", "头", "边", "垭", "箐", "营", "哨", "坳", "岗", "峰",
)
COUNTY_TAIL = ("岭", "溪", "山", "江", "屏", "峰", "川", "阳", "安", "源", "台", "宁")

SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "罗", "龙", "石", "潘", "韦", "徐", "孙", "胡",
    "朱", "高", "林", "何", "郭", "马", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎",
    "余", "杜", "戴", "夏", "钟", "汪", "田", "任", "姜", "范", "方", "肖", "姚", "廖", "邹", "熊", "金", "陆",
    "郝", "孔", "白", "崔", "康", "毛", "邱", "秦", "江", "史", "顾", "侯", "邵", "孟", "万", "段", "雷", "钱",
    "汤", "尹", "黎", "易", "常", "武", "乔", "贺", "赖", "龚", "文", "蒙", "岑", "班", "卯", "陶", "谭", "冉",
)
MALE_CHARS = (
    "国", "建", "明", "军", "华", "平", "文", "强", "伟", "勇", "德", "志", "永", "成", "林", "海", "兵", "荣",
    "忠", "光", "金", "才", "富", "贵", "学", "江", "祥", "洪", "友", "发", "朝", "正", "昌", "福", "刚", "云",
    "天", "顺", "飞", "辉", "俊", "杰", "涛", "磊", "鹏", "浩", "宇", "子", "航", "睿", "泽", "晨", "阳", "毅",
)
FEMALE_CHARS = (
    "秀", "英", "华", "兰", "芳", "玉", "珍", "梅", "琴", "红", "云", "霞", "丽", "敏", "燕", "萍", "艳", "春",
    "翠", "仙", "桂", "凤", "娟", "莲", "菊", "群", "慧", "婷", "静", "雪", "欣", "怡", "雨", "诗", "佳", "梓",
    "涵", "悦", "彤", "妍", "琳", "蓉", "丹", "洁", "芬", "淑", "美", "小",
)

ETHNICITIES = ("汉族", "苗族", "布依族", "彝族", "侗族", "仡佬族", "土家族", "水族")
ETHNICITY_WEIGHTS = (55, 14, 12, 6, 4, 4, 3, 2)

# 帮扶单位 name stems by level (the county/city prefix is added by the caller where needed).
COUNTY_UNITS = (
    "农业农村局", "财政局", "教育局", "卫生健康局", "人力资源和社会保障局", "住房和城乡建设局", "交通运输局",
    "水务局", "民政局", "自然资源局", "林业局", "乡村振兴局", "发展和改革局", "公安局", "人民法院", "人民检察院",
    "委组织部", "委宣传部", "委统战部", "人大常委会办公室", "政协办公室", "市场监督管理局", "生态环境局", "统计局",
    "审计局", "医疗保障局", "税务局", "供电局", "农村商业银行", "文体广电旅游局", "应急管理局", "工业和信息化局",
    "商务局", "司法局",
)
CITY_UNITS = (
    "发展和改革委员会", "教育局", "财政局", "农业农村局", "卫生健康委员会", "交通运输局", "住房和城乡建设局",
    "人力资源和社会保障局", "生态环境局", "水务管理局", "市场监督管理局", "乡村振兴局",
)
PROVINCE_UNITS = (
    "交通运输厅", "卫生健康委员会", "农业农村厅", "教育厅", "财政厅", "水利厅", "林业局", "人力资源和社会保障厅",
    "自然资源厅", "乡村振兴局",
)
CENTRAL_UNITS = ("华岚能源集团有限公司", "中国青山建设集团有限公司")


def _ch(rng: random.Random, seq):
    return seq[int(rng.random() * len(seq))]


def person_name(rng: random.Random, sex: str, surname: str | None = None) -> str:
    chars = MALE_CHARS if sex == "男" else FEMALE_CHARS
    given = _ch(rng, chars) if rng.random() < 0.25 else _ch(rng, chars) + _ch(rng, chars)
    return (surname or _ch(rng, SURNAMES)) + given


def place_stem(rng: random.Random, used: set[str]) -> str:
    """A two-character place stem not in ``used`` (added to it)."""
    for _ in range(10000):
        stem = rng.choice(PLACE_HEAD) + rng.choice(PLACE_TAIL)
        if stem not in used and stem[0] != stem[1]:
            used.add(stem)
            return stem
    raise RuntimeError("名称用尽")


def county_names(rng: random.Random, count: int, reserved: tuple[str, ...] = (COUNTY_NAME,)) -> list[str]:
    used = {name[:-1] for name in reserved}
    out = []
    while len(out) < count:
        stem = rng.choice(PLACE_HEAD) + rng.choice(COUNTY_TAIL)
        if stem not in used and stem[0] != stem[1]:
            used.add(stem)
            out.append(stem + "县")
    return out


def phone(rng: random.Random) -> str:
    return "1" + _ch(rng, MOBILE_PREFIXES) + f"{int(rng.random() * 100_000_000):08d}"


MOBILE_PREFIXES = ("35", "36", "37", "38", "39", "50", "51", "52", "58", "59", "82", "87", "88",
                   "30", "31", "32", "55", "56", "85", "86", "33", "53", "80", "89", "99")
