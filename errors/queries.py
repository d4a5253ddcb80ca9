"""The API's read side: the list filters of GET /api/errors and the project names.

The admin filters with Django admin's own list_filter and search_fields (errors/admin.py).
"""

from django.db.models import Q

from .models import MUTED, RESOLVED, UNRESOLVED

# `status=all`: every group, muted ones included. Without a status, muted groups are hidden.
ALL = "all"
STATUSES = (UNRESOLVED, RESOLVED, MUTED, ALL)


def with_status(errors, status):
    """Narrow to one status; None is the default list, which hides muted groups."""
    if status == RESOLVED:
        return errors.filter(resolved=True)
    if status == UNRESOLVED:
        return errors.filter(resolved=False, muted=False)
    if status == MUTED:
        return errors.filter(muted=True)
    if status == ALL:
        return errors
    return errors.filter(muted=False)


def filter_errors(errors, *, project=None, environment=None, resolved=None, source=None, search=None, status=None):
    """Narrow a queryset of Error by the API's list filters; None means "any"."""
    if project is not None:
        errors = errors.filter(project=project)
    if environment is not None:
        errors = errors.filter(environments__environment=environment)
    if resolved is not None:
        errors = errors.filter(resolved=resolved)
    if source is not None:
        errors = errors.filter(source=source)
    if search:
        errors = errors.filter(Q(exception_type__icontains=search) | Q(message__icontains=search))
    return with_status(errors, status)


def project_names(errors):
    return list(errors.order_by("project").values_list("project", flat=True).distinct())
