"""The API's read side: the list filters of GET /api/errors and the project names.

The admin filters with Django admin's own list_filter and search_fields (errors/admin.py).
"""

from django.db.models import Q


def filter_errors(errors, *, project=None, environment=None, resolved=None, source=None, search=None):
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
    return errors


def project_names(errors):
    return list(errors.order_by("project").values_list("project", flat=True).distinct())
