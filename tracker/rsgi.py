"""Django's WSGI app behind granian's RSGI interface: request bodies arrive in the event loop.

granian's WSGI interface hands the body to a Python thread that blocks until it has arrived,
with no deadline (granian issue #728, closed as won't-fix): a few clients that stop sending
would hold every thread. Here the body is read by a coroutine, at most MAX_BODY_BYTES of it and
within BODY_TIMEOUT seconds, and only a complete request takes one of THREADS threads to run
Django. What was wrong with the body is left for `tracker.limits.RequestBodyMiddleware` to answer,
so that every refusal has the same shape.

In a storm of reports, those past `max_queued_reports` waiting for a thread are answered 429
with Retry-After at once, from the event loop: every client hears back within milliseconds, as
SDKs expect (they pause for Retry-After), rather than queueing into their own timeouts, and the
admin or /health, never refused here, waits behind a short queue.
"""

import asyncio
import io
import ipaddress
import json
import logging
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

# What the transport found wrong with a body, for RequestBodyMiddleware to answer.
BODY_PROBLEM = "tracker.body_problem"
BODY_TOO_LARGE = "too large"
BODY_TIMED_OUT = "timed out"
BODY_INCOMPLETE = "incomplete"
TOO_MANY_UNFINISHED = "too many unfinished"
# A body still arriving after this long is a slow one, and counts against its client.
SLOW_BODY_SECONDS = 1.0
# How long a client refused for a full queue is asked to wait, and how often refusals are logged.
SHED_RETRY_AFTER = 1
SHED_LOG_SECONDS = 10.0

logger = logging.getLogger("tracker.rsgi")


class RSGIToWSGI:
    """`unfinished_per_client` bounds the slow bodies (still arriving after SLOW_BODY_SECONDS)
    one client address may be sending at once: a connection costs granian a permit whether or
    not its body ever arrives. Addresses in `trusted_proxies` are exempt (behind a proxy, every
    client has its address)."""

    def __init__(
        self, wsgi_app, *, threads, max_body_bytes, body_timeout, unfinished_per_client, trusted_proxies=(),
        upload_path=None, max_upload_bytes=0, may_upload=None, report_path=None, max_queued_reports=None,
    ):
        self.wsgi_app = wsgi_app
        # Requests handed to the threads and not yet started by one; reports past the bound are shed.
        self.report_path = report_path
        self.max_queued_reports = max_queued_reports
        self.queued = 0
        self._queued_lock = threading.Lock()
        self._shed = _ShedLog()
        self.max_body_bytes = max_body_bytes
        # Source-map chunks are larger than any report: their one route may send more, when
        # `may_upload(Authorization header)` says the request carries a token.
        self.upload_path = upload_path
        self.max_upload_bytes = max_upload_bytes
        self.may_upload = may_upload
        self.body_timeout = body_timeout
        self.unfinished_per_client = unfinished_per_client
        self.trusted_proxies = tuple(trusted_proxies)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")
        # Touched only by the event loop's thread, so no lock.
        self.unfinished = Counter()

    async def __rsgi__(self, scope, protocol):
        if scope.proto != "http":
            return
        environ = self._environ(scope)
        if "CONTENT_LENGTH" in environ or "HTTP_TRANSFER_ENCODING" in environ:
            body, problem = await self._read_body(protocol, environ)
        else:
            body, problem = b"", None
        if problem == TOO_MANY_UNFINISHED:
            detail = f"Too many unfinished requests from this IP (at most {self.unfinished_per_client} at once)."
            headers = [("content-type", "application/json"), ("retry-after", "1"), ("connection", "close")]
            protocol.response_bytes(429, headers, json.dumps({"detail": detail}).encode())
            return
        if problem:
            environ[BODY_PROBLEM] = problem
        elif self._is_shed(environ):
            self._shed.refused(self.max_queued_reports)
            protocol.response_bytes(429, _SHED_HEADERS, _SHED_BODY)
            return
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        loop = asyncio.get_running_loop()
        with self._queued_lock:
            self.queued += 1
        status, headers, content = await loop.run_in_executor(self.pool, self._call, environ)
        protocol.response_bytes(status, headers, content)

    def _is_shed(self, environ):
        """Whether this is a report, and the threads already have a full queue of requests."""
        return (
            self.report_path is not None
            and self.queued >= self.max_queued_reports
            and environ["REQUEST_METHOD"] == "POST"
            and self.report_path.match(environ["PATH_INFO"]) is not None
        )

    def body_cap(self, environ):
        """MAX_BODY_BYTES, or the upload cap for a POST with a token to the upload route."""
        if (
            self.upload_path is not None
            and environ["REQUEST_METHOD"] == "POST"
            and self.upload_path.match(environ["PATH_INFO"])
            and self.may_upload(environ.get("HTTP_AUTHORIZATION", ""))
        ):
            return self.max_upload_bytes
        return self.max_body_bytes

    async def _read_body(self, protocol, environ):
        """(body, problem). A body still arriving after SLOW_BODY_SECONDS counts against its
        client's unfinished ones from then on; past the client's allowance it is given up."""
        cap = self.body_cap(environ)
        declared = environ.get("CONTENT_LENGTH")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            return b"", BODY_TOO_LARGE
        if declared == "0":
            return b"", None
        reading = asyncio.ensure_future(self._collect(protocol, declared, cap))
        try:
            done, _ = await asyncio.wait({reading}, timeout=min(SLOW_BODY_SECONDS, self.body_timeout))
            if done:
                return reading.result()
            client = environ["REMOTE_ADDR"]
            if self._is_trusted_proxy(client):
                return await self._finish(reading, self.body_timeout - SLOW_BODY_SECONDS)
            if self.unfinished[client] >= self.unfinished_per_client:
                return b"", TOO_MANY_UNFINISHED
            self.unfinished[client] += 1
            try:
                return await self._finish(reading, self.body_timeout - SLOW_BODY_SECONDS)
            finally:
                self.unfinished[client] -= 1
                if not self.unfinished[client]:
                    del self.unfinished[client]
        finally:
            reading.cancel()

    @staticmethod
    async def _finish(reading, seconds):
        try:
            return await asyncio.wait_for(asyncio.shield(reading), max(seconds, 0))
        except TimeoutError:
            return b"", BODY_TIMED_OUT

    async def _collect(self, protocol, declared, cap):
        parts, size = [], 0
        async for chunk in protocol:
            parts.append(chunk)
            size += len(chunk)
            if size > cap:
                return b"", BODY_TOO_LARGE
        # granian ends the stream, rather than raising, when the client breaks it off.
        if declared is not None and size != int(declared):
            return b"", BODY_INCOMPLETE
        return b"".join(parts), None

    def _is_trusted_proxy(self, address):
        if not self.trusted_proxies:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)

    def _call(self, environ):
        """Run the WSGI app in a request thread and collect its whole answer."""
        with self._queued_lock:
            self.queued -= 1
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
            "REMOTE_ADDR": _plain_address(client_addr.strip("[]")),
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
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = scope.headers.get(name)  # one value, even if the client repeated it
            else:
                environ[f"HTTP_{key}"] = ",".join(scope.headers.get_all(name))
        return environ


_SHED_BODY = json.dumps(
    {"detail": f"The server is overloaded: too many reports are waiting. Retry after {SHED_RETRY_AFTER} s."}
).encode()
# Readable by the page that sent it, so browser SDKs see the Retry-After too.
_SHED_HEADERS = [
    ("content-type", "application/json"), ("retry-after", str(SHED_RETRY_AFTER)),
    ("access-control-allow-origin", "*"), ("access-control-expose-headers", "retry-after"),
]


class _ShedLog:
    """One warning per SHED_LOG_SECONDS while reports are shed, not one per report: a storm must
    not become a storm of log lines. Touched only by the event loop's thread."""

    def __init__(self):
        self.count = 0
        self.logged_at = None

    def refused(self, bound):
        now = time.monotonic()
        self.count += 1
        if self.logged_at is None or now - self.logged_at >= SHED_LOG_SECONDS:
            logger.warning(
                "overloaded: %d report(s) answered 429 since the last such line, %d already waiting for a thread",
                self.count, bound,
            )
            self.count, self.logged_at = 0, now


def _plain_address(address):
    """An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d; it is a.b.c.d."""
    try:
        mapped = getattr(ipaddress.ip_address(address), "ipv4_mapped", None)
    except ValueError:
        return address
    return str(mapped) if mapped else address
