"""The one door from the UI to data_access: cached calls keyed by database, data version and scope.

``st.cache_data`` is shared by all users, so the scope is always part of the key:
``fetch(queries.overview.headline, ctx, year)`` calls
``headline(engine, ctx.scope, year)`` and caches it under (function, db url,
data version, scope, args). A new import bumps data_version, so stale figures
are never served.
"""

from __future__ import annotations

import importlib

import streamlit as st

from data_access.db import get_engine
from data_access.scope import Scope

from .context import PageContext


@st.cache_data(show_spinner=False, max_entries=4000, ttl=3600)
def _cached(qualname: str, db_url: str, data_version: str, scope: Scope, args: tuple, kwargs: tuple):
    module_name, fn_name = qualname.rsplit(".", 1)
    fn = getattr(importlib.import_module(module_name), fn_name)
    return fn(get_engine(db_url), scope, *args, **dict(kwargs))


def fetch(fn, ctx: PageContext, *args, scope: Scope | None = None, **kwargs):
    """Call a data_access query for the page's scope (or a narrower ``scope``), cached."""
    use = scope or ctx.scope
    if not ctx.allows(use):
        raise PermissionError("超出本账号的数据范围")
    qualname = f"{fn.__module__}.{fn.__name__}"
    return _cached(qualname, ctx.db_url, ctx.data_version, use, tuple(args), tuple(sorted(kwargs.items())))


def fetch_shell(fn, db_url: str, data_version: str, scope: Scope, *args):
    """``fetch`` for app.py before a PageContext exists (region tree, year range): same cache and key.

    At province scale these read ~20,000 regions and scan every household; uncached they cost
    more than the whole page on every rerun.
    """
    return _cached(f"{fn.__module__}.{fn.__name__}", db_url, data_version, scope, tuple(args), ())


def engine(ctx: PageContext):
    return get_engine(ctx.db_url)
