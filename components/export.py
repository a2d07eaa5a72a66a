"""Excel and CSV download buttons for any table: masked unless the user may see personal data.

    export_buttons(df, "致贫原因统计", key="causes-export", ctx=ctx)

- A DataFrame (already with Chinese headers and units, as shown): two buttons; the
  file is only built when a button is clicked.
- A callable ``source(row_cap) -> iterable of DataFrames`` (a large list streamed from
  the database; ``streamed(fn, ctx, ...)`` makes one from a data_access generator): a
  row cap, a format, a "生成导出文件" button that builds the file with a progress bar,
  then the download button. Give ``total`` (rows expected)
  for an exact progress bar.
Exports respect ``ctx.masked`` and ``ctx.can_export`` and are written to the audit log. An unmasked file is
built on the click and can be fetched once, by this session only (``shell.downloads``).
"""

from __future__ import annotations

from typing import Callable, Iterable

import pandas as pd
import streamlit as st

from data_access import export as ex

from .context import PageContext
from .data import engine as engine_of
from .shell import downloads

ChunkSource = Callable[[int], Iterable[pd.DataFrame]]
_STATE = "_export_file_"


def _audit(ctx: PageContext, name: str, fmt: str, rows: int, truncated: bool) -> None:
    from data_access.auth import record

    detail = f"{name}.{fmt};{'已截断' if truncated else '完整'};{'脱敏' if ctx.masked else '未脱敏'}"
    try:
        record(engine_of(ctx), "导出", ctx.user, ctx.scope.code, detail, rows)
    except Exception:  # a read-only database must not stop the download
        pass


def _private(data: bytes, mime: str, file_name: str, ctx: PageContext, owner: str) -> bytes:
    """Unmasked bytes about to be served: only ``owner`` (this session) may fetch them, once."""
    if not ctx.masked:
        downloads.register(data, mime, file_name, owner)
    return data


def _small_file(df: pd.DataFrame, name: str, fmt: str, ctx: PageContext, file_name: str) -> Callable[[], bytes]:
    owner = downloads.session_id()

    def build() -> bytes:
        made = ex.export(fmt, ex.frame_chunks(df), sheet=name, row_cap=max(len(df), 1), masked=ctx.masked)
        _audit(ctx, name, fmt, made.rows, made.truncated)
        return _private(made.data, ex.FORMATS[fmt], file_name, ctx, owner)

    return build


def streamed(fn, ctx: PageContext, *args, **kwargs) -> ChunkSource:
    """A chunk source for ``export_buttons`` from a data_access generator
    ``fn(engine, scope, *args, row_cap=..., **kwargs)`` (scope checked as in ``data.fetch``)."""
    if not ctx.allows(ctx.scope):
        raise PermissionError("超出本账号的数据范围")

    def source(row_cap: int) -> Iterable[pd.DataFrame]:
        return fn(engine_of(ctx), ctx.scope, *args, row_cap=row_cap, **kwargs)

    return source


def export_buttons(source: pd.DataFrame | ChunkSource, name: str, key: str, ctx: PageContext, *,
                   total: int | None = None) -> None:
    """Excel and CSV downloads of ``source`` named ``name`` (file names get the date)."""
    if not ctx.can_export:
        st.caption("当前角色不能导出数据。")
        return
    if isinstance(source, pd.DataFrame):
        with st.container(horizontal=True, gap="small"):
            for fmt, label in (("xlsx", "导出 Excel"), ("csv", "导出 CSV")):
                file_name = ex.file_name(name, fmt)
                st.download_button(
                    label, data=_small_file(source, name, fmt, ctx, file_name), file_name=file_name,
                    mime=ex.FORMATS[fmt], key=f"{key}-{fmt}", on_click="ignore",
                    help="个人身份证号、电话已脱敏" if ctx.masked else None,
                )
        return
    _large_export(source, name, key, ctx, total)


def _large_export(source: ChunkSource, name: str, key: str, ctx: PageContext, total: int | None) -> None:
    limit = ex.configured_row_cap()
    signature = (name, tuple(sorted(st.query_params.to_dict().items())), ctx.scope.code, ctx.data_version)
    state_key = _STATE + key
    with st.container(border=True):
        st.markdown("**导出名单(Excel / CSV)**")
        cols = st.columns([2, 2, 2])
        cap = cols[0].number_input("最多导出行数", min_value=1, max_value=limit,
                                   value=min(limit, ex.DEFAULT_ROW_CAP), step=1000, key=f"{key}-cap")
        fmt = cols[1].radio("格式", ("xlsx", "csv"), horizontal=True, key=f"{key}-fmt",
                            format_func=lambda f: "Excel (.xlsx)" if f == "xlsx" else "CSV(UTF-8)")
        expected = min(total, int(cap)) if total is not None else None
        if total is not None:
            cols[2].markdown(f"将导出 **{expected:,}** 行" + (f"(共 {total:,} 行,超出上限)" if total > cap else ""))
        if ctx.masked:
            st.caption("导出文件中的身份证号、电话号码均已脱敏。")
        if st.button("生成导出文件", key=f"{key}-build", type="primary"):
            bar = st.progress(0.0, text="正在生成……")

            def step(fraction: float, message: str) -> None:
                bar.progress(fraction, text=message)

            made = ex.export(fmt, source(int(cap)), sheet=name, row_cap=int(cap), masked=ctx.masked,
                             progress=step, total=expected)
            bar.progress(1.0, text=f"完成:{made.rows:,} 行")
            _audit(ctx, name, fmt, made.rows, made.truncated)
            st.session_state[state_key] = (signature, made)
        kept = st.session_state.get(state_key)
        if kept and kept[0] == signature:
            made: ex.ExportFile = kept[1]
            if made.truncated:
                st.warning(f"已达到行数上限,文件只含前 {made.rows:,} 行。请缩小查询条件或提高上限。")
            file_name = ex.file_name(name, made.extension)
            owner = downloads.session_id()
            # unmasked: handed over on the click, fetchable once by this session (masked: a plain file)
            data = made.data if ctx.masked else (lambda: _private(made.data, made.mime, file_name, ctx, owner))
            st.download_button(
                f"下载 {made.extension.upper()} 文件({made.rows:,} 行)", data=data,
                file_name=file_name, mime=made.mime, key=f"{key}-download", on_click="ignore",
            )
        elif kept:
            st.session_state.pop(state_key, None)
