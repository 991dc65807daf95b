"""/docs (Swagger UI) and /redoc with their scripts and styles served by the service itself.

FastAPI's own pages load them from a CDN, so they are blank on a machine without internet.
The assets come from the pinned `fastapi-offline` wheel (Swagger UI 5 and ReDoc 2, which
render OpenAPI 3.1 as FastAPI writes it); only its files are used, the app stays ours.
"""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

ASSETS_DIR = files("fastapi_offline") / "static"  # swagger-ui-bundle.js, swagger-ui.css, ...
ASSETS_URL = "/docs/assets"
# The pages may load nothing from another host, so a CDN link (ReDoc's sidebar logo is one)
# fails here as it would offline; the inline scripts and styles are the pages' own.
POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


def install(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Add both pages and their assets; the app must be built with docs_url=redoc_url=None."""
    if app.docs_url or app.redoc_url:
        raise ValueError("build the app with docs_url=None, redoc_url=None")
    assets = Assets(directory=str(ASSETS_DIR))
    assets.mount = Mount(ASSETS_URL, app=assets, name="docs-assets")
    app.router.routes.append(assets.mount)

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_swagger_ui_html(
            openapi_url=root + str(app.openapi_url),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
        return _contained(page)

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_redoc_html(
            openapi_url=root + str(app.openapi_url),
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,  # another CDN
        )
        return _contained(page)


class Assets(StaticFiles):
    """The asset files, labelled with their mount's path for the access log and the metrics
    (a mount sets no route of its own, so they would count as unmatched)."""

    mount: Mount

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.mount
        await super().__call__(scope, receive, send)


def _contained(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = POLICY
    return page


def _root(request: Request) -> str:
    """The prefix a proxy mounts the app under (uvicorn --root-path), so links still resolve."""
    return str(request.scope.get("root_path", "")).rstrip("/")
