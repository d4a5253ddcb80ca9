"""Explicit builders for report bodies, tracebacks and Sentry envelopes used across the tests."""

from sentry_sdk.envelope import Envelope, Item, PayloadRef


def python_traceback(file="/srv/app/views.py", line=42, function="handler", exc="ValueError: invalid input"):
    return (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/main.py", line 10, in main\n'
        "    handler()\n"
        f'  File "{file}", line {line}, in {function}\n'
        "    raise ValueError('invalid input')\n"
        f"{exc}\n"
    )


def javascript_stack(url="https://shop.example.com/static/app.js", line=17, column=9):
    return (
        "TypeError: Cannot read properties of undefined (reading 'id')\n"
        f"    at renderCart ({url}:{line}:{column})\n"
        f"    at onClick ({url}:120:3)\n"
    )


def report(**fields):
    body = {
        "project": "my-app",
        "environment": "prod",
        "exception_type": "ValueError",
        "message": "invalid input",
        "traceback": python_traceback(),
        "request_url": "/api/users",
        "request_method": "POST",
        "request_headers": {"Accept": "application/json"},
        "user_id": "user-42",
        "extra": {"request_id": "abc123"},
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not ...}


def python_event(line=42, **fields):
    """An error event as sentry-python sends it for python_traceback(line=line)."""
    return {
        "event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
        "platform": "python",
        "level": "error",
        "environment": "prod",
        "release": "shop@1.2.0",
        "server_name": "web-1",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "invalid input",
                    "mechanism": {"type": "generic", "handled": True},
                    "stacktrace": {
                        "frames": [
                            {"filename": "main.py", "abs_path": "/srv/app/main.py", "function": "main",
                             "lineno": 10, "context_line": "    handler()", "vars": {"password": "hunter2"}},
                            {"filename": "views.py", "abs_path": "/srv/app/views.py", "function": "handler",
                             "lineno": line, "context_line": "    raise ValueError('invalid input')"},
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": "https://shop.example.com/api/users",
            "method": "POST",
            "query_string": "page=2",
            "headers": {"Accept": "application/json", "Authorization": "Bearer s3cret"},
            "cookies": {"sessionid": "abc"},
            "data": {"card": "4242424242424242"},
        },
        "user": {"id": 42, "email": "a@example.com"},
        "tags": {"region": "eu"},
        "breadcrumbs": {"values": [{"message": "password=hunter2"}]},
        **fields,
    }


def envelope(*events, items=()):
    built = Envelope(headers={"event_id": events[0]["event_id"] if events else None})
    for event in events:
        built.add_event(event)
    for item_type, payload in items:
        built.add_item(Item(payload=PayloadRef(json=payload), type=item_type))
    return built.serialize()


def project_key(project="my-app", origins=(), events_per_minute=None, **project_fields):
    """A project (created if needed) and a new active key of it, as `createproject` makes them."""
    from projects.auth import forget_cached_keys
    from projects.models import Project, ProjectKey

    owner, _ = Project.objects.get_or_create(name=project, defaults=project_fields)
    if project_fields:
        Project.objects.filter(pk=owner.pk).update(**project_fields)
    key = ProjectKey.objects.create(project=owner, allowed_origins=",".join(origins), events_per_minute=events_per_minute)
    forget_cached_keys()
    return key
