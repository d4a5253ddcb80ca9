"""Cross-origin reports: a page's origin is allowed where some active project key names it.

A preflight carries no key, so it is answered for any key's origins; the report itself is then
checked against its own key's (ingest.pipeline.check_origin).
"""

import re

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.dispatch import receiver

from .auth import all_allowed_origins

_REPORT_ROUTES = re.compile(settings.CORS_URLS_REGEX)


@receiver(check_request_enabled)
def origin_of_some_key(sender, request, **kwargs):
    origin = request.headers.get("Origin")
    if not origin or not _REPORT_ROUTES.match(request.path_info):
        return False
    origins = all_allowed_origins()
    return "*" in origins or origin in origins
