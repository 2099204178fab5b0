"""``python -m handoff``: run the service on KEFU_HANDOFF_PORT (default 8080)."""
from __future__ import annotations

import logging

from aiohttp import web

from bot.pii import install_log_masking

from . import drain
from .app import HUB, create_app
from .config import load_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()  # shoppers' phones and addresses stay out of the log
    settings = load_settings()
    print(f"kefu handoff: storefront http://127.0.0.1:{settings.port}/  console http://127.0.0.1:{settings.port}/console",
          flush=True)
    app = create_app(settings)
    drain.install(app, float(settings.limits["shutdown_grace_seconds"]),
                  lambda app: app[HUB].close_sockets(1012, b"service restart"))
    # Draining already waited for the bot's turns; what is left (late replies being stored) is short.
    web.run_app(app, host=settings.host, port=settings.port, access_log=None,
                handle_signals=False, shutdown_timeout=5)


if __name__ == "__main__":
    main()
