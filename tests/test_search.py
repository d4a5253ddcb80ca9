"""Search of GET /api/errors?search=: words in the exception type, message, culprit and
traceback, key:value filters, statuses; the index kept in step by triggers on either engine."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errors.models import Error
from errors.search import TRUNCATED_WARNING, admin_search
from errors.search_syntax import SearchQuery, SearchSyntaxError, parse_search
from tests.factories import python_traceback, report

PAYMENT_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/shop/payments.py", line 88, in charge_card\n'
    "    gateway.submit(card)\n"
    '  File "/srv/shop/gateway.py", line 12, in submit_payment\n'
    "    raise TimeoutError('gateway timed out')\n"
    "TimeoutError: gateway timed out\n"
)


def send(api, **fields):
    """The id of the group the report was counted into."""
    response = api.post("/api/errors", report(**fields), format="json")
    assert response.status_code in (200, 201), response.content
    return Error.objects.get(fingerprint=response.json()["fingerprint"]).pk


def found(api, search, **params):
    response = api.get("/api/errors", {"search": search, **params})
    assert response.status_code == 200, response.content
    return sorted(e["id"] for e in response.json()["errors"])


@pytest.fixture
def payment(api):
    send(api, message="invalid input", traceback=python_traceback(line=1))
    return send(api, exception_type="TimeoutError", message="gateway timed out", traceback=PAYMENT_TRACEBACK)


@pytest.mark.parametrize("search", ["charge_card", "charge", "payments", "payments.py", "/srv/shop/payments.py"])
def test_a_function_or_file_named_only_in_the_traceback_finds_its_group(api, payment, search):
    assert found(api, search) == [payment]


@pytest.mark.parametrize("search", ["TimeoutError", "timed out", "gateway.py", "submit_payment", "GATEWAY Timed"])
def test_words_of_the_type_message_and_culprit_find_the_group(api, payment, search):
    assert found(api, search) == [payment]


@pytest.mark.parametrize("search", ["Timeo", "gateway tim", "charge_ca"])
def test_the_last_word_is_a_prefix(api, payment, search):
    assert found(api, search) == [payment]


def test_earlier_words_are_whole_words_and_every_word_must_match(api, payment):
    assert found(api, "Timeo gateway") == []
    assert found(api, "charge nowhere") == []


def test_a_quoted_phrase_matches_its_words_in_order(api, payment):
    assert found(api, '"gateway timed out"') == [payment]
    assert found(api, '"out timed"') == []


def test_words_that_look_like_keys_are_words(api):
    key_error = send(api, exception_type="KeyError", message="'user'", traceback=python_traceback(exc="KeyError: 'user'"))
    send(api, traceback=python_traceback(line=2))

    assert found(api, "KeyError:") == [key_error]
    assert found(api, "user:") == [key_error]


def test_release_environment_project_and_user_filter(api):
    send(api, project="shop", environment="production", traceback=python_traceback(line=1))
    shop = send(api, project="shop", release="1.2.0", user_id="42", environment="staging",
                traceback=python_traceback(line=1))
    blog = send(api, project="blog", release="my app 1.0", user_id="7", environment="production",
                traceback=python_traceback(line=2))

    assert found(api, "release:1.2.0") == [shop]
    assert found(api, 'release:"my app 1.0"') == [blog]
    assert found(api, "environment:staging") == [shop]
    assert found(api, "environment:production") == [shop, blog]
    assert found(api, "project:blog") == [blog]
    assert found(api, "user:42") == [shop]
    assert found(api, "user:7 invalid") == [blog]
    assert found(api, "user:42 project:blog") == []


def test_is_muted_finds_the_groups_the_default_list_hides(api, payment):
    Error.objects.filter(pk=payment).mute()

    assert found(api, "gateway") == []
    assert found(api, "is:muted gateway") == [payment]
    assert found(api, "is:muted invalid") == []
    assert found(api, "is:unresolved gateway") == []


def test_is_resolved_and_unresolved(api, payment):
    other = Error.objects.exclude(pk=payment).get().pk
    api.post(f"/api/errors/{payment}/resolve")

    assert found(api, "is:resolved") == [payment]
    assert found(api, "is:unresolved") == [other]


def test_an_explicit_status_wins_over_the_search(api, payment):
    Error.objects.filter(pk=payment).mute()

    assert found(api, "is:muted", status="unresolved") == [Error.objects.exclude(pk=payment).get().pk]
    assert len(found(api, "is:resolved", status="all")) == 2


@pytest.mark.parametrize("search", ["is:open", "is:muted is:resolved"])
def test_a_search_for_no_status_is_400_naming_the_search(api, search):
    response = api.get("/api/errors", {"search": search})

    assert response.status_code == 400
    assert response.json()["fields"]["search"][0]


NASTY = [
    '"', '""', '"unbalanced', "'", "*", "**", "a*", "*a", "-", "-a", "a -b", "^a", ":", "a:", ":a", "x:y:z",
    "NEAR(", "NEAR(a b)", "NEAR/2", "a NEAR b", "AND", "OR", "NOT", "a AND", "OR b", "NOT NOT", "(", ")", "(()",
    "a (b", "a) b", "{a b}", "col:a", "exception_type:a", "message : b", "+", "a + b", "a & b | !c", "a <-> b",
    "'a':*", "a:*", "!", "\\", "\\\"", "\x00", "a\x00b", "release:\x00", "🔥", "🔥 error", "é", "ß", "İ", "字",
    "\u200b", "\ufeff", "\u0301", "%", "%%", "_", "__", "\t\n", "   ", "is:muted \"", 'release:"', 'user:"',
    "user:" + "9" * 100, "a" * 10_000, "é" * 10_000, "🔥" * 3_000, "a " * 5_000, '"a" ' * 2_500, "(" * 10_000,
    "0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF0123456",
]


@pytest.mark.parametrize("search", NASTY)
def test_no_search_text_is_a_server_error(api, payment, search):
    response = api.get("/api/errors", {"search": search})

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert "search" in response.json()["fields"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(search=st.text(max_size=300) | st.lists(st.sampled_from(NASTY[:60] + ["is:muted", "a", "é"]), max_size=8).map(" ".join))
def test_any_search_text_is_answered_200_or_400(api, payment, search):
    cache.clear()  # each example is a fresh client as far as the rate limit is concerned
    response = api.get("/api/errors", {"search": search})

    assert response.status_code in (200, 400), response.content


def test_a_new_message_is_found_and_the_old_one_no_longer(api):
    error_id = send(api, message="alpha failure", traceback=python_traceback(exc="ValueError: alpha failure"))
    send(api, message="alpha failure", traceback=python_traceback(exc="ValueError: alpha failure"))

    send(api, message="beta failure", traceback=python_traceback(exc="ValueError: beta failure"))

    assert found(api, "beta") == [error_id]
    assert found(api, "alpha") == []
    assert found(api, "failure") == [error_id]


def test_a_deleted_group_is_no_longer_found(api, payment):
    Error.objects.filter(pk=payment).delete()

    assert found(api, "gateway") == []
    again = send(api, exception_type="TimeoutError", message="gateway timed out", traceback=PAYMENT_TRACEBACK)
    assert found(api, "gateway") == [again]


def test_the_total_counts_every_group_found(api):
    for line in range(1, 8):
        send(api, message=f"disk full on volume {line}", traceback=python_traceback(line=line))
    send(api, message="unrelated", traceback=python_traceback(line=99))

    response = api.get("/api/errors", {"search": "disk full", "limit": 3})

    assert response.json()["total"] == 7
    assert len(response.json()["errors"]) == 3


def test_the_total_of_a_search_follows_every_status_change(api):
    """The total of a search by words alone is counted in the search index, which holds each
    group's status: it must agree with the groups listed after resolve, mute, unmute, reopen."""
    groups = [send(api, message=f"gateway refused {n}", traceback=python_traceback(line=n)) for n in range(1, 6)]
    send(api, message="unrelated", traceback=python_traceback(line=99))

    def totals():
        answers = {}
        for status in (None, "unresolved", "resolved", "muted", "all"):
            params = {"search": "gateway", **({"status": status} if status else {})}
            body = api.get("/api/errors", params).json()
            assert body["total"] == len(body["errors"])
            answers[status or "default"] = body["total"]
        return answers

    assert totals() == {"default": 5, "unresolved": 5, "resolved": 0, "muted": 0, "all": 5}
    api.post(f"/api/errors/{groups[0]}/resolve")
    api.post(f"/api/errors/{groups[1]}/mute", {"events": 1}, format="json")
    api.post(f"/api/errors/{groups[2]}/mute")
    assert totals() == {"default": 3, "unresolved": 2, "resolved": 1, "muted": 2, "all": 5}

    send(api, message="gateway refused 1", traceback=python_traceback(line=1))  # reopens the resolved one
    send(api, message="gateway refused 2", traceback=python_traceback(line=2))  # its one more event: unmuted
    api.post(f"/api/errors/{groups[2]}/unmute")
    assert totals() == {"default": 5, "unresolved": 5, "resolved": 0, "muted": 0, "all": 5}
    assert api.get("/api/errors", {"search": "gateway is:muted"}).json()["total"] == 0


@pytest.mark.parametrize("word", ["muted", "resolved", "unresolved", "reso", "Mutéd", "is_muted", "state"])
def test_a_status_name_searched_as_a_word_finds_only_text_holding_it(api, payment, word):
    Error.objects.filter(pk=payment).mute()
    api.post(f"/api/errors/{Error.objects.exclude(pk=payment).get().pk}/resolve")
    holder = send(api, message=f"queue {word} unexpectedly", traceback=python_traceback(line=50))

    assert found(api, word, status="all") == [holder]
    assert api.get("/api/errors", {"search": word, "status": "all"}).json()["total"] == 1


@pytest.mark.parametrize("traceback", [
    "a" * 240_000,
    " ".join(f"{n:x}" for n in range(40_000)),
])
def test_a_256_kb_traceback_is_stored_and_searched_by_its_ends(api, traceback):
    tail = "\nRuntimeError: innermost_frame_word\n"
    error_id = send(api, traceback="outermost_frame_word " + traceback + tail)

    assert found(api, "outermost_frame_word") == [error_id]
    assert found(api, "innermost_frame_word") == [error_id]


def test_text_no_http_body_could_carry_is_indexed_without_failing(db):
    # Distinct words of 4-byte letters (CJK extension B), each just short of PostgreSQL's 2 KB:
    # whole, their lexemes would be 1.2 MB, past a tsvector's 1 MB.
    letters = " ".join(chr(0x20000 + n) * 511 for n in range(600))
    error = Error.objects.create(fingerprint="f" * 32, project="p", environment="e", exception_type="E",
                                 message=letters[:100_000], traceback=letters, culprit_file=letters)

    assert Error.objects.filter(pk=error.pk).update(message="changed", traceback=letters[::-1]) == 1
    assert list(admin_search(Error.objects.all(), "changed")[0]) == [error]


@pytest.mark.django_db(transaction=True)
def test_the_migration_indexes_the_groups_already_stored(api):
    call_command("migrate", "errors", "0010", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO errors (fingerprint, project, environment, exception_type, message, traceback, count,"
            " first_seen, last_seen, resolved, source, culprit_file, culprit_function)"
            " VALUES (%s, 'p', 'e', 'OldError', 'stored before search', %s, 1, %s, %s, %s, 'backend', '', '')",
            ["0" * 32, PAYMENT_TRACEBACK, "2026-01-01 00:00:00", "2026-01-01 00:00:00", False],
        )
    call_command("migrate", "errors", verbosity=0)

    assert len(found(api, "charge_card")) == 1


# --- the admin's search and the syntax -------------------------------------------------------


def test_the_admin_finds_a_group_by_its_fingerprint_or_its_words(api, payment):
    fingerprint = Error.objects.get(pk=payment).fingerprint

    assert [e.pk for e in admin_search(Error.objects.all(), fingerprint)[0]] == [payment]
    assert [e.pk for e in admin_search(Error.objects.all(), fingerprint.upper())[0]] == [payment]
    assert [e.pk for e in admin_search(Error.objects.all(), "charge_card")[0]] == [payment]


def test_the_admin_search_warns_when_it_drops_words_and_refuses_bad_syntax(api, payment):
    Error.objects.filter(pk=payment).mute()

    errors, warning = admin_search(Error.objects.all(), "gateway " * 40)
    assert [e.pk for e in errors] == [payment]
    assert warning == TRUNCATED_WARNING
    assert admin_search(Error.objects.all(), "is:muted")[1] is None
    assert [e.pk for e in admin_search(Error.objects.all(), "is:muted")[0]] == [payment]
    with pytest.raises(SearchSyntaxError):
        admin_search(Error.objects.all(), "is:closed")


@pytest.mark.parametrize("text, words, filters, status", [
    ("", (), (), None),
    ("Timeo", ("Timeo",), (), None),
    ('release:"my app 1.0" payments', ("payments",), (("release", "my app 1.0"),), None),
    ("environment:production user:42 project:shop", (), (("environment", "production"), ("user", "42"), ("project", "shop")), None),
    ('is:muted "connection reset" KeyError:', ("connection reset", "KeyError:"), (), "muted"),
    ("is:muted is:muted", (), (), "muted"),
    ("Release:1.0 xrelease:1 release: is:", ("Release:1.0", "xrelease:1", "release:", "is:"), (), None),
    ('release:"unclosed value', (), (("release", "unclosed value"),), None),
    ('"unclosed phrase', ("unclosed phrase",), (), None),
    ('release:""', (), (("release", ""),), None),
    ("a\x00b", ("a", "b"), (), None),
])
def test_a_search_is_read_into_words_filters_and_a_status(text, words, filters, status):
    assert parse_search(text) == SearchQuery(words, filters, status)


def test_a_search_keeps_ten_terms_and_200_characters():
    assert parse_search("w " * 11) == SearchQuery(("w",) * 10, truncated=True)
    assert parse_search("w" * 201) == SearchQuery(("w" * 200,), truncated=True)
    assert not parse_search("release:1 " + "w " * 9).truncated


def test_a_word_matching_many_groups_finds_them_the_same_way(api, payment, monkeypatch):
    """Past FEW_MATCHES, the list's own index is walked instead of looking matches up by id."""
    import errors.search

    others = [send(api, message="gateway refused", traceback=python_traceback(line=n)) for n in (5, 6, 7)]
    Error.objects.filter(pk=others[0]).mute()
    monkeypatch.setattr(errors.search, "FEW_MATCHES", 1)

    assert found(api, "gateway") == sorted([payment, *others[1:]])
    assert found(api, "gateway is:muted") == [others[0]]
    assert api.get("/api/errors", {"search": "gateway"}).json()["total"] == 3
    assert found(api, "charge_card") == [payment]
