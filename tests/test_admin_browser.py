"""Triage scenarios in a real headless Chromium (Debian's package) against the real server."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN, RunningTracker, admin_browser_page
from tests.factories import javascript_stack, python_traceback, report

pytestmark = pytest.mark.browser



@pytest.fixture
def server(tmp_path):
    running = RunningTracker(tmp_path, ADMIN).start()
    yield running
    running.stop()


@pytest.fixture
def page(browser, server):
    with admin_browser_page(browser, server) as page:
        yield page


def send(server, **fields):
    response = server.session().post(f"{server.url}/api/errors", json=report(**fields), timeout=5)
    assert response.status_code in (200, 201)
    return response.json()


def rows(page):
    return page.locator("#result_list tbody tr")


def test_login_shows_the_styled_error_list(page, server):
    send(server, message="payment declined", traceback=python_traceback(line=1))
    send(server, project="shop", exception_type="TypeError", message="x is undefined", traceback=javascript_stack())

    page.goto("/admin/errors/error/")

    expect(rows(page)).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("payment declined")
    expect(page.locator("#result_list")).to_contain_text("x is undefined")
    header_color = page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor")
    assert header_color not in ("rgba(0, 0, 0, 0)", "transparent")  # admin CSS served by the app


def test_search_filters_and_bulk_resolve(page, server):
    send(server, project="shop", message="card declined", traceback=python_traceback(line=1))
    send(server, project="shop", message="timeout talking to bank", traceback=python_traceback(line=2))
    send(server, project="blog", message="template missing", traceback=python_traceback(line=3))
    page.goto("/admin/errors/error/")

    page.fill("#searchbar", "timeout talking")
    page.press("#searchbar", "Enter")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("timeout talking to bank")

    page.goto("/admin/errors/error/")
    page.locator("#changelist-filter").get_by_role("link", name="shop", exact=True).click()
    expect(rows(page)).to_have_count(2)

    rows(page).filter(has_text="card declined").locator("input.action-select").check()
    page.select_option("select[name=action]", "resolve_selected")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Resolved 1 error(s).")

    page.locator("#changelist-filter").get_by_role("link", name="Resolved", exact=True).click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("card declined")
    page.locator("#changelist-filter").get_by_role("link", name="Open", exact=True).click()
    expect(rows(page)).to_have_count(1)  # still within project "shop"
    expect(rows(page).first).to_contain_text("timeout talking to bank")


def test_resolve_from_the_page_and_reopen_by_a_new_report(page, server):
    created = send(server, message="stock went negative")
    page.goto(f"/admin/errors/error/{created['id']}/change/")
    expect(page.locator(".field-status")).to_contain_text("Open")

    page.click("#resolve-button")

    expect(page.locator(".messagelist")).to_contain_text("Error resolved.")
    expect(page.locator(".field-status")).to_contain_text("Resolved")
    expect(page.locator(".field-count")).to_contain_text("1")

    send(server, message="stock went negative")
    page.reload()

    expect(page.locator(".field-status")).to_contain_text("Open")
    expect(page.locator(".field-count")).to_contain_text("2")


def test_error_page_shows_newest_five_occurrences_scrubbed(page, server):
    created = send(server, user_id="user-1", request_headers={"Authorization": "Bearer secret-1", "Accept": "text/html"})
    for n in range(2, 8):
        send(server, user_id=f"user-{n}", request_headers={"Authorization": f"Bearer secret-{n}", "Accept": "text/html"})

    page.goto(f"/admin/errors/error/{created['id']}/change/")

    occurrence_rows = page.locator("#occurrences-group tbody tr.has_original")
    expect(occurrence_rows).to_have_count(5)
    users = [text.strip() for text in occurrence_rows.locator("td.field-user_id").all_inner_texts()]
    assert users == ["user-7", "user-6", "user-5", "user-4", "user-3"]
    headers = page.locator("#occurrences-group").inner_text()
    assert '"Authorization": "[Filtered]"' in headers
    assert "secret-" not in headers
    expect(page.locator("mark.culprit")).to_have_text(re.compile(r'File "/srv/app/views.py", line 42, in handler'))
    expect(page.locator(".field-count")).to_contain_text("7")
