"""Every page's header, drawn by app.py above the page: title, where, which year, data as-of date, demo badge."""

from __future__ import annotations

import streamlit as st

from data_access.codes import REGION_LEVEL_LABELS

from ..context import PageContext
from ..safe import esc


def page_header(ctx: PageContext, title: str) -> None:
    badge = '<span class="demo-badge">演示数据</span>' if ctx.is_demo else ""
    st.html(f'<h1 style="margin:0;padding:0.1rem 0">{esc(title)}{badge}</h1>')
    level = REGION_LEVEL_LABELS.get(ctx.scope.level, "")
    who = f" · {esc(ctx.user.name)}({esc(ctx.user.role)})" if ctx.user else ""
    st.html(
        f'<div class="scope-line">范围:<b>{esc(ctx.scope_label)}</b>({level},区划代码 {esc(ctx.scope.code)})'
        f' · 年度:<b>{ctx.year}年</b> · 数据截至 <b>{esc(ctx.as_of_text)}</b>{who}</div>'
    )
    if ctx.open_mode and not ctx.present:
        st.caption("开放演示模式:未配置登录密钥,所有访问者可见全部数据。")
