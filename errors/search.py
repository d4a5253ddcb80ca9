"""Search of the error list, on either engine: a search's words against each group's exception
type, message, culprit and traceback, and its key:value filters (errors.search_syntax).

The words are looked up in `error_search`, which triggers on `errors` keep in step (migration
0011): an FTS5 table on SQLite, a GIN-indexed tsvector per group on PostgreSQL. Both index runs
of letters and digits, so `charge_card` and `payments.py` are found by `charge` or `payments`;
each word matches as a phrase of its runs, and the last word as a prefix, since people type
it. Only runs of letters and digits reach the database, each quoted: no text can be an FTS5 or
tsquery operator.
"""

import re

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from .models import MUTED, RESOLVED, UNRESOLVED
from .search_syntax import MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, parse_search
from .userhash import user_hash

# What each status is as a filter: a search's `is:` and the list's `status=` (queries.with_status).
STATUS_FILTERS = {RESOLVED: Q(resolved=True), UNRESOLVED: Q(resolved=False, muted=False), MUTED: Q(muted=True)}

TRUNCATED_WARNING = (
    f"Search uses the first {MAX_SEARCH_WORDS} words and {MAX_SEARCH_LENGTH} characters; the rest was ignored."
)

# Up to this many matches, a search looks its groups up by id (_few_matches).
FEW_MATCHES = 1000

_RUN = re.compile(r"[^\W_]+")
# A word this shape may be a group's fingerprint (MD5, or SHA-1 as other trackers print them).
_FINGERPRINT = re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}")

_FILTERS = {
    "project": lambda errors, value: errors.filter(project=value),
    "environment": lambda errors, value: errors.filter(environments__environment=value),
    "release": lambda errors, value: errors.filter(release=value),
    # Once a group has more distinct users than are counted exactly, only sampled ones are kept.
    "user": lambda errors, value: errors.filter(user_hashes__user_hash=user_hash(value)),
}


def search_errors(errors, query):
    """`errors` narrowed to the groups matching every word and filter of `query` (a
    SearchQuery); its `is:` status is left to the caller, who knows the list's default."""
    for key, value in query.filters:
        errors = _FILTERS[key](errors, value)
    phrases = [runs for runs in (_RUN.findall(word) for word in query.words) if runs]
    if not phrases:
        return errors
    fingerprints = [word.lower() for word in query.words if _FINGERPRINT.fullmatch(word.lower())]
    return errors.filter(_matching(phrases, fingerprints))


def admin_search(errors, search_term):
    """The admin list's search: (the groups found, a warning to show or None). Raises
    search_syntax.SearchSyntaxError for a search to refuse; an `is:` narrows to that status."""
    query = parse_search(search_term)
    errors = search_errors(errors, query)
    if query.status is not None:
        errors = errors.filter(STATUS_FILTERS[query.status])
    return errors, TRUNCATED_WARNING if query.truncated else None


def _matching(phrases, fingerprints):
    """The condition that a group's indexed text has every phrase, the last one's end as a
    prefix, or that its fingerprint is one of `fingerprints`."""
    if connection.vendor == "postgresql":
        terms = " & ".join(" <-> ".join(f"'{run}'" for run in runs) for runs in phrases) + ":*"
        ids = "SELECT error_id FROM error_search WHERE document @@ to_tsquery('simple', %s)"
        column = "errors.id"
    else:
        terms = " ".join(f'"{" ".join(runs)}"' for runs in phrases) + "*"
        ids = "SELECT rowid FROM error_search WHERE error_search MATCH %s"
        # `+` keeps SQLite from reading each match's row by id, a page of traceback apiece: it
        # walks the index that the list's filters and order use, checking ids against the matches.
        column = "+errors.id"
    if fingerprints:
        ids += f" UNION SELECT id FROM errors WHERE fingerprint IN ({', '.join(['%s'] * len(fingerprints))})"
    params = [terms, *fingerprints]
    few = _few_matches(ids, params)
    if few is not None:
        return Q(pk__in=few)
    return RawSQL(f"{column} IN ({ids})", params, output_field=BooleanField())


def _few_matches(ids, params):
    """The matching ids when there are at most FEW_MATCHES, else None. Few ids are looked up by
    primary key (a millisecond or two); for many, walking the list's own index and checking
    each id against the matches is cheaper than reading every match's row."""
    with connection.cursor() as cursor:
        cursor.execute(f"{ids} LIMIT {FEW_MATCHES + 1}", params)
        found = [row[0] for row in cursor.fetchall()]
    return found if len(found) <= FEW_MATCHES else None
