"""ASGI middleware for serve.py: who may frame the app (CSP frame-ancestors) — the portal, and nobody else —
and the headers every response carries (no Referer: a sign-in link's token must not ride along to anyone;
no MIME sniffing)."""

from __future__ import annotations

import re

from streamlit import net_util

# Never ask an outside service (checkip.amazonaws.com) for this server's address: an intranet forbids it.
# Streamlit asks for the start-up banner and as a last resort in its origin checks; "" means "none".
net_util._external_ip = ""

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")


def policy(origins: list[str]) -> str:
    allowed = ["'self'"] + [o for o in origins if _ORIGIN.match(o)]
    return "frame-ancestors " + " ".join(allowed)


class FrameAncestorsMiddleware:
    def __init__(self, app, origins: list[str] | None = None):
        self.app = app
        self.header = policy(origins or []).encode("latin-1")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_csp(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"content-security-policy", b"x-frame-options")]
                headers.append((b"content-security-policy", self.header))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_csp)


SECURITY_HEADERS = ((b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff"))


class SecurityHeadersMiddleware:
    """``Referrer-Policy: no-referrer`` and ``X-Content-Type-Options: nosniff`` on every HTTP response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = {name for name, _ in SECURITY_HEADERS}

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                headers.extend(SECURITY_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
