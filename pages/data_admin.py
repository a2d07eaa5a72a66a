"""数据管理: import the national system's exports (管理员), the import log, the template."""

import streamlit as st

from components import import_ui
from components.context import current

ctx = current()
mode = import_ui.access(ctx)
if mode is None:
    st.stop()
tab_import, tab_log, tab_template = st.tabs(["导入数据", "导入记录", "模板与列名"])
with tab_import:
    import_ui.import_panel(ctx, mode)
with tab_log:
    import_ui.history_panel(ctx)
with tab_template:
    import_ui.template_panel()
