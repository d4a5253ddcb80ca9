"""Secret filtering of request headers, extra metadata and URLs. Pure: no Django imports.

Names are compared case-insensitively with `-`, `_` and spaces removed, so `X-API-Key`,
`x_api_key` and `API Key` are one name.
"""

from urllib.parse import unquote_plus

FILTERED = "[Filtered]"

# A name is secret when its normalised form contains one of these.
DEFAULT_SECRET_PARTS = (
    "authorization",  # Authorization, Proxy-Authorization
    "cookie",  # Cookie, Set-Cookie
    "apikey",  # X-API-Key, api_key, apikey
    "password",
    "passwd",
    "secret",
    "token",
    "session",
    "csrf",
    "creditcard",
    "cardnumber",
)


def _normalise(name):
    return "".join(ch for ch in str(name).lower() if ch not in "-_ ")


class Scrubber:
    def __init__(self, extra_names=()):
        self.parts = DEFAULT_SECRET_PARTS + tuple(_normalise(n) for n in extra_names if n.strip())

    def is_secret(self, name):
        normalised = _normalise(name)
        return any(part in normalised for part in self.parts)

    def scrub_mapping(self, value):
        """A copy of a JSON value with every secret-named key's value replaced, at any depth."""
        if isinstance(value, dict):
            return {
                key: FILTERED if self.is_secret(key) else self.scrub_mapping(item) for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.scrub_mapping(item) for item in value]
        return value

    def scrub_url(self, url):
        """Filter secret query parameters' values and any password in the URL's user info."""
        if not url:
            return url
        base, hash_mark, fragment = url.partition("#")
        path, question_mark, query = base.partition("?")
        path = self._scrub_userinfo(path)
        if query:
            query = "&".join(self._scrub_pair(pair) for pair in query.split("&"))
        return path + question_mark + query + hash_mark + fragment

    def _scrub_pair(self, pair):
        name, equals, _value = pair.partition("=")
        if equals and self.is_secret(unquote_plus(name)):
            return f"{name}={FILTERED}"
        return pair

    @staticmethod
    def _scrub_userinfo(path):
        scheme, sep, rest = path.partition("://")
        if not sep:
            return path
        authority, slash, remainder = rest.partition("/")
        userinfo, at, host = authority.rpartition("@")
        if not at or ":" not in userinfo:
            return path
        user = userinfo.split(":", 1)[0]
        return f"{scheme}://{user}:{FILTERED}@{host}{slash}{remainder}"
