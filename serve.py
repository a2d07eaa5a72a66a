"""Production entry: the app behind a Content-Security-Policy ``frame-ancestors`` header.

``streamlit run serve.py`` serves app.py through ``st.App`` so that only the
portal origins in the ``[embed] frame_ancestors`` setting may frame it.
"""

import streamlit as st
from starlette.middleware import Middleware

from components.embedding import FrameAncestorsMiddleware
from data_access.settings import frame_ancestors

app = st.App("app.py", middleware=[Middleware(FrameAncestorsMiddleware, origins=frame_ancestors())])
