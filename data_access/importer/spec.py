"""What an import file may contain: sheet kinds, their columns (headers and synonyms), and header detection.

One ``SheetKind`` per kind of sheet (区划, 年度减贫任务, 人员, 收入...). Each
column is a ``Field``: its canonical header (the template's), the synonyms
seen in exports (the 2022 national export and the 2014 form), how its cells
are read, and whether it is required. Headers are compared after NFKC
(full-width → half-width), with spaces, line breaks and required-markers
removed; a trailing unit in brackets (``金额(万元)``) is split off.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from .. import codes

MAX_HEADER_SCAN = 30


@dataclass(frozen=True)
class Field:
    key: str
    header: str
    synonyms: tuple[str, ...] = ()
    kind: str = "text"  # text id idnum region phone int float money date year bool code codes raw
    allowed: tuple[str, ...] = ()
    what: str = ""  # name of the code list, for messages
    required: bool = False
    lo: int | float | None = None
    hi: int | float | None = None
    max_len: int | None = None
    note: str = ""  # for the template and docs
    example: str = ""


@dataclass(frozen=True)
class SheetKind:
    key: str
    title: str  # the template's sheet name
    fields: tuple[Field, ...]
    signature: tuple[tuple[str, ...], ...]  # every group needs one matched field
    hints: tuple[str, ...] = ()  # words in a sheet name that suggest this kind
    description: str = ""
    lookup: dict = field(default_factory=dict, compare=False, repr=False)

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


def norm_header(raw) -> str:
    text = unicodedata.normalize("NFKC", str(raw or ""))
    text = re.sub(r"[\s*※★▲]+", "", text)
    return text.strip(":")


def split_unit(header: str) -> tuple[str, str | None]:
    """'金额(万元)' -> ('金额', '万元'); '金额/万元' -> ('金额', '万元'); others unchanged."""
    m = re.match(r"^(.*?)(?:\((?:单位[::]?)?([^()]*)\)|/(万元|元))$", header)
    if m and m.group(1):
        return m.group(1), m.group(2) or m.group(3)
    return header, None


YEAR = dict(kind="year", example="2016")
DATE = dict(kind="date", example="2019-03-01")
BOOL = dict(kind="bool", example="是")
MONEY = dict(kind="money", lo=0, example="12.5")

PLACE_FIELDS = (
    Field("region_code", "区划代码", ("行政区划代码", "村区划代码", "统计用区划代码", "村级区划代码", "行政村代码",
                                   "区划编码", "行政区划编码", "实施地点区划代码", "项目地点区划代码",
                                   "建设地点区划代码", "实施地点代码", "项目地点代码", "实施地区划代码",
                                   "项目所在地区划代码", "实施村区划代码"), kind="region",
          note="12 位统计用区划代码(15 位代码取前 12 位);与下面的名称二选一", example="523199101201"),
    Field("county_name", "县(市、区、旗)", ("县", "县(区)", "县(市、区)", "县(市、区、旗)名称", "县名称", "县区",
                                         "所属县", "县(市区)"), max_len=64, note="按名称定位地点时使用"),
    Field("town_name", "乡(镇)", ("乡镇", "乡(镇、街道)", "乡镇(街道)", "乡(镇)名称", "乡镇名称", "所属乡镇",
                                "乡(镇、办事处)", "实施乡镇", "项目乡镇"), max_len=64, note="按名称定位地点时使用",
          example="青石镇"),
    Field("village_name", "行政村", ("村", "行政村(社区)", "村(社区)", "村名称", "行政村名称", "所属村",
                                  "行政村(居委会)", "实施村", "项目村"), max_len=64, note="按名称定位地点时使用",
          example="白岩村"),
)

PLACES = SheetKind(
    "places", "区划",
    (
        Field("code", "区划代码", ("行政区划代码", "统计用区划代码", "代码", "区划编码"), kind="region", required=True,
              note="12 位统计用区划代码(15 位代码取前 12 位)", example="523199101201"),
        Field("name", "名称", ("区划名称", "地名", "单位名称", "行政区划名称"), required=True, max_len=64,
              example="白岩村"),
        Field("level", "级别", ("区划级别", "层级", "行政级别"), kind="raw",
              note="省/市/县/乡镇/行政村;不填时按代码判断", example="行政村"),
        Field("parent_code", "上级区划代码", ("上级代码", "所属区划代码", "上级区划", "上级编码"), kind="region",
              note="不填时按代码推算", example="523199101000"),
        Field("rural_population", "农村户籍人口", ("户籍人口", "农村人口", "农业户籍人口", "农村户籍人口数"),
              kind="int", lo=0, hi=2_000_000, note="单位:人;贫困发生率的分母", example="1850"),
        Field("is_poor_village", "是否贫困村", ("贫困村", "是否建档立卡贫困村"), **BOOL),
        Field("exit_year", "出列年度", ("出列年份", "贫困村出列年度", "出列时间", "贫困村出列时间"), **YEAR),
        Field("lon", "经度", (), kind="float", lo=-180, hi=180, example="106.71"),
        Field("lat", "纬度", (), kind="float", lo=-90, hi=90, example="26.58"),
    ),
    signature=(("code",), ("name",), ("level", "parent_code", "rural_population", "is_poor_village")),
    hints=("区划", "地点", "行政村", "村庄"),
    description="县、乡镇、行政村:代码、名称、上级、农村户籍人口、是否贫困村与出列年度。",
)

POPULATION = SheetKind(
    "population", "农村户籍人口",
    (
        *PLACE_FIELDS,
        Field("year", "年度", ("年份", "统计年度", "人口年度"), required=True, **YEAR),
        Field("rural_population", "农村户籍人口", ("户籍人口", "农村人口", "农业户籍人口", "农村户籍人口数"),
              kind="int", lo=0, hi=2_000_000, required=True, note="单位:人;该年度贫困发生率的分母",
              example="1850"),
    ),
    signature=(("year",), ("rural_population",), ("region_code", "village_name")),
    hints=("户籍人口", "农村人口", "人口"),
    description="行政村每年的农村户籍人口(贫困发生率的分母):某年没有数字时,用此前最近一年的数字,"
                "此前也没有时用区划表中不分年度的数字。",
)

TARGETS = SheetKind(
    "targets", "年度减贫任务",
    (
        *PLACE_FIELDS[:3],
        Field("year", "年度", ("年份", "任务年度"), required=True, **YEAR),
        Field("households", "减贫户数", ("脱贫户数", "减贫任务户数", "脱贫任务户数", "任务户数", "计划减贫户数",
                                     "减贫任务(户)"), kind="int", lo=0, hi=1_000_000, note="单位:户"),
        Field("persons", "减贫人数", ("脱贫人数", "减贫任务人数", "脱贫任务人数", "任务人数", "计划减贫人数",
                                    "减贫任务(人)"), kind="int", lo=0, hi=5_000_000, note="单位:人"),
        Field("villages", "出列贫困村数", ("贫困村出列数", "出列村数", "贫困村出列任务", "出列任务", "计划出列村数"),
              kind="int", lo=0, hi=10_000, note="单位:个"),
    ),
    signature=(("year",), ("households", "persons", "villages"), ("region_code", "town_name", "county_name")),
    hints=("任务", "目标", "计划"),
    description="县或乡镇每年的减贫任务(户、人、出列村)。",
)

LINES = SheetKind(
    "lines", "贫困线与监测线",
    (
        Field("year", "年度", ("年份",), required=True, **YEAR),
        Field("line_kind", "类别", ("标准类别", "线别", "类型", "标准类型"), kind="code", allowed=codes.LINE_KINDS,
              what="标准类别", required=True, example="贫困线"),
        Field("province", "省份", ("省", "适用省份", "适用范围"), max_len=12, note="不填为全国标准"),
        Field("amount", "金额(元)", ("标准", "年人均收入标准", "金额", "标准(元)"), kind="money", required=True,
              lo=0, example="4000", note="元/人·年"),
        Field("source", "来源", ("依据", "文件依据", "出处"), example="国家统计局"),
        Field("verified", "是否核实", ("已核实", "是否已核实"), **BOOL),
    ),
    signature=(("year",), ("line_kind",), ("amount",)),
    hints=("贫困线", "监测线", "标准"),
    description="每年的贫困线(国家或省定)与防返贫监测线,元/人·年。",
)

RISK_SYNONYMS = ("风险类型", "主要风险类型", "致贫返贫风险", "返贫致贫风险", "监测风险", "主要返贫致贫风险",
                 "致贫风险1", "返贫风险1", "致贫返贫风险1", "返贫致贫风险1", "风险类型1", "主要风险1", "风险1",
                 "致贫风险", "返贫风险")
# 2021– monitoring exports list up to five risks; the first is the main one, the others are checked only.
MORE_RISKS = tuple(f"{w}{i}" for i in range(2, 6) for w in ("致贫风险", "返贫风险", "致贫返贫风险", "返贫致贫风险",
                                                            "风险类型", "主要风险", "风险"))

HOUSEHOLD_FIELDS = (
    Field("hh_id", "户编号", ("户码", "家庭编号", "户ID", "户主编号", "户代码"), kind="id", required=True, max_len=32,
          example="5231991012010001"),
    Field("natural_village", "自然村", ("村民小组", "自然村(组)", "组", "自然村(村民小组)", "村民组"), max_len=64),
    Field("head_name", "户主姓名", ("户主",), max_len=64, note="不填时取“与户主关系”为户主的那一行的姓名"),
    Field("member_count", "人数", ("家庭人口数", "户人数", "家庭人口", "家庭人数", "户人口数", "家庭成员数"),
          kind="int", lo=1, hi=40, note="单位:人;须等于该户的人员行数", example="4"),
    Field("hh_type", "户类型", ("户类别", "农户类型", "贫困户类型"), kind="raw",
          note="脱贫户/贫困户/监测户/一般农户,或 脱贫享受政策/脱贫不享受政策", example="脱贫户"),
    Field("attribute", "贫困户属性", ("户属性", "贫困属性", "贫困户类别"), kind="code",
          allowed=codes.HOUSEHOLD_ATTRIBUTES, what="贫困户属性", example="一般贫困户"),
    Field("standard", "识别标准", ("贫困户识别标准",), kind="code", allowed=codes.IDENTIFICATION_STANDARDS,
          what="识别标准", example="国家标准"),
    Field("main_cause", "主要致贫原因", ("致贫原因", "致贫原因1", "主要致贫原因1"), kind="code", allowed=codes.CAUSES,
          what="致贫原因", example="因病"),
    Field("other_causes", "其他致贫原因", ("次要致贫原因", "其它致贫原因", "致贫原因2", "致贫原因3"), kind="codes",
          allowed=codes.CAUSES, what="致贫原因", note="可填多个,用顿号分隔", example="缺技术、缺资金"),
    Field("identified_year", "识别年度", ("首次识别时间", "识别时间", "识别年份", "贫困户识别时间", "建档立卡年度",
                                        "首次识别年度"), note="年份或日期", **YEAR),
    Field("exit_year", "脱贫年度", ("脱贫时间", "脱贫年份", "标注脱贫年度", "标注脱贫时间", "实际脱贫年度"),
          note="未脱贫留空", **YEAR),
    Field("returned_year", "返贫年度", ("返贫时间", "返贫年份"), kind="year"),
    Field("status", "脱贫状态", ("贫困户状态", "户状态", "是否脱贫"), kind="raw", note="未脱贫/已脱贫/返贫",
          example="已脱贫"),
    Field("policy_status", "享受政策情况", ("是否享受政策", "脱贫户享受政策情况", "是否享受帮扶政策"), kind="raw",
          note="脱贫享受政策/脱贫不享受政策(或 是/否)"),
    Field("relocated", "易地扶贫搬迁", ("是否易地扶贫搬迁", "易地扶贫搬迁户", "是否易地扶贫搬迁户", "易地搬迁",
                                     "是否易地搬迁", "是否搬迁户"), **BOOL),
    Field("relocation_year", "搬迁年度", ("易地扶贫搬迁年度", "搬迁时间", "搬迁年份", "搬迁入住时间"), kind="year"),
    Field("relocation_site", "安置点", ("安置地点", "集中安置点", "安置点名称", "搬迁安置点"), max_len=64),
    Field("house_grade", "危房等级", ("房屋等级", "住房等级", "危房级别", "住房安全等级"), kind="code",
          allowed=codes.HOUSE_GRADES, what="危房等级", note="安全/A/B/C/D", example="安全"),
    Field("dangerous_house", "危房户", ("是否危房户", "是否危房"), kind="raw",
          note="是/否;为“是”且未填危房等级时按 C 级记录并提示"),
    Field("safe_water", "是否解决安全饮用水", ("饮水安全", "饮水是否安全", "安全饮水", "是否饮水安全",
                                             "解决安全饮用水", "饮水安全有保障", "是否安全饮水", "是否饮水安全有保障",
                                             "饮水安全是否有保障", "安全饮水是否达标", "是否实现安全饮水",
                                             "饮水安全保障", "是否解决饮水安全"), **BOOL),
    Field("food_clothing_ok", "不愁吃不愁穿", ("吃穿不愁", "是否不愁吃不愁穿", "不愁吃穿", "是否吃穿不愁",
                                           "不愁吃、不愁穿", "是否实现不愁吃不愁穿", "吃穿两不愁"), **BOOL),
    Field("hh_phone", "户联系电话", ("家庭联系电话", "户主联系电话", "户电话"), kind="phone"),
    Field("income_per_capita", "人均纯收入", ("年人均纯收入", "家庭年人均纯收入"), kind="raw",
          note="只读不存:收入请用“收入”表(含年度与各项收入)"),
    Field("mon_kind", "易返贫致贫户(监测对象)类型", ("监测对象类型", "监测对象类别", "易返贫致贫户类型", "监测类型"),
          kind="raw", note="脱贫不稳定户/边缘易致贫户/突发严重困难户;非监测对象留空"),
    Field("mon_risk", "主要风险", RISK_SYNONYMS, kind="code", allowed=codes.MONITORING_RISKS, what="监测风险"),
    Field("mon_identified", "风险识别时间", ("监测对象识别时间", "纳入监测时间", "识别为监测对象时间"), **DATE),
    Field("mon_removed", "风险是否消除", ("是否风险消除", "是否消除风险", "风险消除"), **BOOL),
    Field("mon_removed_date", "风险消除时间", ("风险消除日期", "消除时间"), kind="date"),
)

PERSON_FIELDS = (
    Field("person_id", "人编号", ("人员编号", "成员编号", "个人编号", "人码"), kind="id", max_len=32,
          note="不填时以证件号码为人员编号", example="523199101201000101"),
    Field("name", "姓名", ("成员姓名", "人员姓名"), required=True, max_len=64, example="张三"),
    Field("id_type", "证件类型", (), kind="raw", note="不填视为居民身份证"),
    Field("id_number", "证件号码", ("身份证号", "身份证号码", "公民身份号码", "身份证件号码", "证件号", "身份证"),
          kind="idnum", note="18 位,须为文本格式", example="52319919800101001X"),
    Field("relation", "与户主关系", ("与户主的关系", "家庭关系", "户主关系"), kind="raw", example="户主"),
    Field("sex", "性别", (), kind="code", allowed=codes.SEXES, what="性别", note="不填时按证件号码"),
    Field("ethnicity", "民族", (), max_len=16, example="汉族"),
    Field("birth_date", "出生日期", ("出生年月日", "出生年月"), kind="date", note="不填时按证件号码"),
    Field("education", "文化程度", ("学历",), kind="code", allowed=codes.EDUCATION, what="文化程度"),
    Field("schooling", "在校生状况", ("在校生情况", "在校状况", "在校情况", "在校生状态"), kind="code",
          allowed=codes.SCHOOLING, what="在校生状况"),
    Field("health", "健康状况", (), kind="code", allowed=codes.HEALTH, what="健康状况"),
    Field("labour_skill", "劳动技能", ("劳动能力", "劳动力状况", "劳动技能状况"), kind="code",
          allowed=codes.LABOUR_SKILLS, what="劳动技能"),
    Field("work_status", "务工状况", ("务工情况", "外出务工状况", "务工地点"), kind="code", allowed=codes.WORK_STATUS,
          what="务工状况"),
    Field("work_months", "务工时间(月)", ("务工时间", "务工月数", "外出务工时间", "务工时长"), kind="int", lo=0, hi=12),
    Field("medical_insurance", "是否参加城乡居民基本医疗保险",
          ("参加城乡居民基本医疗保险", "是否参加基本医疗保险", "参加基本医疗保险", "城乡居民基本医疗保险",
           "是否参加新型农村合作医疗", "是否参加新农合", "参加新农合", "基本医疗保险"), **BOOL),
    Field("serious_illness_insurance", "是否参加大病保险", ("参加大病保险", "大病保险", "是否参加城乡居民大病保险"),
          **BOOL),
    Field("phone", "人联系电话", ("联系电话", "个人联系电话", "本人联系电话", "手机号码"), kind="phone"),
    Field("person_identified", "人员识别时间", ("成员识别时间",), kind="raw", note="只读不存"),
    Field("join_date", "入户日期", ("增员日期", "增员时间", "入户时间", "加入日期", "加入时间", "迁入日期", "迁入时间",
                                "成员增加日期", "成员增加时间", "家庭成员增加时间"), **DATE,
          note="出生、婚入、迁入等成为家庭成员的日期;不填视为识别时即为成员"),
    Field("leave_date", "减员日期", ("减员时间", "离户日期", "离户时间", "注销日期", "注销时间", "迁出日期",
                                 "迁出时间", "成员减少日期", "成员减少时间", "家庭成员减少时间", "死亡日期"), **DATE,
          note="死亡、迁出、婚嫁等不再是家庭成员的日期;不填视为仍是成员"),
    Field("leave_reason", "减员原因", ("减少原因", "离户原因", "注销原因", "成员减少原因", "减员类型"), kind="code",
          allowed=codes.LEAVE_REASONS, what="减员原因", example="死亡"),
)

PERSONS = SheetKind(
    "persons", "人员",
    (*PLACE_FIELDS, *HOUSEHOLD_FIELDS, *PERSON_FIELDS),
    signature=(("hh_id",), ("name",), ("id_number", "person_id", "relation")),
    hints=("人员", "人口", "名单", "花名册", "成员", "户"),
    description="一行一人,户的信息在该户每一行重复(国家系统导出的人员名单);地点用区划代码或 乡(镇)+行政村 名称。",
)

INCOMES = SheetKind(
    "incomes", "收入",
    (
        Field("hh_id", "户编号", HOUSEHOLD_FIELDS[0].synonyms, kind="id", required=True, max_len=32),
        Field("year", "年度", ("收入年度", "年份"), required=True, **YEAR),
        Field("members", "家庭人口数", ("人数", "家庭人口", "户人数", "家庭人数"), kind="int", lo=1, hi=40,
              note="不填时取该户人数"),
        Field("wage", "工资性收入", ("务工收入", "工资收入"), **MONEY),
        Field("business_income", "生产经营性收入", ("生产经营收入", "经营性收入"), **MONEY),
        Field("business_cost", "生产经营性支出", ("生产经营支出", "经营性支出"), **MONEY),
        Field("property_income", "财产性收入", ("财产收入",), **MONEY),
        Field("transfer_income", "转移性收入", ("转移性收入(计入)", "转移收入"), **MONEY),
        Field("transfer_excluded", "不计入的转移性收入", ("不计入纯收入的转移性收入", "转移性收入(不计入)",
                                                     "不计入收入的转移性收入"), **MONEY),
        Field("per_capita_net", "年人均纯收入", ("人均纯收入", "家庭年人均纯收入"), kind="money", lo=-10**9,
              note="可不填;填写时须与各项收入计算值相符(相差不超过 1 元)"),
    ),
    signature=(("hh_id",), ("year",), ("wage", "business_income", "property_income", "transfer_income")),
    hints=("收入",),
    description="每户每年的收入,单位按表头(元或万元)。"
                "年人均纯收入 = (工资性 + 生产经营性 − 生产经营性支出 + 财产性 + 转移性) ÷ 家庭人口数。",
)

MONITORING = SheetKind(
    "monitoring", "监测对象",
    (
        Field("hh_id", "户编号", HOUSEHOLD_FIELDS[0].synonyms, kind="id", required=True, max_len=32),
        Field("mon_kind", "监测对象类型",
              ("易返贫致贫户(监测对象)类型", "监测对象类别", "易返贫致贫户类型", "监测类型", "监测对象类型(类别)",
               "监测户类型", "监测户类别"),
              kind="code", allowed=codes.MONITORING_KINDS, what="监测对象类型", required=True, example="边缘易致贫户"),
        Field("mon_risk", "主要风险", RISK_SYNONYMS, kind="code", allowed=codes.MONITORING_RISKS,
              what="监测风险", required=True, example="因病"),
        Field("mon_identified", "识别时间",
              ("风险识别时间", "纳入监测时间", "识别日期", "监测对象识别时间", "纳入时间", "识别监测时间",
               "纳入监测日期", "监测识别时间", "确定为监测对象时间", "识别为监测对象时间"),
              required=True, **DATE),
        Field("head_name", "户主姓名", ("户主",), kind="raw", note="只读不存(户主以人员表为准)"),
        Field("mon_more_risks", "其他风险", MORE_RISKS, kind="codes", allowed=codes.MONITORING_RISKS,
              what="监测风险", note="致贫/返贫风险2…5:核对代码,不单独保存(主要风险为风险1)"),
        Field("mon_removed", "风险是否消除", ("是否风险消除", "是否消除风险", "风险消除", "风险是否已消除",
                                          "是否已消除风险", "是否风险已消除"), **BOOL),
        Field("mon_removed_how", "风险消除方式", ("消除方式", "风险消除类型", "风险消除情况"), max_len=32,
              note="填了方式(如 帮扶消除、自然消除)即视为风险已消除;方式本身不单独保存"),
        Field("mon_removed_date", "风险消除时间", ("风险消除日期", "消除时间", "标注风险消除时间", "风险消除年月"),
              kind="date"),
        Field("persons", "监测人数", ("人数", "家庭人口数", "监测对象人数", "户人数", "监测人口数", "户人口数"),
              kind="int", lo=1, hi=40, note="不填时取该户人数"),
        Field("mon_measures", "帮扶措施", ("已落实帮扶措施", "落实帮扶措施", "帮扶措施类型", "针对性帮扶措施"),
              kind="codes", allowed=codes.HELP_MEASURES, what="帮扶措施",
              note="可填多个,用顿号分隔;记为该户导出年度(无导出时间时为识别年度)的帮扶措施"),
        Field("mon_found", "风险发现时间", ("发现时间", "风险发现日期", "首次发现时间", "风险首次发现时间",
                                        "发现风险时间", "预警时间", "风险预警时间"),
              kind="date", example="2024-03-01", note="不晚于识别时间;用于识别时限(发现到识别的天数)"),
        Field("mon_channel", "发现方式", ("风险发现方式", "发现渠道", "风险发现渠道", "识别渠道", "识别方式"),
              kind="code", allowed=codes.CHANNELS, what="风险发现方式", example="干部排查"),
    ),
    signature=(("hh_id",), ("mon_kind",), ("mon_identified",)),
    hints=("监测",),
    description="防返贫监测对象:户编号、类型、主要风险、识别时间、风险消除(2021 年起的监测系统导出:"
                "致贫/返贫风险1…5、监测对象类别、风险消除方式、帮扶措施)。",
)

HELPERS = SheetKind(
    "helpers", "结对帮扶",
    (
        Field("helper_id", "帮扶责任人编号", ("帮扶人编号", "责任人编号", "帮扶干部编号"), kind="id", max_len=32,
              note="不填时按 姓名+单位+电话 生成"),
        Field("helper_name", "帮扶责任人", ("帮扶责任人姓名", "帮扶人姓名", "帮扶人", "帮扶干部", "帮扶干部姓名"),
              required=True, max_len=64),
        Field("helper_phone", "帮扶责任人联系电话", ("帮扶人联系电话", "帮扶人电话", "联系电话", "帮扶责任人电话"),
              kind="phone"),
        Field("unit_id", "帮扶单位编号", ("单位编号",), kind="id", max_len=32, note="不填时按单位名称生成"),
        Field("unit_name", "帮扶单位", ("帮扶单位名称", "工作单位", "单位名称", "所在单位"), required=True, max_len=64),
        Field("unit_level", "单位级别", ("帮扶单位级别", "单位层级"), kind="code", allowed=codes.HELP_UNIT_LEVELS,
              what="单位级别", example="县级"),
        Field("hh_id", "户编号", HOUSEHOLD_FIELDS[0].synonyms, kind="id", required=True, max_len=32),
        Field("start_date", "结对日期", ("帮扶开始日期", "开始日期", "结对时间", "帮扶开始时间"), required=True,
              **DATE),
        Field("end_date", "结束日期", ("帮扶结束日期", "结对结束日期", "帮扶结束时间"), kind="date"),
    ),
    signature=(("helper_name", "helper_id"), ("unit_name",), ("hh_id",)),
    hints=("帮扶", "结对"),
    description="帮扶责任人、所在单位与结对的户(一行一个结对)。",
)

VISITS = SheetKind(
    "visits", "走访记录",
    (
        Field("helper_id", "帮扶责任人编号", HELPERS.fields[0].synonyms, kind="id", max_len=32),
        Field("helper_name", "帮扶责任人", HELPERS.fields[1].synonyms, max_len=64,
              note="无编号时按姓名(与单位)找帮扶责任人"),
        Field("unit_name", "帮扶单位", HELPERS.fields[4].synonyms, max_len=64),
        Field("hh_id", "户编号", HOUSEHOLD_FIELDS[0].synonyms, kind="id", required=True, max_len=32),
        Field("visit_date", "走访日期", ("走访时间", "帮扶日期", "入户时间", "日期", "入户日期"), required=True,
              **DATE),
        Field("visit_kind", "走访方式", ("帮扶方式", "走访类型", "方式"), kind="code", allowed=codes.VISIT_KINDS,
              what="走访方式", example="入户走访"),
        Field("note", "走访内容", ("帮扶内容", "备注", "走访记录", "内容"), max_len=2000),
    ),
    signature=(("hh_id",), ("visit_date",), ("helper_id", "helper_name")),
    hints=("走访", "入户"),
    description="帮扶责任人的走访记录。",
)

MEASURES = SheetKind(
    "measures", "帮扶措施",
    (
        Field("hh_id", "户编号", HOUSEHOLD_FIELDS[0].synonyms, kind="id", required=True, max_len=32),
        Field("year", "年度", ("帮扶年度", "年份"), required=True, **YEAR),
        Field("measure", "帮扶措施", ("措施", "帮扶措施类型", "措施类型", "帮扶类型"), kind="code",
              allowed=codes.HELP_MEASURES, what="帮扶措施", required=True, example="产业帮扶"),
        Field("amount", "金额", ("帮扶金额", "资金", "补助金额"), **MONEY),
    ),
    signature=(("hh_id",), ("year",), ("measure",)),
    hints=("措施",),
    description="每户每年的帮扶措施,可带金额。",
)

DOC_NO_SYNONYMS = ("指标文号", "下达文号", "文件文号", "资金文号", "资金下达文号", "下达资金文号")

FUNDS = SheetKind(
    "funds", "资金",
    (
        Field("fund_id", "资金编号", ("指标编号", "资金指标编号", "资金代码"), kind="id", max_len=32,
              note="不填时以文号为资金编号(资金表按文号登记)"),
        Field("doc_no", "文号", DOC_NO_SYNONYMS, max_len=64, example="云财农〔2020〕12号"),
        Field("fund_name", "资金名称", ("指标名称", "名称"), max_len=128),
        Field("source", "资金来源", ("资金性质", "来源", "资金类型"), kind="code", allowed=codes.FUND_SOURCES,
              what="资金来源", required=True, example="中央财政专项扶贫资金"),
        Field("year", "年度", ("资金年度", "年份"), required=True, **YEAR),
        *PLACE_FIELDS[:3],
        Field("amount", "下达金额", ("金额", "下达资金", "资金规模", "指标金额", "资金金额"), required=True, **MONEY),
        Field("allocated_date", "下达日期", ("下达时间", "文件日期", "发文日期"), **DATE),
    ),
    signature=(("fund_id", "doc_no"), ("source",), ("amount",)),
    hints=("资金", "指标"),
    description="资金下达(带文号):来源、年度、接收的县或乡镇、金额。不填区划时记到本库唯一的县;"
                "没有资金编号列时按文号登记(文号即资金编号)。",
)

PROJECTS = SheetKind(
    "projects", "项目",
    (
        Field("project_id", "项目编号", ("项目代码", "项目库编号"), kind="id", required=True, max_len=32),
        Field("project_name", "项目名称", (), required=True, max_len=128),
        Field("category", "项目类别", ("项目类型", "类别"), kind="code", allowed=codes.PROJECT_CATEGORIES,
              what="项目类别", required=True, example="产业发展"),
        Field("subcategory", "项目子类", ("子类", "建设内容类别", "项目子类别"), max_len=16),
        *PLACE_FIELDS,
        Field("place", "实施地点", ("项目地点", "建设地点", "项目实施地点", "项目所在地", "实施地点(村)",
                                  "项目建设地点", "实施范围"), max_len=128,
              note="区划代码,或“乡(镇)行政村”名称(如 青石镇白岩村);有区划代码列时不用"),
        Field("year", "年度", ("项目年度", "实施年度", "年份"), required=True, **YEAR),
        Field("status", "项目状态", ("实施状态", "建设状态", "状态", "进度"), kind="code",
              allowed=codes.PROJECT_STATUSES, what="项目状态", example="在建",
              note="不填时新项目记为“在建”(已有项目保留原状态)"),
        Field("budget", "项目预算", ("总投资", "项目总投资", "计划投资", "预算金额", "投资额", "预算"), required=True,
              **MONEY),
        Field("planned_start", "计划开工日期", ("计划开工时间",), kind="date"),
        Field("planned_end", "计划完工日期", ("计划完工时间", "计划竣工日期"), kind="date"),
        Field("actual_start", "实际开工日期", ("开工日期", "实际开工时间"), kind="date"),
        Field("actual_end", "实际完工日期", ("完工日期", "竣工日期", "实际完工时间", "实际竣工日期"), kind="date"),
        Field("beneficiary_households", "受益户数", ("受益总户数", "带动户数"), kind="int", lo=0, hi=1_000_000),
        Field("beneficiary_poor_households", "受益贫困户数", ("受益脱贫户数", "带动贫困户数", "受益建档立卡户数"),
              kind="int", lo=0, hi=1_000_000),
        Field("beneficiary_persons", "受益人数", ("受益人口", "受益总人数", "带动人数"), kind="int", lo=0,
              hi=5_000_000),
        # The county ledger (台账): the fund by its 文号 (or 编号) and the cumulative amounts of each project.
        Field("ledger_fund_id", "资金编号", ("指标编号", "资金指标编号"), kind="id", max_len=32,
              note="台账:项目使用的资金(或填文号)"),
        Field("ledger_doc_no", "资金文号", ("文号", "指标文号", "下达文号", "资金下达文号"), max_len=64,
              note="台账:项目使用的资金的文号,须在资金表或数据库中"),
        Field("ledger_arranged", "累计安排", ("安排资金", "安排金额", "累计安排资金", "资金安排", "已安排资金",
                                          "安排"), note="台账:截至台账日期的累计金额(万元或元,按表头)", **MONEY),
        Field("ledger_paid", "累计拨付", ("拨付资金", "拨付金额", "累计拨付资金", "已拨付资金", "已拨付", "拨付"),
              **MONEY),
        Field("ledger_spent", "累计支出", ("支出资金", "支出金额", "累计支出资金", "已支出资金", "已支出", "支出",
                                        "累计报账", "报账金额", "已报账"), **MONEY),
        Field("ledger_date", "台账日期", ("截至日期", "统计日期", "数据截止日期", "截止日期"), kind="date",
              note="不填时用表头上方的导出时间,再无则用导入时的数据截至日期"),
    ),
    signature=(("project_id",), ("project_name",), ("category", "status", "budget")),
    hints=("项目", "台账"),
    description="扶贫项目:类别、地点(乡镇或行政村)、年度、状态、预算、工期与受益户。县级项目台账"
                "(每个项目一行,带资金文号与累计安排、拨付、支出)也按此表导入:安排记为资金安排,拨付与支出"
                "记为台账日期的累计数,同一项目的新台账替换旧台账的数,不累加。",
)

ARRANGEMENTS = SheetKind(
    "arrangements", "资金安排",
    (
        Field("fund_id", "资金编号", FUNDS.fields[0].synonyms, kind="id", required=True, max_len=32),
        Field("project_id", "项目编号", PROJECTS.fields[0].synonyms, kind="id", required=True, max_len=32),
        Field("amount", "安排金额", ("金额", "安排资金"), required=True, **MONEY),
        Field("arranged_date", "安排日期", ("安排时间",), kind="date"),
    ),
    signature=(("fund_id",), ("project_id",), ("amount",)),
    hints=("安排",),
    description="资金安排到项目的金额。",
)

FLOWS = SheetKind(
    "flows", "拨付支出",
    (
        Field("fund_id", "资金编号", FUNDS.fields[0].synonyms, kind="id", required=True, max_len=32),
        Field("project_id", "项目编号", PROJECTS.fields[0].synonyms, kind="id", required=True, max_len=32),
        Field("flow_kind", "类型", ("资金环节", "环节", "拨付/支出", "类别", "资金流向"), kind="code",
              allowed=codes.MONEY_KINDS, what="拨付/支出", required=True, example="拨付"),
        Field("amount", "金额", ("拨付金额", "支出金额", "发生金额"), required=True, **MONEY),
        Field("flow_date", "日期", ("拨付日期", "支出日期", "发生日期", "报账日期"), required=True, **DATE),
    ),
    signature=(("fund_id",), ("project_id",), ("flow_kind",), ("flow_date",)),
    hints=("拨付", "支出", "报账"),
    description="资金拨付与支出(报账)流水。",
)

SHEET_KINDS: tuple[SheetKind, ...] = (
    PLACES, POPULATION, TARGETS, LINES, PERSONS, INCOMES, MONITORING, HELPERS, VISITS, MEASURES, FUNDS, PROJECTS,
    ARRANGEMENTS, FLOWS,
)
BY_KEY = {k.key: k for k in SHEET_KINDS}
# Tie-break when two kinds match equally well (earlier wins).
PRIORITY = ("flows", "arrangements", "projects", "funds", "persons", "monitoring", "incomes", "measures",
            "visits", "helpers", "targets", "population", "lines", "places")

for _kind in SHEET_KINDS:
    for _f in _kind.fields:
        for _name in (_f.header, *_f.synonyms):
            _h = norm_header(_name)
            _kind.lookup.setdefault(_h, _f.key)
            _base, _unit = split_unit(_h)
            if _unit and _base:
                _kind.lookup.setdefault(_base, _f.key)


def match_header(kind: SheetKind, raw) -> tuple[str | None, str | None]:
    """(field key, unit in the header) for one header cell of ``kind``, or (None, None)."""
    h = norm_header(raw)
    if not h:
        return None, None
    key = kind.lookup.get(h)
    base, unit = split_unit(h)
    if key is None and base != h:
        key = kind.lookup.get(base)
    return key, unit


def signature_ok(kind: SheetKind, keys: set[str]) -> bool:
    return all(any(k in keys for k in group) for group in kind.signature)


@dataclass
class Header:
    row_index: int  # index into the sheet's rows (0-based)
    kind: SheetKind
    columns: list[tuple[int, str, str | None, str]]  # (column index, field key, unit, original header)
    unknown: list[str]
    duplicates: list[tuple[str, str]]  # (header ignored, field)
    sheet_unit: str | None  # "万元" when a title row says 单位:万元


def detect_header(rows: list[tuple[int, list]], sheet_name: str = "") -> Header | None:
    """Find the header row among the first rows and the sheet kind it denotes."""
    best: tuple[int, int, SheetKind] | None = None
    for i, (_, cells) in enumerate(rows[:MAX_HEADER_SCAN]):
        texts = [c for c in cells if isinstance(c, str) and c.strip()]
        if len(texts) < 2:
            continue
        for kind in SHEET_KINDS:
            keys = {match_header(kind, c)[0] for c in texts} - {None}
            if not signature_ok(kind, keys):
                continue
            bonus = 1 if any(h in sheet_name for h in kind.hints) else 0
            candidate = (len(keys) + bonus, -PRIORITY.index(kind.key))
            if best is None or candidate > (best[0], -PRIORITY.index(best[2].key)):
                best = (candidate[0], i, kind)
    if best is None:
        return None
    _, index, kind = best
    columns: list[tuple[int, str, str | None, str]] = []
    unknown: list[str] = []
    duplicates: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    multi = {f.key for f in kind.fields if f.kind == "codes"}
    for col, cell in enumerate(rows[index][1]):
        if cell is None or not str(cell).strip():
            continue
        key, unit = match_header(kind, cell)
        if key is None:
            unknown.append(str(cell).strip())
            continue
        if key in seen and key not in multi:
            duplicates.append((str(cell).strip(), kind.field(key).header))
            continue
        seen[key] = col
        columns.append((col, key, unit, str(cell).strip()))
    title_text = " ".join(
        str(c) for _, cells in rows[:index] for c in cells if c is not None
    )
    title_text = unicodedata.normalize("NFKC", title_text).replace(" ", "")
    sheet_unit = "万元" if re.search(r"单位[::]?万元", title_text) else None
    return Header(index, kind, columns, unknown, duplicates, sheet_unit)


# ---- what the rows above a header say, and money in headers the importer does not know ------------------------

_YMD = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})"
_EXPORTED = re.compile(r"(?:导出|生成|打印|下载)(?:时间|日期)[::]?\s*" + _YMD)
_DATE_ONLY = re.compile(r"^\s*" + _YMD)
_EXPORT_LABEL = re.compile(r"^(?:导出|生成|打印|下载)(?:时间|日期)[::]?$")


def exported_at(rows: list[tuple[int, list]]) -> dt.date | None:
    """The date of a "导出时间:2020-10-31 16:02" line above the header (national-system exports print one).

    The label and the time may share a cell or sit in neighbouring cells (text or a date cell).
    """
    for _, cells in rows:
        for i, cell in enumerate(cells):
            if not isinstance(cell, str):
                continue
            text = unicodedata.normalize("NFKC", cell)
            m = _EXPORTED.search(text)
            if not m and _EXPORT_LABEL.match(text.replace(" ", "")):
                after = next((c for c in cells[i + 1:] if c is not None), None)
                if isinstance(after, (dt.date, dt.datetime)):
                    return after.date() if isinstance(after, dt.datetime) else after
                m = _DATE_ONLY.match(unicodedata.normalize("NFKC", str(after or "")))
            if m:
                try:
                    return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    return None
    return None


MONEY_WORDS = re.compile(r"金额|万元|\(元\)|/元|资金|投资|拨付|支出|安排|补助|补贴|收入|资产")
AMOUNT_WORDS = ("金额", "万元", "(元)", "/元")  # the surest of them: a cell with one of these names the amount


def money_word(text) -> str | None:
    """The money word in a header cell (金额, 万元, 资金, 拨付…), or None."""
    if not isinstance(text, str):
        return None
    m = MONEY_WORDS.search(norm_header(text))
    return m.group(0) if m else None
