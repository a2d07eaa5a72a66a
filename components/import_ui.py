"""数据管理: upload national-system exports, validate with a progress bar, show the report, the log, the template.

Only a 管理员 may write. In open demo mode (no sign-in configured) anyone may
validate (a dry run that writes nothing but the log line); other roles see
nothing here. The importer itself lives in ``data_access.importer``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from data_access.importer import spec, run as importer, worker
from data_access.importer.template import DEFAULT_TEMPLATE, docs_markdown

from data_access.report import formatting as fmt
from .context import PageContext
from .data import fetch
from .kpi import Kpi, show
from .safe import md
from .tables import dataframe

RESULT_KEY = "_import_result"
RUNS_KEY = "_import_runs"
WRITE, CHECK = "write", "check"
HISTORY_COLUMNS = {
    "id": "编号", "imported_at": "时间", "user_id": "操作人", "file_name": "文件名", "file_hash": "SHA-256(前 12 位)",
    "rows_read": "读取(行)", "rows_written": "写入(行)", "rows_rejected": "拒绝(行)", "dry_run": "试导入",
    "message": "说明",
}


def access(ctx: PageContext) -> str | None:
    """WRITE for a 管理员, CHECK in open demo mode, None (with a message) for anyone else."""
    if ctx.user is None:
        st.info("开放演示模式:可以上传文件进行**校验(试导入)**,不会写入数据库。"
                "配置登录并以**管理员**身份进入后才能导入数据。")
        return CHECK
    if ctx.user.role != "管理员":
        st.error("数据管理仅限管理员使用。")
        return None
    return WRITE


def import_scope(ctx: PageContext):
    return ctx.user.root if ctx.user is not None else None


# theme.py sets the CJK font on every "st-" class, which also hits Streamlit's own icon glyphs (the uploader's
# button then reads "upload"): give them back their bundled icon font on this page.
ICON_FONT_FIX = """<style>[data-testid="stIconMaterial"] {
  font-family: "Material Symbols Rounded" !important; font-feature-settings: "liga"; }</style>"""


def import_panel(ctx: PageContext, mode: str) -> None:
    st.html(ICON_FONT_FIX)
    worker.warm_up()  # the imports run in a process of their own: its fork server starts while the user picks files
    files = st.file_uploader("选择从国家系统导出的文件(Excel .xlsx/.xls/.xlsb、.ods 或 CSV,可多选,作为一批校验与写入)",
                             type=["xlsx", "xlsm", "xlsb", "xls", "ods", "csv", "txt"], accept_multiple_files=True,
                             key="import_files")
    skip = st.checkbox("只写入正确的行(有错误的行跳过并列入问题清单)", key="import_skip_invalid",
                       help="不勾选时:只要有一行错误,就什么都不写入。")
    clear = st.checkbox("空白单元格清空原值", key="import_clear_blanks",
                        help="不勾选时:文件中为空的单元格保留数据库中的原值(不会误删电话、自然村、其他致贫原因等)。")
    left, right, _ = st.columns([1, 1, 2])
    with left:
        check = st.button("校验(不写入)", disabled=not files, width="stretch")
    with right:
        write = st.button("校验并导入", type="primary", disabled=not files or mode != WRITE, width="stretch",
                          help=None if mode == WRITE else "仅管理员登录后可导入")
    if (check or write) and files:
        if write and mode != WRITE:
            st.error("仅管理员可以导入数据。")
            return
        bar = st.progress(0.0, text="准备读取文件……")

        def progress(fraction: float, message: str) -> None:
            bar.progress(fraction, text=message)

        user = ctx.user.user_id if ctx.user is not None else "开放演示模式"
        result = worker.run_import_isolated(ctx.db_url, import_scope(ctx), [(f.name, f.getvalue()) for f in files],
                                            user=user, dry_run=not write, skip_invalid=skip, progress=progress,
                                            refresh="after", clear_blanks=clear)
        bar.empty()
        st.session_state[RESULT_KEY] = result
        st.session_state[RUNS_KEY] = st.session_state.get(RUNS_KEY, 0) + 1
    result = st.session_state.get(RESULT_KEY)
    if result is not None:
        show_result(result)


def show_result(result: importer.ImportResult) -> None:
    summary = result.summary()
    if result.fatal or (result.errors and not result.written and not result.skip_invalid):
        st.error(summary)
    elif result.errors:
        st.warning(summary)
    else:
        st.success(summary + (" 页面上的统计数字已随数据更新。" if result.written else ""))
    written_label = "可写入的行(行)" if result.dry_run else "写入的行(行)"
    show([
        Kpi("读取的行(行)", fmt.count(result.rows_read)),
        Kpi(written_label, fmt.count(result.rows_written), help="导入后数据有变化的行;与数据库一致的行不计"),
        Kpi("拒绝的行(行)", fmt.count(result.rows_rejected), up_is_good=False),
        Kpi("错误(处)", fmt.count(len(result.errors)), help=f"另有提示 {len(result.notices)} 条"),
    ])
    dataframe(files_frame(result), hide_index=True, width="stretch")
    if result.tables:
        st.markdown("**各数据表的变化**" + ("(试导入,未写入)" if result.dry_run or not result.written else ""))
        dataframe(tables_frame(result), hide_index=True, width="stretch")
        if result.fields_text():
            st.caption(("将更新" if result.dry_run or not result.written else "已更新") + "的字段:"
                       + md(result.fields_text()))
    if result.problems:
        st.markdown(f"**问题清单**:错误 {len(result.errors)} 处,提示 {len(result.notices)} 条")
        st.download_button("下载问题清单(Excel)", importer.report_xlsx(result), file_name="导入问题清单.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        problems = importer.problems_frame(result)
        dataframe(problems, hide_index=True, width="stretch", height=min(420, 40 + 35 * len(problems)),
                     column_config={"问题": st.column_config.TextColumn(width="large")})


def files_frame(result: importer.ImportResult) -> pd.DataFrame:
    rows = []
    for f in result.files:
        sheets = ";".join(f"{s['name'] or '—'}→{s['kind']}(表头第 {s['header_row']} 行)" for s in f.sheets)
        rows.append({"文件": f.name, "格式": f.format.upper() or "—", "编码": f.encoding or "—",
                     "工作表": sheets or "—", "读取(行)": f.rows_read, "写入(行)": f.rows_written,
                     "拒绝(行)": f.rows_rejected, "文件问题": f.error or ""})
    return pd.DataFrame(rows)


def tables_frame(result: importer.ImportResult) -> pd.DataFrame:
    return pd.DataFrame([{"数据表": t, "新增(条)": c.get("新增", 0), "更新(条)": c.get("更新", 0),
                          "删除(条)": c.get("删除", 0)} for t, c in result.tables.items()])


def history_frame(ctx: PageContext, limit: int = 50) -> pd.DataFrame:
    df = fetch(importer.history, ctx, limit, run=st.session_state.get(RUNS_KEY, 0)).copy()
    df["imported_at"] = pd.to_datetime(df["imported_at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    df["file_hash"] = df["file_hash"].str[:12]
    df["dry_run"] = df["dry_run"].map(lambda v: "是" if v else "否")
    df["user_id"] = df["user_id"].fillna("—")
    return df.rename(columns=HISTORY_COLUMNS)


def history_panel(ctx: PageContext) -> None:
    df = history_frame(ctx)
    if df.empty:
        st.info("还没有导入记录。")
        return
    st.caption("最近 50 次导入(含试导入),最新的在前;“写入”为数据有变化的行数,重复导入同一文件记为 0。")
    dataframe(df, hide_index=True, width="stretch", height=min(560, 40 + 35 * len(df)),
                 column_config={"说明": st.column_config.TextColumn(width="large"),
                                "编号": st.column_config.NumberColumn(width="small")})


def template_panel() -> None:
    path = Path(DEFAULT_TEMPLATE)
    if path.exists():
        st.download_button("下载导入模板(Excel)", path.read_bytes(), file_name="扶贫数据导入模板.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", type="primary")
    st.markdown("每张工作表按表头自动识别,可只填其中几张;国家系统导出的原表(含标题行、合计行、同义列名)可直接上传。")
    dataframe(kinds_frame(), hide_index=True, width="stretch")
    with st.expander("全部列名与同义列名"):
        st.markdown(docs_markdown())


def kinds_frame() -> pd.DataFrame:
    return pd.DataFrame([{
        "工作表": k.title, "内容": k.description,
        "必填列": "、".join(f.header for f in k.fields if f.required),
        "列数": len(k.fields),
    } for k in spec.SHEET_KINDS])
