"""The per-IP rate limit through the Django stack (the exact counts through the real server are
in test_guards.py)."""

import pytest


@pytest.mark.parametrize("neighbour, limited", [("2001:db8:1:2::99", True), ("2001:db8:1:3::1", False)])
def test_ipv6_clients_share_the_limit_of_their_64(api, settings, neighbour, limited, one_rate_limit_window):
    settings.RATE_LIMIT = "3/m"
    for n in range(3):
        assert api.get("/api/projects", REMOTE_ADDR=f"2001:db8:1:2::{n + 1}").status_code == 200

    answer = api.get("/api/projects", REMOTE_ADDR=neighbour)

    assert answer.status_code == (429 if limited else 200)


def test_a_limited_answer_says_when_to_retry_and_how_much_is_left(api, settings, one_rate_limit_window):
    settings.RATE_LIMIT = "1/m"
    api.get("/api/projects")

    answer = api.get("/api/projects")

    assert answer.status_code == 429
    assert answer.json() == {"detail": "Rate limit exceeded: too many requests from this IP."}
    assert answer["X-RateLimit-Limit"] == "1" and answer["X-RateLimit-Remaining"] == "0"
    assert int(answer["Retry-After"]) >= 1
