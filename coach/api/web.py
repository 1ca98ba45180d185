"""The practice web client, served as static files at /app."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# Browsers refuse ES modules served as text/plain, which is what a machine whose MIME table
# lacks .js would send; say it here rather than depend on /etc/mime.types.
mimetypes.add_type("text/javascript", ".js")


async def app_root(request: Request) -> Response:
    """`/app` → `/app/`, so the page's relative module paths resolve."""
    return RedirectResponse("/app/", status_code=308)


async def site_root(request: Request) -> Response:
    """A browser that opens the server's address lands on the practice page (the WebSocket
    shares `/`, but only for WebSocket upgrades)."""
    return RedirectResponse("/app/", status_code=307)


WEB_ROUTES = [
    Route("/", site_root, methods=["GET", "HEAD"]),
    Route("/app", app_root, methods=["GET"]),
    Mount("/app", StaticFiles(directory=WEB_DIR, html=True), name="web"),
]
