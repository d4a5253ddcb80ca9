"""The admin triage screens through Django's test client (the browser scenarios are in
test_admin_browser.py)."""

import subprocess
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from errors.models import Error
from tests.conftest import ERROR_TRACKER, clean_env
from tests.factories import javascript_stack, python_traceback, report

LIST = "/admin/errors/error/"


@pytest.fixture
def admin_client(client, db):
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def send(api, **fields):
    return api.post("/api/errors", report(**fields), format="json").json()


def test_list_shows_triage_columns(api, admin_client):
    send(api, message="first line of the message\nsecond line")
    Error.objects.update(last_seen=timezone.now() - timedelta(minutes=3))
    page = admin_client.get(LIST).content.decode()

    for text in ["ValueError", "first line of the message", "my-app", "prod", "backend", "3\xa0minutes ago", "Open"]:
        assert text in page, text
    assert "second line" not in page


def test_search_finds_by_message_fingerprint_and_culprit_file(api, admin_client):
    a = send(api, message="disk quota exceeded", traceback=python_traceback(file="/srv/app/storage.py", line=3))
    send(api, message="unrelated", traceback=python_traceback(line=4))

    assert admin_client.get(LIST, {"q": "quota"}).context["cl"].result_count == 1
    assert admin_client.get(LIST, {"q": a["fingerprint"]}).context["cl"].result_count == 1
    assert admin_client.get(LIST, {"q": "storage.py"}).context["cl"].result_count == 1


def test_filters_by_project_source_status_and_last_seen(api, admin_client):
    send(api, project="shop", traceback=python_traceback(line=1))
    resolved = send(api, project="blog", traceback=python_traceback(line=2))
    send(api, project="blog", exception_type="TypeError", traceback=javascript_stack())
    api.post(f"/api/errors/{resolved['id']}/resolve")
    Error.objects.filter(project="shop").update(last_seen="2020-01-01T00:00:00Z")

    def count(**query):
        return admin_client.get(LIST, query).context["cl"].result_count

    assert count(project="blog") == 2
    assert count(source="browser") == 1
    assert count(status="resolved") == 1
    assert count(status="open") == 2
    assert count(seen="7d") == 2
    assert count(seen="today") == 2


def test_bulk_actions_resolve_and_reopen(api, admin_client):
    ids = [send(api, traceback=python_traceback(line=n))["id"] for n in (1, 2, 3)]

    admin_client.post(LIST, {"action": "resolve_selected", "_selected_action": ids[:2]})
    assert sorted(Error.objects.filter(resolved=True).values_list("id", flat=True)) == ids[:2]

    admin_client.post(LIST, {"action": "reopen_selected", "_selected_action": ids[:1]})
    assert list(Error.objects.filter(resolved=True).values_list("id", flat=True)) == ids[1:2]


def test_error_page_is_read_only_with_highlighted_culprit_and_buttons(api, admin_client):
    error_id = send(api, request_headers={"Authorization": "Bearer x", "Accept": "text/html"})["id"]
    page = admin_client.get(f"{LIST}{error_id}/change/").content.decode()

    assert '<mark class="culprit">  File &quot;/srv/app/views.py&quot;, line 42, in handler</mark>' in page
    assert 'id="resolve-button"' in page
    assert 'name="_save"' not in page
    assert "&quot;Authorization&quot;: &quot;[Filtered]&quot;" in page
    form = page.split('id="error_form"')[1].split("</form>")[0]
    assert "<textarea" not in form
    assert 'type="text"' not in form


def test_resolve_and_reopen_buttons(api, admin_client):
    error_id = send(api)["id"]

    response = admin_client.post(f"{LIST}{error_id}/resolve/")
    assert response.status_code == 302
    assert Error.objects.get(pk=error_id).resolved is True
    admin_client.post(f"{LIST}{error_id}/reopen/")
    assert Error.objects.get(pk=error_id).resolved is False
    assert admin_client.get(f"{LIST}{error_id}/resolve/").status_code == 405


def test_resolve_in_a_release_and_in_the_next_release_from_the_error_page(api, admin_client):
    error_id = send(api, release="2.0.0")["id"]
    page = admin_client.get(f"{LIST}{error_id}/change/").content.decode()
    assert 'id="resolve-in-release-button"' in page and 'id="resolve-next-release-button"' in page

    admin_client.post(f"{LIST}{error_id}/resolve/", {"in_release": "2.0.1"})
    error = Error.objects.get(pk=error_id)
    assert (error.resolved, error.resolved_in_release, error.resolved_in_next_release) == (True, "2.0.1", False)
    assert "Resolved in 2.0.1" in admin_client.get(LIST).content.decode()

    admin_client.post(f"{LIST}{error_id}/reopen/")
    admin_client.post(f"{LIST}{error_id}/resolve/", {"in_next_release": "1"})
    error = Error.objects.get(pk=error_id)
    assert (error.resolved, error.resolved_in_release, error.resolved_in_next_release) == (True, "2.0.0", True)
    send(api, release="2.0.0")
    assert Error.objects.get(pk=error_id).resolved is True
    send(api, release="2.1.0")
    assert Error.objects.get(pk=error_id).resolved is False


def test_bulk_resolve_in_the_next_release_skips_projects_without_releases(api, admin_client):
    with_release = send(api, release="1.4.0")["id"]
    without = send(api, project="blog", release="")["id"]

    response = admin_client.post(
        LIST, {"action": "resolve_selected_in_next_release", "_selected_action": [with_release, without]}, follow=True
    )

    assert Error.objects.get(pk=with_release).resolved_in_release == "1.4.0"
    assert Error.objects.get(pk=without).resolved is False
    assert "no report of blog has named a release yet" in response.content.decode()


def test_no_add_and_no_occurrence_menu(admin_client):
    assert admin_client.get(f"{LIST}add/").status_code == 403
    index = admin_client.get("/admin/").content.decode()
    assert "/admin/errors/error/" in index
    assert "/admin/errors/occurrence/" not in index


def test_only_superusers_may_delete(api, client, db):
    error_id = send(api)["id"]
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_error", "change_error", "delete_error"]))
    client.force_login(staff)

    assert client.get(f"{LIST}{error_id}/delete/").status_code == 403
    assert client.post(f"{LIST}{error_id}/resolve/").status_code == 302
    assert Error.objects.get(pk=error_id).resolved is True


def test_superuser_can_delete_a_group(api, admin_client):
    error_id = send(api)["id"]

    admin_client.post(f"{LIST}{error_id}/delete/", {"post": "yes"})

    assert not Error.objects.filter(pk=error_id).exists()


def test_list_query_count_does_not_grow_with_rows(api, admin_client):
    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(LIST).status_code == 200
        return len(captured)

    for n in range(20):
        send(api, traceback=python_traceback(line=n))
    with_20 = queries_for_list()
    for n in range(20, 200):
        send(api, traceback=python_traceback(line=n))
    with_200 = queries_for_list()

    assert with_200 == with_20
    assert with_200 <= 12


def test_failed_logins_are_limited_per_ip(client, db, one_rate_limit_window):
    User.objects.create_superuser("root", "root@example.com", "right-password")
    statuses = [
        client.post("/admin/login/", {"username": "root", "password": f"wrong-{n}"}).status_code for n in range(11)
    ]

    assert statuses == [200] * 10 + [429]
    blocked = client.post("/admin/login/", {"username": "root", "password": "right-password"})
    assert blocked.status_code == 429
    assert "Too many login attempts" in blocked.content.decode()
    assert int(blocked["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "public_url, secure", [("https://errors.example.com", "True True"), ("http://localhost:5010", "False False")]
)
def test_cookies_are_secure_behind_https(tmp_path, public_url, secure):
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    env = clean_env(API_KEY="k", DATABASE_PATH=str(tmp_path / "errors.db"), PUBLIC_URL=public_url)

    result = subprocess.run([str(ERROR_TRACKER), "shell", "-c", code], env=env, capture_output=True, text=True, timeout=60)

    assert result.stdout.strip().splitlines()[-1] == secure, result.stderr


def test_bulk_actions_need_the_change_permission_and_are_recorded(api, client, db):
    from django.contrib.admin.models import LogEntry

    ids = [send(api, traceback=python_traceback(line=n))["id"] for n in (1, 2)]
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_error"))
    client.force_login(viewer)

    page = client.get(LIST).content.decode()
    client.post(LIST, {"action": "resolve_selected", "_selected_action": ids})

    assert "resolve_selected" not in page
    assert not Error.objects.filter(resolved=True).exists()

    editor = User.objects.create_user("editor", password="pw", is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(codename__in=["view_error", "change_error"]))
    client.force_login(editor)
    client.post(LIST, {"action": "resolve_selected", "_selected_action": ids})

    assert Error.objects.filter(resolved=True).count() == 2
    entries = LogEntry.objects.filter(user=editor).order_by("object_id")
    assert [(int(e.object_id), e.get_change_message()) for e in entries] == [(ids[0], "Resolved."), (ids[1], "Resolved.")]


def test_the_resolve_button_is_recorded_with_who_pressed_it(api, admin_client):
    from django.contrib.admin.models import LogEntry

    error_id = send(api)["id"]
    admin_client.post(f"{LIST}{error_id}/resolve/")
    admin_client.post(f"{LIST}{error_id}/reopen/")

    history = admin_client.get(f"{LIST}{error_id}/history/").content.decode()
    assert [e.get_change_message() for e in LogEntry.objects.order_by("id")] == ["Resolved.", "Reopened."]
    assert "Resolved." in history and "root" in history


@pytest.mark.parametrize("query", [{"message__regex": "(x+x+)+y"}, {"traceback__contains": "x"}, {"count__gt": "1"}])
def test_the_list_refuses_lookups_that_are_not_its_filters(api, admin_client, query):
    send(api)

    assert admin_client.get(LIST, query).status_code == 400


def test_a_search_of_many_words_uses_the_first_ten_and_says_so(api, admin_client):
    send(api, message="invalid input")

    response = admin_client.get(LIST, {"q": "invalid " * 1200})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert "Search uses the first 10 words" in response.content.decode()


def test_the_environment_filter_lists_every_environment_a_group_was_seen_in(api, admin_client):
    send(api, environment="staging")
    send(api, environment="production")

    page = admin_client.get(LIST).content.decode()

    assert "?environment=staging" in page and "?environment=production" in page
    assert admin_client.get(LIST, {"environment": "staging"}).context["cl"].result_count == 1
    assert admin_client.get(LIST, {"environment": "dev"}).context["cl"].result_count == 0


def test_the_status_filter_hides_muted_groups_unless_asked(api, admin_client):
    muted = send(api, traceback=python_traceback(line=1))
    send(api, traceback=python_traceback(line=2))
    Error.objects.filter(pk=muted["id"]).mute()

    def count(**query):
        return admin_client.get(LIST, query).context["cl"].result_count

    assert count() == 1
    assert count(status="open") == 1
    assert count(status="muted") == 1
    assert count(status="everything") == 2
    assert "All but muted" in admin_client.get(LIST).content.decode()


def test_bulk_mute_and_unmute_are_recorded_with_who_did_it(api, admin_client):
    ids = [send(api, traceback=python_traceback(line=n))["id"] for n in (1, 2)]

    admin_client.post(LIST, {"action": "mute_selected_for_an_hour", "_selected_action": ids})

    muted = Error.objects.filter(pk__in=ids)
    assert all(e.muted and e.muted_until > timezone.now() + timedelta(minutes=59) for e in muted)
    assert admin_client.get(LIST, {"status": "muted"}).content.decode().count("Muted until") == 2

    admin_client.post(f"{LIST}?status=muted", {"action": "unmute_selected", "_selected_action": ids[:1]})

    assert list(Error.objects.filter(muted=True).values_list("pk", flat=True)) == ids[1:]
    kinds = api.get(f"/api/errors/{ids[0]}/activity").json()["activity"]
    assert [(a["kind"], a["actor"]) for a in kinds] == [("unmuted", "root (admin)"), ("muted", "root (admin)")]


def test_the_page_mutes_for_a_number_of_events_and_refuses_nonsense(api, admin_client):
    error_id = send(api)["id"]

    answer = admin_client.post(f"{LIST}{error_id}/mute/", {"events": "abc"}, follow=True)
    assert "Give a number of events from 1 up." in answer.content.decode()
    assert not Error.objects.get(pk=error_id).muted

    admin_client.post(f"{LIST}{error_id}/mute/", {"events": "10"})

    error = Error.objects.get(pk=error_id)
    assert (error.muted, error.muted_until_count) == (True, 11)
    assert "Muted for 10 more event(s)" in admin_client.get(f"{LIST}{error_id}/change/").content.decode()
    assert admin_client.get(f"{LIST}{error_id}/mute/").status_code == 405


def test_the_list_charts_each_row_without_a_query_per_row(api, admin_client):
    for n in range(30):
        send(api, traceback=python_traceback(line=n + 1))
    few = CaptureQueriesContext(connection)
    with few:
        admin_client.get(LIST, {"seen": "7d"})
    page = admin_client.get(LIST).content.decode()

    assert page.count('<svg class="event-chart"') == 30
    for n in range(30):
        send(api, traceback=python_traceback(line=n + 100))
    many = CaptureQueriesContext(connection)
    with many:
        admin_client.get(LIST, {"seen": "7d"})
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_admin_search_reads_tracebacks_filters_and_is_muted(api, admin_client):
    wanted = send(api, traceback=python_traceback(file="/srv/app/billing.py", function="settle_invoice", line=9))
    send(api, traceback=python_traceback(line=10), release="2.0.0")
    Error.objects.filter(pk=wanted["id"]).mute()

    def found(q):
        return [e.pk for e in admin_client.get(LIST, {"q": q}).context["cl"].result_list]

    assert found("settle_invoice") == []  # muted: hidden unless asked for
    assert found("settle_invoice is:muted") == [wanted["id"]]
    assert len(found("release:2.0.0")) == 1
    page = admin_client.get(LIST, {"q": "is:sleeping"}, follow=True).content.decode()
    assert "Unknown status" in page and "is:sleeping" in page


def test_the_page_refuses_a_mute_length_it_does_not_offer(api, admin_client):
    error_id = send(api)["id"]

    answer = admin_client.post(f"{LIST}{error_id}/mute/", {"for": "30d"}, follow=True)

    assert "Mute for 1h, 24h, 7d or until unmuted" in answer.content.decode()
    assert not Error.objects.get(pk=error_id).muted


def test_the_users_column_sorts_by_the_estimate(api, admin_client):
    small = send(api, traceback=python_traceback(line=1))["id"]
    big = send(api, traceback=python_traceback(line=2))["id"]
    Error.objects.filter(pk=small).update(users_sampled=9000, users_level=0)
    Error.objects.filter(pk=big).update(users_sampled=5000, users_level=3)

    ordered = admin_client.get(LIST, {"o": "-7"}).context["cl"].result_list

    assert [e.pk for e in ordered] == [big, small]


@pytest.mark.parametrize("params", [
    {}, {"status": "open"}, {"status": "resolved"}, {"status": "muted"}, {"status": "everything"},
    {"q_suffix": " is:muted"}, {"q_suffix": " is:resolved", "status": "everything"},
    {"q_suffix": " is:muted", "status": "open"}, {"project": "other-app"}, {"o": "2", "p": "1"},
])
def test_the_count_of_a_search_agrees_with_the_rows_it_lists(api, admin_client, params):
    """A search's count may come from the search index: with every status and filter it must
    be the number of rows the list shows."""
    ids = [send(api, message=f"ledger drift {n}", traceback=python_traceback(line=n))["id"] for n in range(1, 7)]
    send(api, message="ledger drift elsewhere", traceback=python_traceback(line=40), project="other-app")
    send(api, message="unrelated", traceback=python_traceback(line=50))
    Error.objects.filter(pk__in=ids[:2]).mute()
    Error.objects.filter(pk=ids[2]).resolve()
    query = {key: value for key, value in params.items() if key != "q_suffix"}
    query["q"] = "ledger" + params.get("q_suffix", "")

    changelist = admin_client.get(LIST, query).context["cl"]

    assert changelist.result_count == len(changelist.result_list)
    assert changelist.result_count > 0 or query.get("status") == "open"
