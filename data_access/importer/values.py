"""Cell values of national-system exports: text, codes, ID numbers, dates, years, amounts, yes/no.

Each parser takes the raw cell (str, int, float, bool, date/datetime or None)
and returns the stored value, ``None`` for an empty cell, or raises
:class:`Bad` whose message (Chinese) says precisely what is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import mul

from .. import codes
from ..rules import ID_CHECK_CHARS, ID_WEIGHTS, id_birth_date


class Bad(ValueError):
    """A cell that cannot be read; ``str(exc)`` is the reason in Chinese."""


EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_RANGE = (1, 73050)  # 1900-01-01 .. 2099-12-31
YEAR_RANGE = (1949, 2100)
SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
EMPTY_MARKS = {"", "-", "--", "—", "——", "/", "无数据", "null", "NULL", "None", "nan", "NaN", "#N/A"}


_INVISIBLE = ("\r", "\n", "\u200b", "\ufeff")


def clean(raw) -> str:
    """A cell as text: NFKC (full-width → half-width), no surrounding or inner line breaks."""
    if raw is None:
        return ""
    if type(raw) is str:
        text = raw
    elif isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    else:
        text = str(raw)
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        for ch in _INVISIBLE:
            if ch in text:
                text = text.replace(ch, "")
    elif "\n" in text or "\r" in text:
        text = text.replace("\r", "").replace("\n", "")
    return text.strip()


def is_empty(raw) -> bool:
    return raw is None or clean(raw) in EMPTY_MARKS


def squeeze(text: str) -> str:
    """Text with every space removed (for code labels and names)."""
    return "".join(text.split())


# ---- text and identifiers ---------------------------------------------------


def text(raw, max_len: int | None = None) -> str | None:
    if raw is None:
        return None
    cleaned = clean(raw)
    if cleaned in EMPTY_MARKS:  # is_empty
        return None
    value = " ".join(cleaned.split())
    if max_len and len(value) > max_len:
        raise Bad(f"内容过长({len(value)} 个字符,最多 {max_len} 个)")
    return value


def identifier(raw, max_len: int | None = None) -> str | None:
    """An identifier (户编号, 人编号, 项目编号...): digits must survive Excel intact."""
    if type(raw) is str and raw.isascii() and raw.isdigit():  # the usual cell: nothing to clean or check
        if max_len and len(raw) > max_len:
            raise Bad(f"编号过长({len(raw)} 位,最多 {max_len} 位)")
        return raw
    if is_empty(raw):
        return None
    if isinstance(raw, float) and not raw.is_integer():
        raise Bad("编号被 Excel 存成了小数,请把该列设为文本格式后重新导出")
    if isinstance(raw, float) and abs(raw) >= 1e15:
        raise Bad("编号被 Excel 存成了数字,超过 15 位的部分已丢失,请把该列设为文本格式后重新导出")
    value = squeeze(clean(raw)).lstrip("'")
    if SCIENTIFIC.match(value):
        raise Bad("编号已被 Excel 转为科学计数法,后几位数字已丢失")
    if max_len and len(value) > max_len:
        raise Bad(f"编号过长({len(value)} 位,最多 {max_len} 位)")
    return value


_LAST = frozenset("0123456789Xx")
_ZERO_WEIGHTS = ord("0") * sum(ID_WEIGHTS)
_BIRTH_DIGITS: set[str] = set()  # digits 7-14 (YYYYMMDD) of ID numbers whose birth date exists


def id_number(raw) -> str | None:
    """证件号码: 18 characters, valid birth date and GB 11643 check character (``rules.id_check_char``)."""
    if type(raw) is str and len(raw) == 18 and raw.isascii() and raw[:17].isdigit() and raw[17] in _LAST:
        value = raw.upper()  # the usual cell: nothing to clean (what the general path below gives)
    elif is_empty(raw):
        return None
    elif isinstance(raw, float):
        raise Bad("证件号码已被 Excel 存成数字,超过 15 位的部分(后几位)已丢失,请把该列设为文本格式后重新导出")
    else:
        value = squeeze(clean(raw)).lstrip("'").upper()
        if SCIENTIFIC.match(value):  # (the usual cell above passes these three checks)
            raise Bad("证件号码已被 Excel 转为科学计数法,后几位数字已丢失")
        if len(value) != 18:
            raise Bad(f"证件号码应为 18 位,实为 {len(value)} 位")
        if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
            raise Bad("证件号码只能由数字组成(最后一位可为 X)")
    if value[6:14] not in _BIRTH_DIGITS:  # a birth date seen once need not be checked again
        try:
            id_birth_date(value)
        except ValueError:
            raise Bad(f"证件号码中的出生日期 {value[6:14]} 不存在") from None
        if len(_BIRTH_DIGITS) < 100_000:
            _BIRTH_DIGITS.add(value[6:14])
    first17 = value[:17]
    if first17.isascii():  # digit codes minus 48 each: no int() per digit
        total = sum(map(mul, first17.encode(), ID_WEIGHTS)) - _ZERO_WEIGHTS
    else:
        total = sum(map(mul, map(int, first17), ID_WEIGHTS))
    expected = ID_CHECK_CHARS[total % 11]  # rules.id_check_char
    if value[17] != expected:
        raise Bad(f"证件号码校验位错误(按前 17 位应为 {expected})")
    return value


def id_sex(number: str) -> str:
    return "男" if int(number[16]) % 2 else "女"


def region_code(raw) -> str | None:
    """12-digit 统计用区划代码; a 15-digit code (12 + urban-rural class) is cut to 12."""
    if is_empty(raw):
        return None
    if isinstance(raw, float) and not raw.is_integer():
        raise Bad("区划代码不是整数")
    value = squeeze(clean(raw)).lstrip("'")
    if SCIENTIFIC.match(value):
        raise Bad("区划代码已被 Excel 转为科学计数法,后几位数字已丢失")
    if not value.isdigit():
        raise Bad("区划代码只能由数字组成")
    if len(value) == 15 and value[12] in "12":
        value = value[:12]
    if len(value) != 12:
        raise Bad(f"区划代码应为 12 位数字,实为 {len(value)} 位")
    return value


def phone(raw) -> str | None:
    if type(raw) is str and 5 <= len(raw) <= 20 and raw.isdigit() and raw.isascii():
        return raw  # the usual cell: nothing to clean or check (what the general path below gives)
    if is_empty(raw):
        return None
    value = re.sub(r"[\s\-()]", "", clean(raw)).lstrip("'")
    if SCIENTIFIC.match(value):
        raise Bad("电话号码已被 Excel 转为科学计数法")
    if not re.fullmatch(r"\+?\d{5,20}", value):
        raise Bad("电话号码只能包含数字")
    return value


# ---- numbers ------------------------------------------------------------------


def _decimal(raw, unit_words=("元", "万元", "人", "户", "个", "月", "%")) -> Decimal:
    if isinstance(raw, bool):
        raise Bad("应为数字")
    if isinstance(raw, (int, float)):
        return Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    value = squeeze(clean(raw)).replace(",", "").replace(",", "")
    for word in sorted(unit_words, key=len, reverse=True):
        if value.endswith(word):
            value = value[: -len(word)]
            break
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise Bad("应为数字") from None
    if not number.is_finite():
        raise Bad("应为数字")
    return number


def integer(raw, lo: int | None = None, hi: int | None = None) -> int | None:
    if is_empty(raw):
        return None
    number = _decimal(raw)
    if number != number.to_integral_value():
        raise Bad("应为整数")
    value = int(number)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise Bad(f"数值 {value} 超出合理范围({lo}–{hi})")
    return value


def decimal_number(raw, lo: float | None = None, hi: float | None = None) -> float | None:
    if is_empty(raw):
        return None
    value = float(_decimal(raw))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise Bad(f"数值 {value:g} 超出合理范围({lo:g}–{hi:g})")
    return value


def money(raw, unit: str = "元", lo: int = 0, hi: int = 10**13) -> int | None:
    """An amount in ``unit`` (元 or 万元) as whole 元 (rounded half up)."""
    if is_empty(raw):
        return None
    text_value = clean(raw) if isinstance(raw, str) else ""
    in_wan = unit == "万元"
    if text_value.replace(" ", "").endswith("万元"):
        in_wan = True
    elif text_value.replace(" ", "").endswith("元"):
        in_wan = False
    number = _decimal(raw)
    if in_wan:
        number *= 10000
    value = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if value < lo:
        raise Bad("金额不能为负数" if lo == 0 else f"金额低于 {lo} 元")
    if value > hi:
        raise Bad(f"金额 {value:,} 元超出合理范围")
    return value


# ---- dates and years ------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_PATTERNS = (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), re.compile(r"^(\d{4})年(\d{1,2})月?$"))


def _serial(number: float) -> dt.date:
    if not SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]:
        raise Bad("不是有效的日期")
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


def date(raw) -> dt.date | None:
    """A date from a date cell, text (2019-03-01, 2019/3/1, 2019年3月1日, 20190301) or an Excel serial."""
    if (type(raw) is str and len(raw) == 10 and raw[4] == "-" and raw[7] == "-" and raw.isascii()
            and raw[:4].isdigit() and raw[5:7].isdigit() and raw[8:].isdigit()):
        try:  # the usual text, YYYY-MM-DD: what the first pattern below reads
            return dt.date(int(raw[:4]), int(raw[5:7]), int(raw[8:]))
        except ValueError:
            raise Bad(f"日期 {raw} 不存在") from None
    if is_empty(raw):
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        raise Bad("不是有效的日期")
    if isinstance(raw, (int, float)):
        if 19000101 <= raw <= 21001231 and float(raw).is_integer():
            return date(str(int(raw)))
        return _serial(float(raw))
    value = squeeze(clean(raw))
    for pattern in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise Bad(f"日期 {value} 不存在") from None
    if re.fullmatch(r"\d{1,5}(\.\d+)?", value):
        return _serial(float(value))
    raise Bad("日期格式无法识别(可用 2019-03-01、2019/3/1、2019年3月1日 或 20190301)")


def year(raw) -> int | None:
    """A year from 2016, 2016年, 2016-05, a date or an Excel date serial."""
    if is_empty(raw):
        return None
    if isinstance(raw, (dt.date, dt.datetime)):
        value = raw.year
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if float(raw).is_integer() and YEAR_RANGE[0] <= raw <= YEAR_RANGE[1]:
            value = int(raw)
        else:
            value = date(raw).year
    else:
        text_value = squeeze(clean(raw))
        m = re.fullmatch(r"(\d{4})年?度?", text_value)
        if m:
            value = int(m[1])
        else:
            month = next((p.match(text_value) for p in _MONTH_PATTERNS if p.match(text_value)), None)
            value = int(month[1]) if month else date(text_value).year
    if not YEAR_RANGE[0] <= value <= YEAR_RANGE[1]:
        raise Bad(f"年度 {value} 超出合理范围({YEAR_RANGE[0]}–{YEAR_RANGE[1]})")
    return value


# ---- yes/no and code lists ----------------------------------------------------------

YES = {"是", "有", "y", "yes", "true", "1", "√", "✓", "已解决", "已参加", "参加", "已消除", "已参保", "贫困村"}
NO = {"否", "无", "n", "no", "false", "0", "×", "✗", "未解决", "未参加", "不参加", "未消除", "未参保", "非贫困村"}


def boolean(raw) -> bool | None:
    if is_empty(raw):
        return None
    if isinstance(raw, bool):
        return raw
    value = squeeze(clean(raw)).lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise Bad("应为“是”或“否”")


# Variant spellings seen in exports, beyond codes.SYNONYMS.
VALUE_SYNONYMS: dict[str, str] = {
    # causes
    "因病致贫返贫": "因病", "因残致贫返贫": "因残", "因学致贫返贫": "因学", "因灾致贫返贫": "因灾",
    "缺劳动力致贫": "缺劳力", "缺劳力致贫": "缺劳力", "缺少劳动力": "缺劳力", "缺少资金": "缺资金",
    "缺少技术": "缺技术", "缺少土地": "缺土地", "缺乏土地": "缺土地", "缺少水": "缺水", "缺乏水源": "缺水",
    "交通条件落后致贫": "交通条件落后", "交通条件差": "交通条件落后", "自身发展动力不足": "自身发展动力不足",
    "因婚致贫": "因婚", "因丧致贫": "因丧", "其它": "其他", "其他原因": "其他",
    # attributes and standards
    "特困供养户": "特困供养贫困户", "特困户": "特困供养贫困户", "五保": "特困供养贫困户",
    "低保": "低保贫困户", "一般": "一般贫困户", "一般贫困": "一般贫困户",
    "国家": "国家标准", "国标": "国家标准", "省定": "省定标准", "省标": "省定标准", "市定": "市定标准",
    # person fields
    "文盲": "文盲或半文盲", "半文盲": "文盲或半文盲", "文盲半文盲": "文盲或半文盲",
    "大专": "大专及以上", "本科": "大专及以上", "本科及以上": "大专及以上", "大学": "大专及以上",
    "初中毕业": "初中", "小学毕业": "小学", "高中毕业": "高中", "中专": "高中", "职高": "高中",
    "高中(中专)": "高中", "学龄前": "学龄前儿童",
    "非在校": "非在校生", "不在校": "非在校生", "学前": "学前教育", "幼儿园": "学前教育",
    "初一": "七年级", "初二": "八年级", "初三": "九年级",
    "高一": "高中一年级", "高二": "高中二年级", "高三": "高中三年级",
    "健康人": "健康", "慢性病": "长期慢性病", "长期慢性病患者": "长期慢性病", "大病": "患有大病",
    "残疾人": "残疾", "残": "残疾",
    "普通劳力": "普通劳动力", "技能劳力": "技能劳动力", "弱劳动力": "弱劳动力或半劳动力",
    "半劳动力": "弱劳动力或半劳动力", "弱劳力": "弱劳动力或半劳动力", "丧失劳力": "丧失劳动力",
    "无劳力": "无劳动力",
    "乡镇内务工": "乡(镇)内务工", "乡内务工": "乡(镇)内务工", "镇内务工": "乡(镇)内务工",
    "乡镇外县内务工": "乡(镇)外县内务工", "县内务工": "乡(镇)外县内务工", "县外省内务工": "县外省内务工",
    "省内县外务工": "县外省内务工", "省外务工": "省外务工", "未务工": "未外出务工", "无务工": "未外出务工",
    "不务工": "未外出务工", "在家务农": "未外出务工",
    "男性": "男", "女性": "女",
    # relations
    "本人": "户主", "户主本人": "户主", "妻": "配偶", "妻子": "配偶", "夫": "配偶", "丈夫": "配偶",
    "子": "之子", "儿子": "之子", "长子": "之子", "次子": "之子", "三子": "之子", "女": "之女", "女儿": "之女",
    "长女": "之女", "次女": "之女", "三女": "之女", "儿媳": "之儿媳", "媳妇": "之儿媳", "女婿": "之女婿",
    "孙子": "之孙子", "孙女": "之孙女", "父亲": "之父", "父": "之父", "母亲": "之母", "母": "之母",
    "兄弟姐妹": "之兄弟姐妹", "兄": "之兄弟姐妹", "弟": "之兄弟姐妹", "姐": "之兄弟姐妹", "妹": "之兄弟姐妹",
    "哥哥": "之兄弟姐妹", "弟弟": "之兄弟姐妹", "姐姐": "之兄弟姐妹", "妹妹": "之兄弟姐妹",
    # houses
    "安全住房": "安全", "非危房": "安全", "A级": "A", "B级": "B", "C级": "C", "D级": "D",
    "C级危房": "C", "D级危房": "D", "a": "A", "b": "B", "c": "C", "d": "D",
    # monitoring
    "脱贫不稳定": "脱贫不稳定户", "边缘易致贫": "边缘易致贫户", "边缘户": "边缘易致贫户",
    "突发严重困难": "突发严重困难户", "严重困难户": "突发严重困难户",
    "因意外": "因意外事故", "意外事故": "因意外事故", "因产业失败": "因产业项目失败", "产业项目失败": "因产业项目失败",
    "因务工就业不稳定": "因务工就业不稳", "务工就业不稳": "因务工就业不稳", "就业不稳": "因务工就业不稳",
    "因缺劳动力": "缺劳动力", "缺劳力": "缺劳动力", "住房安全": "住房安全问题", "饮水安全": "饮水安全问题",
    "因自然灾害": "因灾", "自然灾害": "因灾",
    # help, funds, projects
    "入户": "入户走访", "走访": "入户走访", "电话": "电话联系", "电话走访": "电话联系", "宣讲": "政策宣讲",
    "中央财政": "中央财政专项扶贫资金", "中央专项": "中央财政专项扶贫资金", "中央财政专项资金": "中央财政专项扶贫资金",
    "省级财政": "省级财政专项扶贫资金", "省级专项": "省级财政专项扶贫资金", "省级财政专项资金": "省级财政专项扶贫资金",
    "市级财政": "市级财政专项扶贫资金", "市级专项": "市级财政专项扶贫资金", "市级财政专项资金": "市级财政专项扶贫资金",
    "县级财政": "县级财政专项扶贫资金", "县级专项": "县级财政专项扶贫资金", "县级财政专项资金": "县级财政专项扶贫资金",
    "涉农整合资金": "统筹整合财政涉农资金", "整合资金": "统筹整合财政涉农资金",
    "统筹整合涉农资金": "统筹整合财政涉农资金",
    "东西部协作资金": "东西部扶贫协作资金", "东西部协作": "东西部扶贫协作资金", "定点帮扶": "定点帮扶资金",
    "社会帮扶": "社会帮扶资金", "金融扶贫": "金融扶贫资金",
    "产业": "产业发展", "产业项目": "产业发展", "就业": "就业扶贫", "易地搬迁": "易地扶贫搬迁", "教育": "教育扶贫",
    "健康": "健康扶贫", "基础设施": "农村基础设施", "农村基础设施建设": "农村基础设施", "人居环境整治": "人居环境",
    "计划中": "计划", "未开工": "计划", "在建中": "在建", "实施中": "在建", "已完工": "完工", "已验收": "验收",
    "已报账": "报账", "拨款": "拨付", "拨付资金": "拨付", "报账": "支出", "支付": "支出",
    "扶贫标准": "贫困线", "国家扶贫标准": "贫困线", "监测范围": "监测线", "防返贫监测范围": "监测线",
    "防止返贫监测范围": "监测线", "监测标准": "监测线",
}


def code(raw, allowed: tuple[str, ...], what: str) -> str | None:
    """A label of ``allowed``, normalising known variants; ``what`` names the list in messages."""
    if is_empty(raw):
        return None
    value = squeeze(clean(raw))
    if value in allowed:
        return value
    for table in (VALUE_SYNONYMS, codes.SYNONYMS):
        mapped = table.get(value)
        if mapped in allowed:
            return mapped
    stripped = value.removesuffix("致贫")
    if stripped in allowed:
        return stripped
    shown = "、".join(allowed) if len(allowed) <= 16 else "、".join(allowed[:16]) + "……"
    raise Bad(f"“{value}”不在{what}代码表中(可用:{shown})")


def codes_list(raw, allowed: tuple[str, ...], what: str) -> list[str]:
    """Several labels in one cell, separated by 、,;/ or spaces."""
    if is_empty(raw):
        return []
    parts = [p for p in re.split(r"[、,,;;/|\s]+", clean(raw)) if p and p not in EMPTY_MARKS]
    out: list[str] = []
    for part in parts:
        label = code(part, allowed, what)
        if label not in out:
            out.append(label)
    return out
