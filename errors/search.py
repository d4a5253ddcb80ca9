"""Search of the error list, on either engine: a search's words against each group's exception
type, message, culprit and traceback, and its key:value filters (errors.search_syntax).

The words are looked up in `error_search`, which triggers on `errors` keep in step (migrations
0011 and 0012): an FTS5 table on SQLite, a GIN-indexed tsvector per group on PostgreSQL, each
holding the group's status too. Both index runs of letters and digits, so `charge_card` and `payments.py` are found by `charge` or `payments`;
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

_STATUSES = (UNRESOLVED, RESOLVED, MUTED)
# The FTS5 columns a search's words are looked for in; `state` holds the group's status.
_TEXT_COLUMNS = "{exception_type message culprit_file culprit_function traceback}"
# A status as the search index holds it (None: the default list, all but muted): on SQLite a
# condition on the FTS5 column `state`, on PostgreSQL a tsquery of the `is_` lexemes.
_INDEXED_STATUS = {
    "sqlite": {
        None: "NOT state: muted", UNRESOLVED: "AND state: unresolved",
        RESOLVED: "AND state: resolved", MUTED: "AND state: muted",
    },
    "postgresql": {None: "is_unresolved | is_resolved", UNRESOLVED: "is_unresolved", RESOLVED: "is_resolved",
                   MUTED: "is_muted"},
}

_FILTERS = {
    "project": lambda errors, value: errors.filter(project=value),
    "environment": lambda errors, value: errors.filter(environments__environment=value),
    "release": lambda errors, value: errors.filter(release=value),
    # Once a group has more distinct users than are counted exactly, only sampled ones are kept.
    "user": lambda errors, value: errors.filter(user_hashes__user_hash=user_hash(value)),
}


def search_errors(errors, query):
    """(`errors` narrowed to the groups matching every word and filter of `query`, a
    SearchQuery; whether its words matched more than FEW_MATCHES groups). Its `is:` status is
    left to the caller, who knows the list's default."""
    for key, value in query.filters:
        errors = _FILTERS[key](errors, value)
    phrases = _phrases(query)
    if not phrases:
        return errors, False
    fingerprints = [word.lower() for word in query.words if _FINGERPRINT.fullmatch(word.lower())]
    matching = _matching(phrases, fingerprints)
    return errors.filter(matching), not isinstance(matching, Q)


def count_in_index(query, status):
    """How many groups in `status` (None: all but muted; "all": any) match `query`'s words,
    counted in the search index alone; None when the query has filters or a word that may be
    a fingerprint, which only `errors` can answer. A word in most groups is counted in a few
    milliseconds this way, against tens checking each match against `errors`."""
    phrases = _phrases(query)
    if query.filters or not phrases or any(_FINGERPRINT.fullmatch(word.lower()) for word in query.words):
        return None
    terms, in_status = _terms(phrases), _INDEXED_STATUS[connection.vendor].get(status)
    if connection.vendor == "postgresql":
        matches = "document @@ to_tsquery('simple', %s)"
        if in_status:
            matches = f"document @@ (to_tsquery('simple', %s) && '{in_status}'::tsquery)"
        sql = f"SELECT count(*) FROM error_search WHERE {matches}"
    else:
        if in_status:
            terms = f"{terms} {in_status}"
        sql = "SELECT count(*) FROM error_search WHERE error_search MATCH %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [terms])
        return cursor.fetchone()[0]


def admin_search(errors, search_term):
    """The admin list's search: (the groups found, a warning to show or None). Raises
    search_syntax.SearchSyntaxError for a search to refuse; an `is:` narrows to that status."""
    query = parse_search(search_term)
    errors, _many = search_errors(errors, query)
    if query.status is not None:
        errors = errors.filter(STATUS_FILTERS[query.status])
    return errors, TRUNCATED_WARNING if query.truncated else None


def _phrases(query):
    return [runs for runs in (_RUN.findall(word) for word in query.words) if runs]


def _terms(phrases):
    """The index's query for a group whose text has every phrase, the last one's end as a prefix."""
    if connection.vendor == "postgresql":
        return " & ".join(" <-> ".join(f"'{run}'" for run in runs) for runs in phrases) + ":*"
    quoted = " ".join('"' + " ".join(runs) + '"' for runs in phrases) + "*"
    return f"{_TEXT_COLUMNS}: ({quoted})" if _may_match_a_status(phrases) else quoted


def _may_match_a_status(phrases):
    """Whether a phrase could match the one word of FTS5's `state` column: a single run that
    is a status, or (the last phrase) its start, or not plain ASCII, which the tokenizer folds.
    Only then are the words held to the text columns, which costs a common word ~5 ms."""
    for position, runs in enumerate(phrases, start=1):
        if len(runs) != 1:
            continue
        run = runs[0].lower()
        if not run.isascii():
            return True
        if any(status == run or (position == len(phrases) and status.startswith(run)) for status in _STATUSES):
            return True
    return False


def _matching_ids():
    """The ids of the groups the search index finds for a query (the parameter)."""
    if connection.vendor == "postgresql":
        return "SELECT error_id FROM error_search WHERE document @@ to_tsquery('simple', %s)"
    return "SELECT rowid FROM error_search WHERE error_search MATCH %s"


def _matching(phrases, fingerprints):
    """The condition that a group's indexed text has every phrase, the last one's end as a
    prefix, or that its fingerprint is one of `fingerprints`."""
    terms, ids = _terms(phrases), _matching_ids()
    # On SQLite, `+` keeps the planner from reading each match's row by id, a page of traceback
    # apiece: it walks the index that the list's filters and order use, checking ids against the matches.
    column = "errors.id" if connection.vendor == "postgresql" else "+errors.id"
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
