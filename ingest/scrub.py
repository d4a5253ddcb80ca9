"""Secret filtering of request headers, extra metadata and URLs. Pure: no Django imports.

Names are compared case-insensitively with everything but letters and digits removed, so
`X-API-Key`, `x_api_key` and `API Key` are one name.
"""

import functools
import re
from urllib.parse import quote, unquote_plus

FILTERED = "[Filtered]"

# A name is secret when its normalised form contains one of these: sentry-sdk's default
# denylist (the floor), then names its list misses that real apps use.
SENTRY_SDK_DENYLIST = (
    "password", "passwd", "secret", "api_key", "apikey", "auth", "credentials", "mysql_pwd", "privatekey",
    "private_key", "token", "session", "csrftoken", "sessionid", "x_csrftoken", "x_forwarded_for", "set_cookie",
    "cookie", "authorization", "proxy-authorization", "x_api_key", "aiohttp_session", "connect.sid", "csrf_token",
    "csrf", "_csrf", "_csrf_token", "PHPSESSID", "_session", "symfony", "user_session", "_xsrf", "XSRF-TOKEN",
)
MORE_SECRET_NAMES = (
    "authorisation", "pwd", "passphrase", "accesskey", "access_key", "jwt", "bearer", "signature", "creditcard",
    "cardnumber", "cvv",
)


def _normalise(name):
    """Lower case with everything but letters and digits removed: `X-API-Key` is `xapikey`."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


DEFAULT_SECRET_PARTS = tuple(dict.fromkeys(_normalise(name) for name in SENTRY_SDK_DENYLIST + MORE_SECRET_NAMES))

# `&` and `;` both separate query parameters (the HTML 4 spec allows `;`, and servers accept it).
_PARAMETER_SEPARATOR = re.compile(r"([&;])")
# URLs inside query values are scrubbed too, this many levels deep; deeper ones are filtered.
_NESTED_URL_DEPTH = 3


# Names a process remembers the verdict on: headers and extra keys repeat from report to report.
# Longer names are judged each time, so the memory stays small whatever clients send.
_NAMES_REMEMBERED = 4096
_LONGEST_REMEMBERED = 256


class Scrubber:
    def __init__(self, extra_names=()):
        self.parts = DEFAULT_SECRET_PARTS + tuple(_normalise(n) for n in extra_names if _normalise(n))
        self._secret_part = re.compile("|".join(re.escape(part) for part in self.parts))
        self._remembered = functools.lru_cache(maxsize=_NAMES_REMEMBERED)(self._judge)

    def is_secret(self, name):
        if isinstance(name, str) and len(name) <= _LONGEST_REMEMBERED:
            return self._remembered(name)
        return self._judge(name)

    def _judge(self, name):
        return self._secret_part.search(_normalise(name)) is not None

    def scrub_mapping(self, value):
        """A copy of a JSON value with secrets replaced, at any depth: the value of every
        secret-named key or `[name, value]` pair, and secrets inside URL strings."""
        if isinstance(value, dict):
            return {
                key: FILTERED if self.is_secret(key) else self.scrub_mapping(item) for key, item in value.items()
            }
        if isinstance(value, list):
            if len(value) == 2 and isinstance(value[0], str) and self.is_secret(value[0]):
                return [value[0], FILTERED]
            return [self.scrub_mapping(item) for item in value]
        if isinstance(value, str) and "://" in value:
            return self.scrub_url(value)
        return value

    def scrub_url(self, url, depth=0):
        """Filter user info, secret-named query and fragment parameters, and URLs inside values."""
        if not url:
            return url
        base, hash_mark, fragment = url.partition("#")
        path, question_mark, query = base.partition("?")
        path = self._scrub_userinfo(path)
        if query:
            query = self._scrub_parameters(query, depth)
        if "=" in fragment:  # e.g. #access_token=… from an OAuth redirect
            fragment = self._scrub_parameters(fragment, depth)
        return path + question_mark + query + hash_mark + fragment

    def _scrub_parameters(self, text, depth):
        return "".join(
            part if part in "&;" else self._scrub_pair(part, depth) for part in _PARAMETER_SEPARATOR.split(text)
        )

    def _scrub_pair(self, pair, depth):
        name, equals, value = pair.partition("=")
        if not equals:
            return pair
        if self.is_secret(unquote_plus(name)):
            return f"{name}={FILTERED}"
        decoded = unquote_plus(value)
        if "://" not in decoded and "?" not in decoded:
            return pair
        if depth >= _NESTED_URL_DEPTH:
            return f"{name}={FILTERED}"
        scrubbed = self.scrub_url(decoded, depth + 1)
        return pair if scrubbed == decoded else f"{name}={quote(scrubbed, safe=':/?&=;@[]')}"

    @staticmethod
    def _scrub_userinfo(path):
        """`user:password@` keeps the user; a lone `token@` is all secret."""
        scheme, sep, rest = path.partition("://")
        if not sep:
            return path
        authority, slash, remainder = rest.partition("/")
        userinfo, at, host = authority.rpartition("@")
        if not at:
            return path
        user, colon, _password = userinfo.partition(":")
        kept = f"{user}:{FILTERED}" if colon else FILTERED
        return f"{scheme}://{kept}@{host}{slash}{remainder}"
