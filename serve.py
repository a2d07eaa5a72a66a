"""Production entry: ``streamlit run serve.py``.

Serves app.py through ``st.App`` so that (1) only the portal origins in the
``[embed] frame_ancestors`` setting may frame it (CSP header), every response
says ``Referrer-Policy: no-referrer`` and ``X-Content-Type-Options: nosniff``, and (2) the
views in pages/ are always run by app.py's ``st.navigation``, even when the
very first request after start is a deep link (Streamlit would otherwise run a
pages/ file on its own in its legacy pages-folder mode), and (3) an unmasked export
under /media/ is served once, only to the connected session that made it
(components/shell/downloads.py).
"""

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from components.shell.downloads import PrivateDownloadsMiddleware
from components.shell.embedding import FrameAncestorsMiddleware, SecurityHeadersMiddleware
from data_access.settings import frame_ancestors

PagesManager.uses_pages_directory = False

app = st.App("app.py", middleware=[Middleware(FrameAncestorsMiddleware, origins=frame_ancestors()),
                                   Middleware(SecurityHeadersMiddleware), Middleware(PrivateDownloadsMiddleware)])
