"""Who may call: an optional API key (Bearer, constant-time compare) and opt-in CORS.

Closed by default: with a key configured every path needs it except the open ones below,
so a route added later is protected without anyone remembering to.
"""

import hmac

from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import error_body
from service.settings import Settings

OPEN_PATHS = ("/health/", "/v2/health/")  # probes work without the key (kubelet sends none)


def load_api_key(settings: Settings) -> bytes | None:
    """The key from API_KEY, else from the file API_KEY_FILE names; None when neither is set."""
    if settings.api_key is not None:
        key = settings.api_key.get_secret_value().strip()
    elif settings.api_key_file is not None:
        key = settings.api_key_file.read_text().strip()  # a missing file stops the startup
    else:
        return None
    if not key:
        raise ValueError("API_KEY / API_KEY_FILE is set but empty")
    return key.encode()


def authorized(header: bytes | None, key: bytes) -> bool:
    """`Authorization: Bearer <key>`, compared in constant time."""
    scheme, _, given = (header or b"").partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), key)


class ApiKey:
    """401 for any non-open path without the key; the key comes from the lifespan state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = scope.get("state", {}).get("api_key") if scope["type"] == "http" else None
        if key is None or scope["path"].startswith(OPEN_PATHS) or scope["method"] == "OPTIONS":
            return await self.app(scope, receive, send)
        if authorized(dict(scope["headers"]).get(b"authorization"), key):
            return await self.app(scope, receive, send)
        body = error_body("missing or wrong API key: send Authorization: Bearer <key>")
        response = JSONResponse(body, 401, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


class Cors:
    """Starlette's CORS middleware once CORS_ORIGINS is known (at startup); none without it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.cors = app, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origins = scope.get("state", {}).get("cors_origins") if scope["type"] == "http" else None
        if not origins:
            return await self.app(scope, receive, send)
        if self.cors is None:
            self.cors = CORSMiddleware(
                self.app,
                allow_origins=origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID", "Retry-After"],
            )
        await self.cors(scope, receive, send)
