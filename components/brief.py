"""会议材料 on the overview: the 基本情况 paragraph (copy button), .docx/.txt downloads, and the slides.

The paragraph and the files come from ``data_access.report.brief`` / ``data_access.report.slides`` through
``components.data.fetch``, so they are cached under the database, the data version and the
region scope, like every figure of the page. The slides take seconds to build (charts rendered
to images), so they are built when asked for, then offered for download.
"""

from __future__ import annotations

import streamlit as st

from data_access.report import brief, slides

from .context import PageContext
from .data import engine, fetch
from .talking_points import sentences
from .safe import md

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _file_stem(ctx: PageContext) -> str:
    return f"{ctx.region_name}{ctx.year}年"


def pptx_key(ctx: PageContext) -> str:
    return f"brief-pptx-{ctx.scope.code}-{ctx.year}"


def meeting_section(ctx: PageContext) -> None:
    """The 会议材料 section (not shown in presentation mode: the projector screen stays 1280×720)."""
    if ctx.present:
        return
    st.markdown("#### 会议材料")
    try:
        # each figure through the page cache: the headline, funds, monitoring and 巩固衔接 figures the page above
        # already read are not computed again (at province scale ~1 s of a cold overview)
        facts = brief.brief_facts(engine(ctx), ctx.scope, ctx.year, ctx.first_year,
                                  fetcher=lambda fn, *args: fetch(fn, ctx, *args))
        text = brief.brief_paragraph(facts)
    except Exception:  # noqa: BLE001 - a page section must not end the page with a traceback
        st.error("生成基本情况段落时出错,请稍后重试或联系管理员。")
        return
    st.caption(f"{md(ctx.region_name)}{ctx.year}年基本情况:每个数字都来自本驾驶舱各页面的同一查询。"
               "可选中框内文字复制,也可下载 Word 或文本文件,或生成汇报幻灯片。")
    # a framed paragraph, not st.code: its copy button brings 1.5 MB of syntax-highlighting JavaScript that a
    # fresh browser compiles before it shows the page's first figure (bench/first_figure.py)
    with st.container(border=True, key="brief-paragraph"):
        st.markdown(md(text))
    stem = _file_stem(ctx)
    said = sentences(ctx)  # the 讲话要点, in the .docx/.txt and the slides' speaker notes
    with st.container(horizontal=True, gap="small", key="brief-downloads"):
        # the .docx is written when the button is clicked (Streamlit calls ``data`` then, off the script run)
        st.download_button("下载 Word(.docx)", data=lambda: brief.brief_docx(facts, said),
                           file_name=f"{stem}基本情况.docx", mime=DOCX_MIME, on_click="ignore",
                           key="brief-docx", icon=":material/description:")
        st.download_button("下载文本(.txt)", data=brief.brief_txt(facts, said),
                           file_name=f"{stem}基本情况.txt", mime="text/plain", on_click="ignore",
                           key="brief-txt", icon=":material/article:")
        key = pptx_key(ctx)
        deck, failed = None, False
        if st.session_state.get(key):
            try:
                with st.spinner("正在生成幻灯片……"):
                    deck = fetch(slides.build_pptx, ctx, ctx.year, ctx.first_year, said)
            except Exception:  # noqa: BLE001 - a Chinese message, never a traceback
                st.session_state[key] = False
                failed = True
        if deck is not None:
            st.download_button("下载汇报幻灯片(.pptx)", data=deck, file_name=f"{stem}工作汇报.pptx", mime=PPTX_MIME,
                               on_click="ignore", key="brief-pptx", type="primary", icon=":material/download:")
        elif st.button("生成汇报幻灯片(.pptx)", key="brief-pptx-build", icon=":material/slideshow:",
                       help="封面、主要指标、脱贫进度、致贫原因、资金、防返贫监测和村级地图,约需数秒"):
            st.session_state[key] = True
            st.rerun()
    if failed:
        st.error("生成幻灯片时出错(图表渲染组件不可用或数据异常),请稍后重试或联系管理员。")
