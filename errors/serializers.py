"""Query strings and answers of the read and triage API."""

from rest_framework import serializers

from releases.models import RELEASE_CHARACTERS

from .models import Activity, Error, Occurrence
from .queries import STATUSES
from .search_syntax import SearchSyntaxError, parse_search
from .stats import PERIODS


class ErrorListQuerySerializer(serializers.Serializer):
    """The query string of GET /api/errors."""

    MAX_LIMIT = 200
    # Beyond any real list, and within every engine's integer OFFSET.
    MAX_OFFSET = 1_000_000_000

    project = serializers.CharField(required=False)
    environment = serializers.CharField(required=False)
    resolved = serializers.ChoiceField(choices=["true", "false"], required=False)
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    search = serializers.CharField(required=False, allow_blank=True)
    source = serializers.CharField(required=False)
    limit = serializers.IntegerField(min_value=0, required=False, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, required=False, default=0)

    def validate_limit(self, value):
        return min(value, self.MAX_LIMIT)

    def validate_search(self, value):
        try:
            parse_search(value)
        except SearchSyntaxError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


class ErrorSerializer(serializers.ModelSerializer):
    culprit = serializers.ReadOnlyField()
    status = serializers.ReadOnlyField()
    users = serializers.ReadOnlyField()
    users_estimated = serializers.ReadOnlyField()

    class Meta:
        model = Error
        fields = [
            "id", "fingerprint", "project", "environment", "exception_type", "message",
            "count", "first_seen", "last_seen", "resolved", "source", "culprit", "release",
            "resolved_in_release", "resolved_in_next_release", "status", "muted_until", "muted_until_count",
            "users", "users_estimated",
        ]


class ErrorDetailSerializer(ErrorSerializer):
    environments = serializers.SerializerMethodField()

    class Meta(ErrorSerializer.Meta):
        fields = ErrorSerializer.Meta.fields + ["traceback", "environments"]

    def get_environments(self, error):
        """Every environment the group was seen in (`environment` is the newest report's)."""
        return sorted(error.environments.values_list("environment", flat=True))


class OccurrenceSerializer(serializers.ModelSerializer):
    request_headers = serializers.SerializerMethodField()
    extra = serializers.SerializerMethodField()

    class Meta:
        model = Occurrence
        fields = [
            "id", "timestamp", "environment", "message", "request_url", "request_method",
            "request_headers", "user_id", "extra", "release",
        ]

    def get_request_headers(self, occurrence):
        return occurrence.headers

    def get_extra(self, occurrence):
        return occurrence.extra_data


class ResolveSerializer(serializers.Serializer):
    """The optional body of POST /api/errors/{id}/resolve: in which release the fix ships."""

    in_release = serializers.CharField(required=False, max_length=RELEASE_CHARACTERS)
    in_next_release = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if data.get("in_release") and data["in_next_release"]:
            raise serializers.ValidationError("Give in_release or in_next_release, not both.")
        return data


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["kind", "actor", "at", "detail"]


class MuteSerializer(serializers.Serializer):
    """The optional body of POST /api/errors/{id}/mute: until when, or for how many more events."""

    MAX_EVENTS = 10**12

    until = serializers.DateTimeField(required=False)
    events = serializers.IntegerField(required=False, min_value=1, max_value=MAX_EVENTS)

    def validate(self, data):
        if "until" in data and "events" in data:
            raise serializers.ValidationError("Give until or events, not both.")
        return data


class StatsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS), required=False, default="24h")
