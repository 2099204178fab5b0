"""``python -m bot.reload``: make the running Rasa server switch to a newly trained model.

After ``rasa train`` (``make train``) the server keeps serving the old model
until told otherwise. This calls Rasa's HTTP API ``PUT /model`` (server
started with ``--enable-api --auth-token``), which loads the archive and swaps
it in; conversations, the action server and the handoff service carry on
untouched (trackers live in the tracker store, not in the model). The path is
read by the Rasa server, so it must be valid on the Rasa server's machine.

Environment: KEFU_RASA_URL (default http://127.0.0.1:5005), KEFU_RASA_TOKEN
(default dev-rasa-token).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Optional

DEFAULT_MODEL = Path("models/kefu.tar.gz")


def _request(method: str, url: str, body: Optional[dict], timeout: float) -> tuple[int, bytes]:
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def reload_model(model: Path, rasa_url: str, token: str, timeout: float = 300.0) -> dict:
    """Load ``model`` into the running server; returns its /status (with the new model's fingerprint)."""
    base = rasa_url.rstrip("/")
    query = urllib.parse.urlencode({"token": token})
    status, body = _request("PUT", f"{base}/model?{query}", {"model_file": str(model.resolve())}, timeout)
    if status != 204:
        raise RuntimeError(f"Rasa refused the model (HTTP {status}): {body.decode('utf-8', 'replace')[:500]}")
    status, body = _request("GET", f"{base}/status?{query}", None, 30)
    if status != 200:
        raise RuntimeError(f"Rasa /status answered HTTP {status}")
    return json.loads(body)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.reload", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL, help="model archive (default models/kefu.tar.gz)")
    parser.add_argument("--rasa-url", default=os.environ.get("KEFU_RASA_URL", "http://127.0.0.1:5005"))
    parser.add_argument("--token", default=os.environ.get("KEFU_RASA_TOKEN", "dev-rasa-token"))
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"No model at {args.model}: run `make train` first.", file=sys.stderr)
        return 1
    started = time.monotonic()
    try:
        status = reload_model(args.model, args.rasa_url, args.token)
    except (OSError, RuntimeError, ValueError) as error:
        print(f"Could not reload the model at {args.rasa_url}: {error}", file=sys.stderr)
        return 1
    print(f"Rasa at {args.rasa_url} now serves {status.get('model_file')} "
          f"(model id {status.get('model_id')}), loaded in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
