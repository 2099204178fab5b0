"""The two web pages (storefront with chat widget, agent console) and their assets."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"
routes = web.RouteTableDef()


@routes.get("/")
async def storefront(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "shop.html")


@routes.get("/console")
async def console(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "console.html")


@routes.get("/healthz")
async def health(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


routes.static("/static", STATIC)
