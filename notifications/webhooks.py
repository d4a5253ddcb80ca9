"""Alerts to a project's channels (projects.models.AlertChannel): the bodies Slack, Discord and
the generic JSON POST take, and the one HTTP POST that sends them, which refuses to reach
private addresses unless WEBHOOK_ALLOWED_HOSTS names them.

Called by the worker in notifications.alerts only, outside any transaction.
"""

import contextvars
import ipaddress
import socket
import threading
from datetime import timezone as dt_timezone
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from errors.models import Alert
from projects.models import AlertChannel

TIMEOUT = 5
# A whole POST, connecting to the end of the answer's head: TIMEOUT bounds each read only, and a
# receiver that trickles its answer a byte at a time would otherwise keep the worker, and every
# alert after it, for as long as it liked.
SEND_DEADLINE = 15
MESSAGE_MAX = 4000
SLACK_TITLE_MAX = 300
SLACK_TEXT_MAX = 3000
CULPRIT_MAX = 1000
# Discord refuses a message over these, or an embed over 6000 characters in all: its title,
# description and fields here stay under that.
DISCORD_CONTENT_MAX = 2000
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
DISCORD_FIELD_MAX = 1024
REFUSAL_SNIPPET = 200

TITLES = dict(Alert.KINDS)
COLORS = {Alert.NEW: 0xD7263D, Alert.REGRESSION: 0xF46036, Alert.UNMUTED: 0x7F8C8D}


# --- bodies (pure) -------------------------------------------------------------------------


def channel_body(channel_kind, kind, error, link, suppressed, sent_at):
    """The body a channel of `channel_kind` is sent for an alert of `kind` about `error`."""
    if channel_kind == AlertChannel.SLACK:
        return slack_body(kind, error, link, suppressed)
    if channel_kind == AlertChannel.DISCORD:
        return discord_body(kind, error, link, suppressed)
    return generic_body(kind, error, link, suppressed, sent_at)


def slack_body(kind, error, link, suppressed):
    """Slack's incoming-webhook body; Mattermost and Rocket.Chat take `text` and `attachments` too."""
    fields = [
        {"title": "Count", "value": str(error.count), "short": True},
        {"title": "Users", "value": str(error.users), "short": True},
    ]
    if culprit := culprit_text(error):
        fields.append({"title": "Culprit", "value": _slack_escape(_cut(culprit, CULPRIT_MAX)), "short": False})
    title = _slack_escape(_cut(headline(error), SLACK_TITLE_MAX))
    attachment = {
        "fallback": title,
        "color": f"#{COLORS[kind]:06x}",
        "title": title,
        "title_link": link,
        "fields": fields,
    }
    if error.message.strip():
        attachment["text"] = _slack_escape(_cut(error.message.strip(), SLACK_TEXT_MAX))
    return {"text": _slack_escape(_summary(kind, error, suppressed)), "attachments": [attachment]}


def discord_body(kind, error, link, suppressed):
    """A Discord webhook's body, within Discord's limits; nobody is pinged, whatever the message says."""
    fields = [
        {"name": "Count", "value": str(error.count), "inline": True},
        {"name": "Users", "value": str(error.users), "inline": True},
    ]
    if culprit := culprit_text(error):
        fields.append({"name": "Culprit", "value": _cut(culprit, DISCORD_FIELD_MAX), "inline": False})
    embed = {
        "title": _cut(headline(error), DISCORD_TITLE_MAX),
        "url": link,
        "color": COLORS[kind],
        "fields": fields,
        "timestamp": _iso(error.last_seen),
    }
    if error.message.strip():
        embed["description"] = _cut(error.message.strip(), DISCORD_DESCRIPTION_MAX)
    return {
        "content": _cut(_summary(kind, error, suppressed), DISCORD_CONTENT_MAX),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def generic_body(kind, error, link, suppressed, sent_at):
    """The generic JSON POST's body, documented field by field in the README (Alert channels)."""
    return {
        "event": kind,
        "error": {
            "id": error.pk,
            "project": error.project,
            "environment": error.environment,
            "exception_type": error.exception_type,
            "message": _cut(error.message, MESSAGE_MAX),
            "count": error.count,
            "users": error.users,
            "first_seen": _iso(error.first_seen),
            "last_seen": _iso(error.last_seen),
            "culprit": error.culprit,
            "status": error.status,
            "url": link,
        },
        "suppressed": suppressed,
        "sent_at": _iso(sent_at),
    }


def headline(error):
    """`Type: first line of the message`: an email's subject, a channel message's title."""
    first_line = (error.message.strip().splitlines() or [""])[0]
    return f"{error.exception_type}: {first_line}" if first_line else error.exception_type


def culprit_text(error):
    if not error.culprit_file:
        return ""
    text = error.culprit_file
    if error.culprit_line is not None:
        text += f":{error.culprit_line}"
    if error.culprit_function:
        text += f" in {error.culprit_function}"
    return text


def _summary(kind, error, suppressed):
    text = f"{TITLES[kind]} in {error.project}/{error.environment}"
    if suppressed:
        were = "alert was" if suppressed == 1 else "alerts were"
        text += f"\n{suppressed} more {were} suppressed by flood control since the last message."
    return text


def _cut(text, limit):
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _slack_escape(text):
    # Slack reads <…> as links and mentions (<!channel>): a report's message must not make them.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _iso(moment):
    return moment.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")


# --- the address guard ---------------------------------------------------------------------


class AddressRefused(Exception):
    """The receiver's address is not public and WEBHOOK_ALLOWED_HOSTS does not name it."""


NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Deprecated site-local IPv6, which `ipaddress` counts as global.
SITE_LOCAL = ipaddress.ip_network("fec0::/10")


def check_address(host, address, allowed_hosts):
    """Raise AddressRefused unless `address`, connected to for `host`, is public or allowed: by
    `host` itself or an address or network (CIDR) in `allowed_hosts`."""
    ip = ipaddress.ip_address(address)
    reached = _reached_ipv4(ip)
    if reached.is_global and not (reached.is_multicast or reached.is_reserved or reached in SITE_LOCAL):
        return
    for entry in allowed_hosts:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:  # a host name
            if entry.lower().rstrip(".") == host.lower().rstrip("."):
                return
        else:
            if ip in network or reached in network:
                return
    named = address if host == address else f"{host} ({address})"
    raise AddressRefused(
        f"refused to send to {named}: a {_address_category(reached)} address, and WEBHOOK_ALLOWED_HOSTS does not allow it"
    )


def _reached_ipv4(ip):
    """The IPv4 address an IPv6 one carries and reaches (mapped, 6to4, NAT64), or `ip` itself."""
    if ip.version == 6:
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip


def _address_category(ip):
    for name in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if ip in SITE_LOCAL:
        return "site-local"
    return "non-public"


def refuse_before_connecting(host, port):
    """Check every address the name resolves to now, so no connection is even opened to a
    private one (which would tell open ports from closed); the connected socket is checked
    again after, against a name that resolves differently the second time."""
    try:
        resolved = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return  # the connection attempt reports it, as requests words it
    for *_family, sockaddr in resolved:
        check_address(host, sockaddr[0], settings.WEBHOOK_ALLOWED_HOSTS)


class _Deadline:
    """Cuts off the connections of one POST once `seconds` have passed, whatever they are
    waiting for: shutting a socket down wakes the read blocked on it, which then fails."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.expired = False
        self._sockets = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def stop(self):
        """Whether the deadline had passed; from now on it never will."""
        self._timer.cancel()
        with self._lock:
            return self.expired

    def watch(self, sock):
        """`sock`, just connected, is cut off at the deadline. A duplicate is kept, since TLS
        detaches the socket it wraps; a shutdown acts on the connection both share."""
        with self._lock:
            self._sockets.append(sock.dup())
            if self.expired:
                self._sockets[-1].shutdown(socket.SHUT_RDWR)

    def _expire(self):
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by its end


# The deadline of the POST this thread is sending, for the connections it opens.
_deadline = contextvars.ContextVar("webhook_deadline", default=None)


class _CheckedConnection:
    """Checks the address the socket really connected to, before a byte is sent (for HTTPS,
    before the handshake): a name that resolves to a private address only when used (DNS
    rebinding) is refused too. The POST's deadline watches it from then on."""

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            check_address(self.host, sock.getpeername()[0], settings.WEBHOOK_ALLOWED_HOSTS)
        except AddressRefused:
            sock.close()
            raise
        deadline = _deadline.get()
        if deadline is not None:
            deadline.watch(sock)
        return sock


class _CheckedHTTPConnection(_CheckedConnection, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


# --- sending -------------------------------------------------------------------------------


def post_json(url, body):
    """POST `body` as JSON to `url`, following no redirect. Raises AddressRefused,
    requests.HTTPError (any answer but 2xx; `.response` has its status and headers) or another
    requests exception; their messages name the host, never the URL, whose path is often the
    webhook's secret. Whatever the receiver does, it returns or raises within SEND_DEADLINE
    seconds of connecting (requests.Timeout)."""
    host = urlsplit(url).hostname or ""
    refuse_before_connecting(host, urlsplit(url).port)
    with requests.Session() as session, _Deadline(SEND_DEADLINE) as deadline:
        # No proxy or .netrc from the environment: the guard must see the receiver itself.
        session.trust_env = False
        session.mount("http://", _CheckedAdapter())
        session.mount("https://", _CheckedAdapter())
        sending = _deadline.set(deadline)
        try:
            _post(session, host, url, body)
        except requests.RequestException:
            if not deadline.stop():
                raise
        finally:
            _deadline.reset(sending)
        # Cut off, an answer's head can still look whole: http.client ends the headers at EOF.
        if deadline.stop():
            raise requests.Timeout(f"{host}: no complete answer within {deadline.seconds} s")


def _post(session, host, url, body):
    try:
        response = session.post(url, json=body, timeout=TIMEOUT, allow_redirects=False, stream=True)
    except requests.RequestException as exc:
        raise type(exc)(f"{host}: {_root_cause(exc)}") from None
    with response:
        if not 200 <= response.status_code < 300:
            raise requests.HTTPError(f"HTTP {response.status_code} from {host}: {_snippet(response)}", response=response)


def _root_cause(exc):
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc


def _snippet(response):
    """The start of a refusal's body: Slack answers `invalid_payload`, Discord a JSON reason."""
    text = next(response.iter_content(REFUSAL_SNIPPET), b"").decode("utf-8", "replace")
    return " ".join(text.split()) or response.reason
