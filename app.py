"""扶贫数据驾驶舱 — entry point: database, sign-in, global filters, navigation."""

from __future__ import annotations

import streamlit as st

from components.context import PageContext, set_current
from components.data import fetch_shell
from components import first_paint, widgets
from components.shell import auth, bootstrap, client, filters, header, nav, present, theme
from data_access.db import get_engine
from data_access.queries import places

st.set_page_config(page_title="扶贫数据驾驶舱", page_icon="assets/icon.png", layout="wide")

presenting = present.is_on()
theme.apply(present=presenting)
client.install()

db_url, meta = bootstrap.open_database()
engine = get_engine(db_url)

user = auth.sign_in(engine, meta)
data_version = meta.get("data_version", "0")
root = user.root if user else auth.open_root(db_url, data_version)

filters.restore_missing_params()
tree = fetch_shell(places.region_tree, db_url, data_version, root)
if tree.empty:
    bootstrap.show_error("无可用数据", f"本账号的数据范围(区划代码 {root.code})在数据库中没有任何区划。")
    st.stop()
first_year, last_year = fetch_shell(places.year_range, db_url, data_version, root)
try:
    scope = filters.parse_region(st.query_params.get("region", ""), root, tree)
    year = filters.parse_year(st.query_params.get("year", ""), first_year, last_year)
except filters.BadParameter as exc:
    bootstrap.show_error("链接参数有误", str(exc))
    if st.button("回到默认视图"):
        for key in ("region", "year"):
            st.query_params.pop(key, None)
        st.session_state.pop(filters.LAST_KEY, None)
        st.rerun()
    st.stop()
filters.remember(scope, year)

if not presenting:
    st.sidebar.markdown("### 扶贫数据驾驶舱")
    filters.sidebar_pickers(tree, root, scope, year, first_year, last_year)
    present.switch()

lineage = filters.lineage(tree, scope, root, db_url, data_version)
here = lineage[-1]["name"] if lineage and lineage[-1]["code"] == scope.code else scope.code
ctx = PageContext(
    db_url=db_url, data_version=data_version, scope=scope, year=year,
    first_year=first_year, last_year=last_year, as_of=meta.get("data_as_of", "未知"),
    is_demo=meta.get("is_demo") == "1", region_name=here,
    lineage=lineage, user=user, present=presenting, open_mode=user is None, root=root,
)
set_current(ctx)

is_admin = user is None or user.role == "管理员"
sections: dict[str, list] = {}
page_keys: dict[str, str] = {}  # url path -> PageSpec key
for spec in nav.available(is_admin=is_admin):
    is_default = spec.key == nav.DEFAULT_KEY
    page = st.Page(spec.file, title=spec.title, url_path=f"{spec.key}-home" if is_default else spec.key,
                   default=is_default, visibility="visible" if spec.visible else "hidden")
    sections.setdefault(spec.section, []).append(page)
    page_keys[page.url_path] = spec.key
    if is_default:  # the default page lives at "/"; a portal's link to /overview must open it too
        alias = st.Page(spec.file, title=spec.title, url_path=spec.key, visibility="hidden")
        sections[spec.section].append(alias)
        page_keys[alias.url_path] = spec.key
current_page = st.navigation(sections, position="hidden" if presenting else "sidebar")
if presenting:
    with st.container(horizontal=True, horizontal_alignment="right"):
        present.auto_advance(page_keys.get(current_page.url_path, nav.DEFAULT_KEY))
        present.exit_button()
widgets.set_current_page(page_keys.get(current_page.url_path, nav.DEFAULT_KEY))
header.page_header(ctx, current_page.title)
first_paint.count_run()
current_page.run()
