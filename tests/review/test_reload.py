"""``python -m bot.reload`` against a stand-in Rasa API, and against the real server (slow)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bot.reload import main, reload_model


class FakeRasaApi(BaseHTTPRequestHandler):
    calls: list = []

    def do_PUT(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRasaApi.calls.append(("PUT", self.path, body))
        if "token=right" not in self.path:
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b'{"message": "User is not authenticated."}')
            return
        self.send_response(204)
        self.end_headers()

    def do_GET(self):  # noqa: N802
        FakeRasaApi.calls.append(("GET", self.path, None))
        payload = json.dumps({"model_file": "kefu.tar.gz", "model_id": "abc123"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_api():
    server = HTTPServer(("127.0.0.1", 0), FakeRasaApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeRasaApi.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_reload_puts_the_model_path_with_the_token(fake_api, tmp_path, capsys):
    model = tmp_path / "kefu.tar.gz"
    model.write_bytes(b"model")
    assert main([str(model), "--rasa-url", fake_api, "--token", "right"]) == 0
    method, path, body = FakeRasaApi.calls[0]
    assert method == "PUT" and path == "/model?token=right" and body == {"model_file": str(model.resolve())}
    assert "model id abc123" in capsys.readouterr().out
    assert main([str(model), "--rasa-url", fake_api, "--token", "wrong"]) == 1
    assert "HTTP 401" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.tar.gz"), "--rasa-url", fake_api]) == 1


@pytest.mark.slow
def test_running_rasa_switches_model_without_restart(rasa_stack, trained_model):
    import urllib.request

    before = json.load(urllib.request.urlopen(f"{rasa_stack.rasa_url}/status?token={rasa_stack.rasa_token}"))
    status = reload_model(trained_model, rasa_stack.rasa_url, rasa_stack.rasa_token)
    assert status["model_id"] == before["model_id"] and status["model_file"]
    reply = urllib.request.urlopen(urllib.request.Request(
        f"{rasa_stack.rasa_url}/webhooks/rest/webhook", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"sender": "reload-check", "message": "你好"}).encode()), timeout=60)
    assert json.load(reply)  # the reloaded model answers
