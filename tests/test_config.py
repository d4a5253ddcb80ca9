"""tracker/config.py: each variable read strictly, with one line naming it when it is wrong."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from tracker.config import Reader


def read(**variables):
    return Reader(variables)


def test_lists_are_stripped_and_empty_entries_dropped():
    assert read(ALERT_ENVIRONMENTS="prod, staging ,,").string_list("ALERT_ENVIRONMENTS") == ["prod", "staging"]
    assert read().string_list("ALERT_ENVIRONMENTS", ["x"]) == ["x"]


@pytest.mark.parametrize(
    "value, message",
    [
        ("-5", "RETENTION_DAYS is malformed: -5 is below the minimum of 1"),
        ("ninety", "RETENTION_DAYS is malformed: 'ninety' is not a whole number"),
        ("1e3", "RETENTION_DAYS is malformed: '1e3' is not a whole number"),
    ],
)
def test_a_bad_whole_number_names_the_variable(value, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        read(RETENTION_DAYS=value).integer("RETENTION_DAYS", 90, minimum=1)

    assert str(refused.value) == message


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "x"])
def test_a_bad_number_of_seconds_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="^HEADER_TIMEOUT is malformed: "):
        read(HEADER_TIMEOUT=value).number("HEADER_TIMEOUT", 10.0, minimum=0.1)


@pytest.mark.parametrize("value, meaning", [("true", True), ("On", True), ("0", False), ("no", False)])
def test_a_switch_takes_the_usual_spellings(value, meaning):
    assert read(DEBUG=value).boolean("DEBUG") is meaning


def test_a_misspelt_switch_is_refused():
    with pytest.raises(ImproperlyConfigured, match="^DEBUG is malformed: 'ture' is not true or false$"):
        read(DEBUG="ture").boolean("DEBUG")


def test_blank_values_mean_the_default():
    reader = read(PORT="  ", LOG_LEVEL="")

    assert reader.integer("PORT", 5010) == 5010
    assert reader.choice("LOG_LEVEL", "info", ("info", "debug")) == "info"


def test_a_required_variable_says_how_to_set_it():
    with pytest.raises(ImproperlyConfigured, match="^API_KEY is required: set the API_KEY environment variable$"):
        read(API_KEY=" ").required("API_KEY")


def test_urls_are_read_from_the_given_variables_not_the_process():
    assert read(DATABASE_URL="postgres://u@db:5433/x").db_url("DATABASE_URL")["PORT"] == 5433
    with pytest.raises(ImproperlyConfigured, match="^CACHE_URL is malformed: "):
        read(CACHE_URL="nosuch://x").cache_url("CACHE_URL", "locmemcache://")
