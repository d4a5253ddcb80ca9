"""Stack-trace parsing and the culprit frame (pure functions, no database)."""

from grouping.fingerprint import FUNCTION, LINE, compute_fingerprint
from grouping.stacktrace import JAVASCRIPT, PYTHON, UNKNOWN, Frame, Stack, parse_stack
from tests.factories import javascript_stack, python_traceback


def test_python_culprit_is_the_innermost_frame():
    stack = parse_stack(python_traceback(file="/srv/app/views.py", line=42, function="handler"))

    assert stack.language == PYTHON
    assert [f.file for f in stack.frames] == ["/srv/app/main.py", "/srv/app/views.py"]
    assert stack.culprit == Frame(file="/srv/app/views.py", line=42, function="handler", in_app=True)


def test_python_library_frames_are_not_the_culprit():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/views.py", line 7, in load\n'
        '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads\n'
        '  File "/srv/app/.venv/lib/python3.11/site-packages/requests/api.py", line 59, in get\n'
        "ValueError: boom\n"
    )

    stack = parse_stack(text)

    assert [f.in_app for f in stack.frames] == [True, False, False]
    assert (stack.culprit.file, stack.culprit.line) == ("/srv/app/views.py", 7)


def test_python_chained_exception_uses_the_last_traceback():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/a.py", line 1, in first\n'
        "KeyError: 'x'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/b.py", line 2, in second\n'
        "ValueError: y\n"
    )

    assert parse_stack(text).culprit.file == "/srv/app/b.py"


def test_javascript_v8_culprit_is_the_first_frame():
    stack = parse_stack(javascript_stack(url="https://x.example/app.js", line=17, column=9))

    assert stack.language == JAVASCRIPT
    assert stack.culprit == Frame(file="https://x.example/app.js", line=17, column=9, function="renderCart")


def test_javascript_query_string_does_not_split_groups():
    a = parse_stack(javascript_stack(url="https://x.example/app.js?v=1"))
    b = parse_stack(javascript_stack(url="https://x.example/app.js?v=2#frag"))

    assert a.culprit.file == b.culprit.file == "https://x.example/app.js"


def test_firefox_and_safari_frames_parse():
    firefox = parse_stack("renderCart@https://x.example/app.js:17:9\n@https://x.example/app.js:120:3\n")
    safari = parse_stack("renderCart@https://x.example/app.js:17:9\nglobal code@https://x.example/app.js:1:1\n")

    assert (firefox.culprit.file, firefox.culprit.line, firefox.culprit.function) == (
        "https://x.example/app.js", 17, "renderCart"
    )
    assert safari.culprit.line == 17


def test_text_without_frames_has_no_culprit():
    assert parse_stack("").culprit is None
    assert parse_stack("just a message, no frames").language == UNKNOWN
    assert parse_stack("Error: mail user@example.com failed").culprit is None


def test_function_strategy_ignores_the_line():
    moved = Stack(PYTHON, (Frame(file="/srv/app/views.py", line=50, function="handler"),))
    original = Stack(PYTHON, (Frame(file="/srv/app/views.py", line=42, function="handler"),))

    assert compute_fingerprint("p", "E", moved, FUNCTION) == compute_fingerprint("p", "E", original, FUNCTION)
    assert compute_fingerprint("p", "E", moved, LINE) != compute_fingerprint("p", "E", original, LINE)


def test_python_windows_standard_library_is_not_in_app():
    text = (
        "Traceback (most recent call last):\n"
        '  File "C:\\app\\views.py", line 12, in view\n'
        '  File "C:\\Python311\\Lib\\json\\__init__.py", line 346, in loads\n'
        "json.decoder.JSONDecodeError: x\n"
    )

    stack = parse_stack(text)

    assert [f.in_app for f in stack.frames] == [True, False]
    assert (stack.culprit.file, stack.culprit.line) == ("C:\\app\\views.py", 12)


def test_python_frames_only_in_libraries_fall_back_to_the_innermost():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/dist-packages/gunicorn/workers/sync.py", line 10, in run\n'
        '  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import\n'
        "ModuleNotFoundError: No module named 'x'\n"
    )

    assert parse_stack(text).culprit.file == "<frozen importlib._bootstrap>"


def test_javascript_extension_native_and_node_modules_frames_are_skipped():
    text = (
        "TypeError: x is not a function\n"
        "    at inject (chrome-extension://abcdefgh/content.js:10:5)\n"
        "    at Array.forEach (<anonymous>)\n"
        "    at native\n"
        "    at Object.request (/srv/app/node_modules/axios/lib/core.js:3:1)\n"
        "    at async handler (/srv/app/routes/users.js:41:7)\n"
    )

    stack = parse_stack(text)

    assert [f.in_app for f in stack.frames] == [False, False, False, False, True]
    assert (stack.culprit.file, stack.culprit.line, stack.culprit.function) == ("/srv/app/routes/users.js", 41, "handler")


def test_javascript_frames_only_in_libraries_fall_back_to_the_innermost():
    text = "Error: x\n    at Object.request (/srv/app/node_modules/axios/lib/core.js:3:1)\n"

    assert parse_stack(text).culprit.file == "/srv/app/node_modules/axios/lib/core.js"


def test_old_internet_explorer_and_opera_stacks_parse_best_effort():
    ie = (
        "TypeError: Unable to get property 'unitPrice' of undefined or null reference\n"
        "   at Anonymous function (https://shop.example.com/static/js/basket.js:63:18)\n"
    )
    opera = "addToCart([arguments not available])@https://shop.example.com:8443/static/js/cart.js:29\n"

    ie_culprit, opera_culprit = parse_stack(ie).culprit, parse_stack(opera).culprit
    assert (ie_culprit.file, ie_culprit.line) == ("https://shop.example.com/static/js/basket.js", 63)
    assert (opera_culprit.file, opera_culprit.line) == ("https://shop.example.com:8443/static/js/cart.js", 29)


def test_webpack_and_file_urls_keep_their_scheme():
    text = "Error\n    at a (webpack://shop/./src/cart.js?1234:5:6)\n    at b (file:///home/me/app/index.js:7:8)\n"

    assert [f.file for f in parse_stack(text).frames] == ["webpack://shop/./src/cart.js", "file:///home/me/app/index.js"]
