"""A local HTTP server that speaks Postmark's `POST /email`, for the real postmarker client."""

import json
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUIRED = ("From", "To", "Subject")


class FakePostmark:
    """Accepts, refuses or fails sends as `mode` says; keeps every accepted message.

    mode: "ok", "500" (server error without a JSON body), "422" (Postmark's JSON error),
    "proxy" (a 502 whose JSON is a proxy's, not Postmark's) or "slow" (accepts after 1 second).
    """

    def __init__(self, token):
        self.token = token
        self.mode = "ok"
        self.messages = []
        self.requests = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with fake.lock:
                    fake.requests += 1
                    mode = fake.mode
                if self.path != "/email":
                    return self._answer(404, {"ErrorCode": 404, "Message": "Not found"})
                if self.headers.get("X-Postmark-Server-Token") != fake.token:
                    return self._answer(401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."})
                if mode == "slow":
                    time.sleep(1)
                if mode == "500":
                    return self._answer(500, None)
                if mode == "proxy":
                    return self._answer(502, {"error": "upstream connect error"})
                if mode == "422":
                    return self._answer(422, {"ErrorCode": 406, "Message": "You tried to send to a recipient that has been marked as inactive."})
                try:
                    message = json.loads(body)
                except ValueError:
                    return self._answer(422, {"ErrorCode": 402, "Message": "Invalid JSON"})
                missing = [field for field in REQUIRED if not message.get(field)]
                if missing or not (message.get("TextBody") or message.get("HtmlBody")):
                    return self._answer(422, {"ErrorCode": 300, "Message": f"Invalid email request: {missing or 'no body'}"})
                with fake.lock:
                    fake.messages.append(message)
                self._answer(200, {
                    "To": message["To"],
                    "SubmittedAt": datetime.now(timezone.utc).isoformat(),
                    "MessageID": str(uuid.uuid4()),
                    "ErrorCode": 0,
                    "Message": "OK",
                })

            def _answer(self, status, payload):
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if payload is not None else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler
