"""Django's WSGI app behind granian's RSGI interface: request bodies arrive in the event loop.

granian's WSGI interface hands the body to a Python thread that blocks until it has arrived,
with no deadline (granian issue #728, closed as won't-fix): a few clients that stop sending
would hold every thread. Here the body is read by a coroutine, at most MAX_BODY_BYTES of it and
within BODY_TIMEOUT seconds, and only a complete request takes one of THREADS threads to run
Django. What was wrong with the body is left for `tracker.limits.RequestBodyMiddleware` to answer,
so that every refusal has the same shape.
"""

import asyncio
import io
import sys
from concurrent.futures import ThreadPoolExecutor

# What the transport found wrong with a body, for RequestBodyMiddleware to answer.
BODY_PROBLEM = "tracker.body_problem"
BODY_TOO_LARGE = "too large"
BODY_TIMED_OUT = "timed out"


class RSGIToWSGI:
    def __init__(self, wsgi_app, *, threads, max_body_bytes, body_timeout):
        self.wsgi_app = wsgi_app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")

    async def __rsgi__(self, scope, protocol):
        if scope.proto != "http":
            return
        environ = self._environ(scope)
        body, problem = await self._read_body(protocol, environ.get("CONTENT_LENGTH"))
        if problem:
            environ[BODY_PROBLEM] = problem
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.pool, self._call, environ)
        protocol.response_bytes(status, headers, content)

    async def _read_body(self, protocol, declared):
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            return b"", BODY_TOO_LARGE
        if declared == "0":
            return b"", None
        parts, size = [], 0
        try:
            async with asyncio.timeout(self.body_timeout):
                async for chunk in protocol:
                    parts.append(chunk)
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        return b"", BODY_TOO_LARGE
        except TimeoutError:
            return b"", BODY_TIMED_OUT
        return b"".join(parts), None

    def _call(self, environ):
        """Run the WSGI app in a request thread and collect its whole answer."""
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers

        chunks = self.wsgi_app(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return answer["status"], answer["headers"], content

    @staticmethod
    def _environ(scope):
        """PEP 3333's environ for an RSGI scope."""
        server_name, _, server_port = scope.server.rpartition(":")
        client_addr, _, client_port = scope.client.rpartition(":")
        environ = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            # WSGI carries the decoded path's bytes as latin-1 text.
            "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_name.strip("[]"),
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_addr.strip("[]"),
            "REMOTE_PORT": client_port,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name in scope.headers.keys():
            if "_" in name:
                continue  # `X_Forwarded_For` must not pass for `X-Forwarded-For`
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
            elif key in environ:
                continue
            environ[key] = ",".join(scope.headers.get_all(name))
        return environ
