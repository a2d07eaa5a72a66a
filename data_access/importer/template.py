"""The import template (assets/import_template.xlsx) and the header reference (docs/import.md), from the spec.

Both are generated from ``spec`` so they cannot drift from what the
importer accepts: ``python -m data_access template``.
"""

from __future__ import annotations

from pathlib import Path

from ..db import PROJECT_ROOT
from . import spec
from .spec import SHEET_KINDS, Field

DEFAULT_TEMPLATE = PROJECT_ROOT / "assets" / "import_template.xlsx"
DEFAULT_DOCS = PROJECT_ROOT / "docs" / "import.md"

KIND_WORDS = {
    "text": "文本", "id": "编号(文本)", "idnum": "18 位证件号码(文本)", "region": "12 位区划代码(文本)",
    "phone": "电话(文本)", "int": "整数", "float": "数字", "money": "金额", "date": "日期", "year": "年度",
    "bool": "是/否", "code": "代码表", "codes": "代码表(可多个)", "raw": "文本",
}
TEXT_KINDS = ("id", "idnum", "region", "phone")


def _kind_text(f: Field) -> str:
    word = KIND_WORDS[f.kind]
    if f.kind == "money":
        word += "(元;表头写“(万元)”则按万元)"
    if f.kind == "code":
        shown = "、".join(f.allowed)
        word += f":{shown}"
    if f.kind == "codes":
        word += ":" + "、".join(f.allowed)
    return word


def write_template(path: Path = DEFAULT_TEMPLATE) -> Path:
    """One sheet per kind with the canonical headers (text-formatted ID columns), plus 说明."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"title": "扶贫数据驾驶舱 导入模板", "author": "扶贫数据驾驶舱",
                         "created": __import__("datetime").datetime(2024, 1, 1)})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    need = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True, "valign": "top"})
    text = book.add_format({"num_format": "@"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    guide = book.add_worksheet("说明")
    guide.set_column(0, 0, 18)
    guide.set_column(1, 1, 30)
    guide.set_column(2, 2, 8)
    guide.set_column(3, 3, 60)
    guide.set_column(4, 4, 26)
    guide.write(0, 0, "扶贫数据驾驶舱 导入模板:每个工作表都可单独使用,也可只填其中几张表。橙色表头为必填列。"
                      "编号、证件号码、区划代码、电话列已设为文本格式,请勿改为数字(否则 Excel 会丢失后几位)。", wrap)
    guide.set_row(0, 48)
    guide.write_row(2, 0, ["工作表", "列名", "必填", "内容与格式", "也接受的列名"], head)
    r = 3
    for kind in SHEET_KINDS:
        ws = book.add_worksheet(kind.title)
        for col, f in enumerate(kind.fields):
            ws.write(0, col, f.header, need if f.required else head)
            ws.set_column(col, col, max(10, min(26, len(f.header) * 2 + 2)), text if f.kind in TEXT_KINDS else None)
            comment = _kind_text(f) + (f"。{f.note}" if f.note else "") + (f"。例:{f.example}" if f.example else "")
            ws.write_comment(0, col, comment, {"x_scale": 2, "y_scale": 1.5})
            guide.write_row(r, 0, [kind.title if col == 0 else "", f.header, "是" if f.required else "",
                                   comment, "、".join(f.synonyms)], wrap)
            r += 1
        ws.freeze_panes(1, 0)
        ws.set_row(0, 32)
    book.close()
    return path


INTRO = """# 导入国家系统导出的数据

真实数据从全国扶贫开发信息系统(后为全国防返贫监测信息系统)导出为 Excel 或 CSV,经本程序校验后导入数据库。
本页列出接受的工作表与列名;导入模板 `assets/import_template.xlsx`(数据管理页可下载)与本页由同一份定义生成
(`python -m data_access template`),二者始终一致。

## 怎样导入

```bash
python -m data_access import 人员名单.xls 收入.csv 项目台账.xlsx [--db URL] [--dry-run] [--skip-invalid]
    [--skip-sheet 工作表名] [--skip-column 列名] [--as-of YYYY-MM-DD] [--report 问题清单.xlsx]
```

- **文件格式**:Excel 工作簿 .xlsx、.xlsm、.xlsb、旧版 .xls,WPS/LibreOffice 的 .ods(均由 python-calamine 读取),
  以及 CSV/文本文件。一个工作簿的所有工作表一起导入。

- **先校验、后写入,一个事务**:默认只要有一行错误就什么都不写(全部成功才写入);`--skip-invalid` 写入正确的行,
  把错误的行列在问题清单里。`--dry-run` 只校验。问题清单给出 文件、工作表、行号、列、值、原因,可用 `--report`
  输出为 Excel(数据管理页可直接下载)。退出码:0 全部导入,1 有错误或有内容被跳过(错误行、跳过的工作表或列),
  2 文件或数据库无法打开。
- **不会悄悄丢掉钱或工作表**:含金额(金额、万元、元、资金、拨付、支出、安排、投资等)却认不出表头的工作表,
  或认不出内容的工作表,都是错误,本次不写入任何数据(`--skip-invalid` 也不放行);表头含金额字样、却不在下表中的列
  同样是错误。确认不需要时用 `--skip-sheet 工作表名`(CSV 用文件名,`*` 为所有认不出的工作表)或
  `--skip-column 列名` 跳过;跳过了任何内容时,输出的最后一行写明跳过了什么,退出码为 1。
  “说明”“填表说明”“目录”“封面”工作表、空工作表,以及没有金额的隐藏工作表(多为下拉选项列表)不导入、不报错。
- **数据截至日期**:国家系统导出的文件在表头上方印有“导出时间:2020-10-31 16:02”,导入后以它(一批文件取最晚的)
  作为数据截至日期;`--as-of` 可以另行指定。文件没有导出时间时,已有的截至日期不变(新库记为导入当天)。
- **文件大小**:为保护服务器,工作簿解压后超过 512 MB、任一部件压缩比超过 200 倍(且超过 16 MB)、
  全部工作表所占的 行数×列数 超过 800 万个单元格、或共享字符串超过 200 万个时,读取之前即拒绝并说明原因,
  请把数据分成几个文件导入。
- **汇总表**:写入提交后再更新汇总表(命令行在后台更新,结束前等它完成);更新完成之前页面直接按明细表计算。
- **页面导入在独立进程中进行**:“数据管理”页面的校验与导入在服务器的一个单独进程里运行,不占用其他用户
  页面所用的进程;导入期间离开页面,导入仍会完成(结果见“导入记录”)。

- **可重复导入**:按各表的键更新(户编号、人编号或证件号码、区划代码、户编号+年度、资金编号、项目编号……)。
  同一文件再导入一次不改变任何数据(导入日志记为写入 0 行);导入较新的导出只更新变化的记录和文件中有的列;
  文件没有提到的记录**不会被删除**。
- **户的人数**与该户的人员行数保持一致:文件中“人数”与导入后该户的人数不符时报错(数据库中已有、文件未列出的
  成员不会被删除,需先在国家系统中核实)。
- 每次导入(含试导入)记入导入日志:操作人、时间、文件名与 SHA-256、读取/写入/拒绝行数。写入后页面上的缓存数字
  自动刷新。空数据库也可以直接导入(先导入“区划”表,再导入人员等)。

## 能自动处理的情况

- 表头上方的标题行(自动寻找表头行)、表头中的空格、换行、全角字符、“*”必填标记,以及下表列出的同义列名
  (如 致贫原因 / 主要致贫原因 / 致贫原因1,县 / 县(市、区、旗))。
- 末尾的“合计”“总计”行、空行、“制表人”等脚注行、分页重复的表头行。
- 编码:UTF-8、带 BOM 的 UTF-8、GBK/GB18030、UTF-16(Excel“Unicode 文本”);分隔符:逗号、制表符、分号。
- 日期:2019-03-01、2019/3/1、2019.3.1、2019年3月1日、20190301、Excel 日期或日期序号;年度可写 2016、2016年
  或日期(取年份)。
- 金额:表头写“(万元)”按万元读,写“(元)”或不写单位按元读(不写单位会提示),标题行写“单位:万元”则整表按万元;
  存入数据库时一律为整数元。
- 代码表的常见别写法:因病致贫→因病、缺劳动力→缺劳力、五保户→特困供养贫困户、初一→七年级、妻→配偶、
  C级危房→C 等;不在代码表中的值报错。与户主关系的其他称谓(之曾孙女等)记为“其他”并提示。
- 证件号码:校验 18 位、出生日期与校验位;性别、出生日期不填时由证件号码推出,填了则须一致。
  **被 Excel 转成科学计数法(5.22428E+17)或存成数字的证件号码无法恢复,该行被拒绝**,请把该列设为文本后重新导出。
- 人员表(一行一人,户的信息在该户每一行重复):同一户各行的户信息必须一致;户主为“与户主关系”为户主的那一行;
  一户只能有一个户主。地点用区划代码,或 县(可省)+乡(镇)+行政村 名称。
- 2022 年导出的“户类型”(脱贫户、监测户……)、“易返贫致贫户(监测对象)类型”“风险是否消除”“风险识别时间”
  “风险消除时间”会生成监测对象;没有“主要风险”列时风险记为“其他”并提示。“人均纯收入”“人员识别时间”列不导入
  (收入请用“收入”表,带年度与各项收入)。
- 已脱贫的户必须有脱贫年度:2022 年的“已脱贫人口名单”没有这一列,对数据库中还没有脱贫年度的户会报错,
  请在文件中加“脱贫年度”列。
- 两不愁三保障的常见写法:是否安全饮水、饮水安全是否有保障、是否解决安全饮用水……;不愁吃不愁穿、吃穿两不愁……
  (“是否住房安全”与“危房户”意思相反,不按危房户读取)。

## 接受的表的样式

- **国家系统导出的名单**(人员、收入、监测对象……):标题行、导出时间行在上,表头下一行一条。
- **2021 年起防返贫监测系统导出的监测对象**:监测对象类别、识别监测时间、致贫(返贫)风险1…5(风险1 为主要风险,
  2…5 核对代码表)、风险消除方式(填了即视为已消除)、风险消除时间、监测人口数、帮扶措施(记为导出年度的帮扶措施)。
- **县级项目台账**(一行一个项目):项目编号、项目名称、项目类别、实施地点(区划代码,或“青石镇白岩村”这样的
  乡镇+村名称;列名可为 实施地点、项目地点、实施地点区划代码……)、年度、总投资、资金文号(或资金编号),以及截至
  台账日期的累计安排、累计拨付、累计支出(万元或元,按表头)。累计安排记为该资金对该项目的安排;累计拨付、累计支出
  各记为一笔,日期取“台账日期”列,没有则取导出时间,再没有则取 `--as-of`(或当天)。**同一资金与项目的新台账替换
  旧台账的拨付与支出,不累加**;同一份台账再导入一次不改变数据。累计拨付不得超过累计安排,累计支出不得超过累计拨付,
  一笔资金的安排合计不得超过下达。没有项目状态列时新项目记为“在建”。
- **按文号登记的资金表**:资金文号、年度、资金来源、资金名称、下达金额(万元)、下达日期,没有资金编号列时以文号
  作为资金编号(数据库中已有同文号的资金则更新那一笔)。台账按文号找到资金。
- **模板格式**:`assets/import_template.xlsx` 的各工作表(资金安排、拨付支出为流水明细)。

## 不接受的文件

PDF、Word 等,加密(设有打开密码)的工作簿,以及损坏或下载不完整的文件:给出原因,不写入任何数据。

## 工作表与列名

每个工作表按表头自动识别种类(工作表名称只作参考),可以放在同一个工作簿,也可以是多个 CSV 文件。
“必填”列缺失时整张表不导入。
"""


def docs_markdown() -> str:
    parts = [INTRO]
    for kind in SHEET_KINDS:
        parts.append(f"\n### {kind.title}\n\n{kind.description}\n")
        groups = " 且 ".join("/".join(kind.field(k).header for k in group) for group in kind.signature)
        parts.append(f"识别条件:表头中有 {groups}。\n")
        parts.append("| 列名 | 必填 | 内容与格式 | 也接受的列名 |\n|---|---|---|---|")
        for f in kind.fields:
            desc = _kind_text(f) + (f"。{f.note}" if f.note else "") + (f"。例:`{f.example}`" if f.example else "")
            parts.append(f"| {f.header} | {'是' if f.required else ''} | {desc.replace('|', '/')} | "
                         f"{'、'.join(f.synonyms)} |")
    parts.append("")
    return "\n".join(parts)


def write_docs(path: Path = DEFAULT_DOCS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(docs_markdown(), encoding="utf-8")
    return path


__all__ = ["write_template", "write_docs", "docs_markdown", "spec"]
