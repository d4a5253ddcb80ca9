"""A message's template: the values in it replaced by placeholders, so that "order 17 failed"
and "order 18 failed" are one group, as in Sentry and Bugsink. Pure: no Django imports.

One compiled alternation, tried left to right at each place; every alternative may start only
where the run it matches starts (a negative look-behind) and repeats possessively, so the scan
is linear in the text.
"""

import ipaddress
import re

_VALUES = re.compile(
    "|".join(
        (
            r"(?P<url>(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]*+://[^\s\"'<>]++)",
            r"(?P<email>(?<![\w.+%-])[\w.+%-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)+)",
            r"(?P<uuid>(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))",
            r"(?P<date>(?<![\w.:-])[0-9]{4}-[0-9]{2}-[0-9]{2}"
            r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]++)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?(?![\w:])"
            r"|(?<![\w.:-])[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]++)?(?![\w:]))",
            r"(?P<ip>(?<![\w.:])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\.?\w)"
            r"|(?<![\w.:])(?=[0-9a-fA-F]{0,4}:[0-9a-fA-F]{0,4}:)[0-9a-fA-F:.]{2,45}+(?![\w:.]))",
            r"(?P<hex>(?<![\w-])0[xX][0-9a-fA-F]++(?!\w)|(?<![\w-])[0-9a-fA-F]{8,}+(?!\w))",
            r"(?P<number>(?<![\w.])-?[0-9]++(?:\.[0-9]++)?(?!\.?\w))",
        )
    )
)

PLACEHOLDERS = ("<url>", "<email>", "<uuid>", "<date>", "<ip>", "<hex>", "<float>", "<int>")


def _placeholder(match):
    kind, text = match.lastgroup, match.group()
    if kind == "ip":
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return text
    elif kind == "hex" and not text.startswith(("0x", "0X")):
        if text.isdigit():
            return "<int>"
        if not any(character.isdigit() for character in text):
            return text  # a word such as "deadbeef" or "acceded", not an id
    elif kind == "number":
        return "<float>" if "." in text else "<int>"
    return f"<{kind}>"


def parameterise(message):
    """`message` with URLs, emails, UUIDs, dates and times, IP addresses, hex ids (0x… or eight or
    more hex digits, at least one a digit) and numbers replaced by <url>, <email>, <uuid>, <date>,
    <ip>, <hex>, <float> and <int>."""
    return _VALUES.sub(_placeholder, message) if message else message
