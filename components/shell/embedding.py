"""ASGI middleware: who may frame the app (CSP frame-ancestors) — the portal, and nobody else."""

from __future__ import annotations

import re

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
