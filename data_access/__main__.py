"""Command line: ``python -m data_access <command> ...``.

Commands are registered in ``COMMANDS`` (name → (help, add_arguments, run)); to add
one, write an ``add_arguments(parser)`` and a ``run(args) -> int`` and add a line.
Every error is reported as a Chinese message on stderr with exit code 1 (never a
traceback).
"""

from __future__ import annotations

import argparse
import sys

from . import db

TABLE_LABELS = {
    "region": "区划", "household": "农户", "person": "人口", "other_cause": "其他致贫原因", "income": "收入",
    "poverty_line": "贫困线/监测线", "exit_target": "减贫任务", "help_unit": "帮扶单位", "helper": "帮扶责任人",
    "assignment": "结对帮扶", "visit": "走访记录", "help_measure": "帮扶措施", "monitoring_object": "监测对象",
    "work_year": "分年务工", "village_population": "农村户籍人口(分年)",
    "fund": "资金下达", "project": "项目", "arrangement": "资金安排", "money_flow": "拨付/支出",
    "project_beneficiary": "项目受益户", "meta": "元数据", "import_log": "导入日志", "audit_log": "审计日志",
}


def _add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="URL",
                        help="数据库地址(默认:REGISTRY_DB_URL、secrets.toml 或 data/registry.db)")


# ---- demo ------------------------------------------------------------------


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    _add_db_argument(parser)
    parser.add_argument("--scale", choices=("small", "county", "province"), default="county",
                        help="规模:small(测试用)、county(一个县,默认)、province(一个省,仅 PostgreSQL)")
    parser.add_argument("--seed", type=int, default=1, help="随机种子(相同种子生成相同数据,默认 1)")
    parser.add_argument("--workers", type=int, default=None,
                        help="省级规模并行生成的进程数(仅 PostgreSQL;默认按 CPU 数,最多 4)")


def _demo_run(args) -> int:
    from .demo import generate as demo

    url = args.db or db.resolve_url()
    engine = db.get_engine(url)
    where = engine.url.render_as_string(hide_password=True)
    print(f"正在生成演示数据:规模 {args.scale},种子 {args.seed},数据库 {where}", flush=True)
    last = [-1]

    def progress(fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if pct != last[0]:
            last[0] = pct
            print(f"  [{pct:3d}%] {message}", flush=True)

    stats = demo.generate(engine, scale=args.scale, seed=args.seed, progress=progress, workers=args.workers)
    print("已生成演示数据(各表行数):")
    for table, count in stats["rows"].items():
        print(f"  {TABLE_LABELS.get(table, table)}({table}):{count:,} 行")
    total = sum(stats["rows"].values())
    print(f"合计 {total:,} 行,县 {stats['counties']} 个,用时 {stats['seconds']:.1f} 秒。")
    if stats.get("problems"):
        p = stats["problems"]
        print(f"刻意设置的数据问题:无地点项目 {', '.join(p.get('no_place', []))};"
              f"支出超过拨付的项目 {', '.join(p.get('spent_over_paid', []))};"
              f"2020年后返贫而未纳入监测的户 {', '.join(p.get('returned_outside_monitoring', []))}。")
    return 0


# ---- boundaries (data_access/boundaries.py) -----------------------------------


def _boundaries_arguments(parser: argparse.ArgumentParser) -> None:
    from . import boundaries

    boundaries.add_arguments(parser)


def _boundaries_run(args) -> int:
    from . import boundaries

    return boundaries.run(args)


# ---- import / template (data_access/importer.py) ---------------------------------


def _importer(command: str):
    def add_arguments(parser):
        from .importer import run as importer

        (importer.add_import_arguments if command == "import" else importer.add_template_arguments)(parser)

    def run(args):
        from .importer import run as importer

        return (importer.run_import_cli if command == "import" else importer.run_template_cli)(args)

    return add_arguments, run


# ---- summarize (data_access/summary/refresh.py) --------------------------------------------


def _summarize_run(args) -> int:
    from .summary.refresh import refresh as refresh_summaries

    url = args.db or db.resolve_url()
    engine = db.get_engine(url)
    db.check_database(engine)
    where = engine.url.render_as_string(hide_password=True)
    print(f"正在重建汇总表:数据库 {where}", flush=True)
    stats = refresh_summaries(engine)
    for table, count in stats["rows"].items():
        print(f"  {table}:{count:,} 行")
    print(f"汇总表已更新(数据版本 {stats['version']}),用时 {stats['seconds']:.1f} 秒。")
    return 0


# ---- registry ----------------------------------------------------------------

COMMANDS = {
    "demo": ("生成演示数据(虚构的县或省)", _demo_arguments, _demo_run),
    "boundaries": ("导入村、乡镇边界(Shapefile、GeoPackage、GeoJSON;按区划代码或乡镇+村名匹配)", _boundaries_arguments,
                   _boundaries_run),
    "import": ("导入国家系统导出的 Excel/CSV(校验后一个事务写入,可重复导入)", *_importer("import")),
    "summarize": ("重建汇总表(导入与生成演示数据后会自动重建;数据变动后未重建时页面改读明细表)",
                  _add_db_argument, _summarize_run),
    "template": ("生成导入模板 assets/import_template.xlsx 与列名说明 docs/import.md", *_importer("template")),
}


class ChineseArgumentParser(argparse.ArgumentParser):
    """Usage errors in Chinese, exit code 1 (argparse's default is English and 2)."""

    PHRASES = (
        ("the following arguments are required", "缺少必需的参数"),
        ("unrecognized arguments", "无法识别的参数"),
        ("invalid choice", "无效的选项"),
        ("choose from", "可选"),
        ("invalid int value", "不是有效的整数"),
        ("expected one argument", "需要一个值"),
        ("argument", "参数"),
    )

    def error(self, message: str):
        for en, zh in self.PHRASES:
            message = message.replace(en, zh)
        self.print_usage(sys.stderr)
        self.exit(1, f"错误:命令行参数有误:{message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(prog="python -m data_access", description="扶贫数据驾驶舱:数据库工具")
    sub = parser.add_subparsers(dest="command", metavar="命令", parser_class=ChineseArgumentParser)
    sub.required = True
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except db.RegistryError as exc:
        message = exc.message + (f"({exc.detail})" if exc.detail else "")
    except KeyboardInterrupt:
        message = "已取消。"
    except Exception as exc:  # noqa: BLE001 - the CLI promises a message, never a traceback
        message = _explain(exc)
    print(f"错误:{message}", file=sys.stderr)
    return 1


def _explain(exc: Exception) -> str:
    from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = detail[0][:300] if detail else type(exc).__name__
    if isinstance(exc, OperationalError):
        return f"无法连接或写入数据库:{detail}"
    if isinstance(exc, ArgumentError):
        return f"数据库地址格式不正确:{detail}"
    if isinstance(exc, (DBAPIError, SQLAlchemyError)):
        return f"数据库操作失败:{detail}"
    if isinstance(exc, MemoryError):
        return "内存不足。"
    if isinstance(exc, OSError):
        return f"文件或网络错误:{detail}"
    return f"执行失败({type(exc).__name__}):{detail}"


if __name__ == "__main__":
    sys.exit(main())
