"""The body of POST /api/errors and of Sentry events turned into reports: validated, never stored here."""


from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from errors.models import Error, Occurrence


class StringField(serializers.CharField):
    """A CharField that takes JSON strings only, not numbers coerced to text.

    Lone surrogates are already refused by StrictJSONParser for the whole body, so DRF's
    per-character surrogate validator (a Python loop over every traceback) is dropped.
    """

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitSurrogateCharactersValidator)]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ObjectField(serializers.DictField):
    """A JSON object of any values (request headers, extra metadata)."""

    default_error_messages = {"not_a_dict": 'Must be a JSON object, not {input_type}.'}


def no_colon(value):
    if ":" in value:
        raise serializers.ValidationError("A project name may not contain ':'.")


class CutField(StringField):
    """Text kept to its first `cut_at` characters rather than refused for its length."""

    def __init__(self, cut_at, **kwargs):
        super().__init__(**kwargs)
        self.cut_at = cut_at

    def to_internal_value(self, data):
        return super().to_internal_value(data)[: self.cut_at]


# Sentry keeps 8,192 characters of a message; a traceback keeps what the spec's 256 KB allows.
MESSAGE_CHARACTERS = 8192
TRACEBACK_CHARACTERS = 256 * 1024


FINGERPRINT_PARTS = 32
FINGERPRINT_PART_CHARACTERS = 512


class FingerprintField(serializers.ListField):
    """A list of strings, kept as a tuple; an empty list is no fingerprint."""

    def to_internal_value(self, data):
        return tuple(super().to_internal_value(data)) or None


class UpperCaseField(StringField):
    """An HTTP method, stored upper-case whatever case the client sent."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


def _optional_text(field=StringField, **kwargs):
    return field(required=False, allow_blank=True, default="", **kwargs)


# The body of POST /api/errors, as DRF fields built once. A Serializer would deep-copy every
# declared field for each instance: that copy was a third of the CPU time of a report
# (bench/README.md), while validation itself leaves these fields untouched, so they are shared.
REPORT_FIELDS = {
    # A ':' would let one project's name and type spell another's fingerprint key.
    "project": StringField(max_length=Error._meta.get_field("project").max_length, validators=[no_colon]),
    "exception_type": StringField(max_length=Error._meta.get_field("exception_type").max_length),
    "environment": StringField(
        max_length=Error._meta.get_field("environment").max_length, required=False, default="production"
    ),
    "message": _optional_text(CutField, cut_at=MESSAGE_CHARACTERS, trim_whitespace=False),
    "traceback": _optional_text(CutField, cut_at=TRACEBACK_CHARACTERS, trim_whitespace=False),
    "request_url": _optional_text(),
    "request_method": _optional_text(UpperCaseField, max_length=Occurrence._meta.get_field("request_method").max_length),
    "request_headers": ObjectField(required=False, allow_null=True, default=None),
    "user_id": _optional_text(max_length=Occurrence._meta.get_field("user_id").max_length),
    "extra": ObjectField(required=False, allow_null=True, default=None),
    "source": StringField(max_length=Error._meta.get_field("source").max_length, required=False, default=None),
    "release": _optional_text(max_length=Error._meta.get_field("release").max_length),
    # Sentry's `fingerprint`: the client's own grouping, `{{ default }}` standing for ours.
    "fingerprint": FingerprintField(
        child=StringField(max_length=FINGERPRINT_PART_CHARACTERS), max_length=FINGERPRINT_PARTS, required=False,
        allow_null=True, default=None,
    ),
}


def validate_report(data):
    """The report's fields, validated as a Serializer would, or ValidationError naming every bad one."""
    if not isinstance(data, dict):
        message = f"Invalid data. Expected a JSON object, but got {type(data).__name__}."
        raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})
    values, problems = {}, {}
    for name, field in REPORT_FIELDS.items():
        try:
            values[name] = field.run_validation(data.get(name, empty))
        except serializers.ValidationError as exc:
            problems[name] = exc.detail
    if problems:
        raise serializers.ValidationError(problems)
    return values


def _frame_data(frame):
    if frame is None:
        return None
    return {"file": frame.file, "line": frame.line, "column": frame.column, "function": frame.function, "in_app": frame.in_app}


def grouping_preview(grouping):
    """The body of a dry-run answer: what the grouping of a report would be."""
    return {
        "status": "dry_run",
        "fingerprint": grouping.fingerprint,
        "strategy": grouping.strategy,
        "language": grouping.stack.language,
        "culprit": _frame_data(grouping.culprit),
        "frames": [_frame_data(frame) for frame in grouping.stack.frames],
    }
