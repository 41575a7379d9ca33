"""Browser-facing protections for every response and every state-changing request.

The session cookie is sent by the browser with any request to acd117, whoever's page made
it: a foreign page could POST `/api/users` as `text/plain` (no CORS preflight for that) and
create an admin with the signed-in admin's cookie. So a POST, PUT, PATCH or DELETE is
refused when it comes from another origin (its `Origin`, or `Sec-Fetch-Site: cross-site`),
and when it carries a body that is not JSON: a page elsewhere cannot send JSON here without
a preflight, which acd117 never grants. Clients outside a browser (the CLI, curl, scripts)
send no `Origin` and are unaffected.

Every response says `nosniff` and may not be framed (clickjacking); every `/api/` response
is `no-store`, since sign-ins carry tokens and the rest carries live or personal data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from acd.http.auth import json_error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_https(request: web.Request) -> bool:
    """Served over TLS, here or at a reverse proxy in front (which says so)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def _cross_site(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None:
        # The host (and port) only: a TLS proxy that does not say X-Forwarded-Proto still
        # serves its own pages. "null" (a sandboxed frame, a file: page) never matches.
        return origin.partition("://")[2].rstrip("/").lower() != request.host.lower()
    return request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site"


# What a page on another site may send without a CORS preflight (an HTML form, or fetch in
# "no-cors" mode): refused even with an empty body.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data",
                        "text/plain"})


def _json_body(request: web.Request) -> bool:
    if "Content-Type" in request.headers and request.content_type in FORM_TYPES:
        return False
    return not request.body_exists or request.content_type == "application/json"


@web.middleware
async def protect(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in UNSAFE:
        if _cross_site(request):
            raise json_error(403, "requests from another site are refused")
        if not _json_body(request):
            raise _unsupported()
    return await handler(request)


def setup(app: web.Application) -> None:
    app.middlewares.append(protect)
    app.on_response_prepare.append(headers)


def _unsupported() -> web.HTTPException:
    import json

    return web.HTTPUnsupportedMediaType(
        text=json.dumps({"error": "the body must be JSON (Content-Type: application/json)"}),
        content_type="application/json")


async def headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, errors and event streams included."""
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    h.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/api/"):
        h["Cache-Control"] = "no-store"
