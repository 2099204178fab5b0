"""``python -m handoff``: run the service on KEFU_HANDOFF_PORT (default 8080)."""
from __future__ import annotations

import logging

from aiohttp import web

from bot.pii import install_log_masking

from .app import create_app
from .config import load_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()  # shoppers' phones and addresses stay out of the log
    settings = load_settings()
    print(f"kefu handoff: storefront http://127.0.0.1:{settings.port}/  console http://127.0.0.1:{settings.port}/console",
          flush=True)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None)


if __name__ == "__main__":
    main()
