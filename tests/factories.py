"""Explicit builders for report bodies and tracebacks used across the tests."""


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
