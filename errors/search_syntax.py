"""What a triager types into the search box -> words and key:value filters. Pure: no Django imports.

`release:1.2.0 environment:production user:42 project:shop is:muted "connection reset" Timeo`:
a key is one of KEYS, lower case, followed by a value (quoted if it has spaces); every other
term is a word, a quoted one a phrase, and `KeyError:` is a word too. Errors and databases
apply the words (errors.search); this module only reads the text.
"""

import re
from dataclasses import dataclass

# Each term adds a condition to one query; past these the rest is ignored (`truncated`).
MAX_SEARCH_WORDS = 10
MAX_SEARCH_LENGTH = 200

FILTER_KEYS = ("project", "environment", "release", "user")
# The values of `is:`, as errors.models names a group's status.
STATUSES = ("unresolved", "resolved", "muted")

_TERM = re.compile(
    rf'(?P<key>is|{"|".join(FILTER_KEYS)}):(?:"(?P<quoted>[^"]*)"?|(?P<value>[^\s"]\S*))'
    r'|"(?P<phrase>[^"]*)"?'
    r"|(?P<word>\S+)"
)


class SearchSyntaxError(ValueError):
    """A search that names a filter value no group can have, said in a sentence for the user."""


@dataclass(frozen=True)
class SearchQuery:
    """The words (each matched as a phrase), the (key, value) filters, every one of which a
    group must match, and the status `is:` asked for, if any."""

    words: tuple[str, ...] = ()
    filters: tuple[tuple[str, str], ...] = ()
    status: str | None = None
    # More than MAX_SEARCH_WORDS terms or MAX_SEARCH_LENGTH characters were given.
    truncated: bool = False


def parse_search(text):
    """Read a search; raises SearchSyntaxError for an unknown `is:` value, or two different ones."""
    # PostgreSQL text cannot hold NUL: it separates terms like a space.
    cut = text[:MAX_SEARCH_LENGTH].replace("\x00", " ")
    terms = list(_TERM.finditer(cut))
    words, filters, statuses = [], [], []
    for term in terms[:MAX_SEARCH_WORDS]:
        if term["key"] is None:
            words.append(term["word"] if term["phrase"] is None else term["phrase"])
            continue
        value = term["value"] if term["quoted"] is None else term["quoted"]
        if term["key"] != "is":
            filters.append((term["key"], value))
        elif value in STATUSES:
            statuses.append(value)
        else:
            raise SearchSyntaxError(f'Unknown status "is:{value}": use is:unresolved, is:resolved or is:muted.')
    if len(set(statuses)) > 1:
        raise SearchSyntaxError(f"A group has one status: give one of {', '.join(f'is:{s}' for s in dict.fromkeys(statuses))}.")
    return SearchQuery(
        words=tuple(words),
        filters=tuple(filters),
        status=statuses[0] if statuses else None,
        truncated=len(terms) > MAX_SEARCH_WORDS or len(text) > MAX_SEARCH_LENGTH,
    )
