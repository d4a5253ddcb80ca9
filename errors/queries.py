"""The API's read side: the list filters of GET /api/errors and the project names.

The admin filters with Django admin's own list_filter; both search with errors.search.
"""

from .models import MUTED, RESOLVED, UNRESOLVED
from .search import STATUS_FILTERS, count_in_index, search_errors
from .search_syntax import parse_search

# `status=all`: every group, muted ones included. Without a status, muted groups are hidden.
ALL = "all"
STATUSES = (UNRESOLVED, RESOLVED, MUTED, ALL)


def with_status(errors, status):
    """Narrow to one status; None is the default list, which hides muted groups."""
    if status == ALL:
        return errors
    if status is None:
        return errors.filter(muted=False)
    return errors.filter(STATUS_FILTERS[status])


def filter_errors(errors, *, project=None, environment=None, resolved=None, source=None, search=None, status=None):
    """(`errors`, a queryset of Error, narrowed by the API's list filters, how many groups that
    is); None means "any". A status given wins over the search's `is:`, which wins over the
    default list. A search's words matched by many groups, narrowed by nothing but a status,
    are counted in the search index, without reading `errors`."""
    many, query = False, None
    if project is not None:
        errors = errors.filter(project=project)
    if environment is not None:
        errors = errors.filter(environments__environment=environment)
    if resolved is not None:
        errors = errors.filter(resolved=resolved)
    if source is not None:
        errors = errors.filter(source=source)
    if search:
        query = parse_search(search)
        errors, many = search_errors(errors, query)
        status = status or query.status
    errors = with_status(errors, status)
    narrowed = any(value is not None for value in (project, environment, resolved, source))
    total = count_in_index(query, status) if many and not narrowed else None
    return errors, errors.count() if total is None else total


def project_names(errors):
    return list(errors.order_by("project").values_list("project", flat=True).distinct())
