"""The triage screens: find, read, resolve or mute; events over time and users on both."""

import json
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR, ChangeList
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.db.models.functions import Power
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .charts import SPARK_HEIGHT, SPARK_WIDTH, bar_chart
from .models import MUTED, RESOLVED, UNRESOLVED, Error, GroupEnvironment, NoReleaseYet, Occurrence
from .queries import ALL
from .search import STATUS_FILTERS, admin_search, count_in_index
from .serializers import MuteSerializer
from .search_syntax import SearchSyntaxError, parse_search
from .stats import PERIODS, series
from grouping.sourcemaps import MINIFIED_HEADING
from grouping.stacktrace import JAVASCRIPT, PYTHON, parse_stack

MESSAGE_PREVIEW = 90
# A frame this far into its line is in minified code (source lines are rarely this long).
MINIFIED_COLUMN = 300


class LastSeenFilter(admin.SimpleListFilter):
    title = "last seen"
    parameter_name = "seen"
    PERIODS = {"today": ("Today", None), "7d": ("Past 7 days", 7), "30d": ("Past 30 days", 30)}

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _days) in self.PERIODS.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.PERIODS:
            return queryset
        days = self.PERIODS[self.value()][1]
        now = timezone.now()
        since = now.replace(hour=0, minute=0, second=0, microsecond=0) if days is None else now - timedelta(days=days)
        return queryset.filter(last_seen__gte=since)


class EnvironmentFilter(admin.SimpleListFilter):
    """Every environment a group was seen in, not only its newest report's."""

    title = "environment"
    parameter_name = "environment"

    def lookups(self, request, model_admin):
        names = GroupEnvironment.objects.order_by("environment").values_list("environment", flat=True).distinct()
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(environments__environment=self.value())


class StatusFilter(admin.SimpleListFilter):
    """Muted groups are out of the list unless asked for, here or by the search's `is:`."""

    title = "status"
    parameter_name = "status"
    STATUSES = {"open": UNRESOLVED, "resolved": RESOLVED, "muted": MUTED}
    EVERYTHING = "everything"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        try:
            self.searched_status = parse_search(request.GET.get(SEARCH_VAR, "")).status
        except SearchSyntaxError:
            self.searched_status = None

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved"), ("muted", "Muted"), (self.EVERYTHING, "Muted too")]

    def queryset(self, request, queryset):
        if self.value() in self.STATUSES:
            return queryset.filter(STATUS_FILTERS[self.STATUSES[self.value()]])
        if self.value() == self.EVERYTHING or self.searched_status is not None:
            return queryset
        return queryset.filter(muted=False)

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        choices[0]["display"] = "All but muted"
        return choices


class ErrorChangeList(ChangeList):
    """The list, with each shown row's last 24 hours fetched in one query for its chart."""

    def get_results(self, request):
        super().get_results(request)
        shown = list(self.result_list)
        day = series([error.pk for error in shown], PERIODS["24h"])
        for error in shown:
            error.last_24h = day[error.pk]


# The list's parameters that narrow nothing, besides the search and the status filter.
_NOT_NARROWING = {ORDER_VAR, PAGE_VAR}


def _indexed_total(request):
    """The number of groups the list's search finds, from the search index, or None when
    another filter narrows the list (or the search cannot be counted there)."""
    params = request.GET
    if SEARCH_VAR not in params or set(params) - _NOT_NARROWING - {SEARCH_VAR, StatusFilter.parameter_name}:
        return None
    try:
        query = parse_search(params[SEARCH_VAR])
    except SearchSyntaxError:
        return None
    chosen = params.get(StatusFilter.parameter_name)
    if chosen in StatusFilter.STATUSES:
        if query.status not in (None, StatusFilter.STATUSES[chosen]):
            return None
        status = StatusFilter.STATUSES[chosen]
    elif chosen == StatusFilter.EVERYTHING:
        status = query.status or ALL
    elif chosen is None:
        status = query.status
    else:
        return None
    return count_in_index(query, status)


def _pretty_json(value):
    if value is None:
        return "—"
    return format_html("<pre class=\"json\">{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


class OccurrenceInline(admin.TabularInline):
    model = Occurrence
    verbose_name_plural = "Latest occurrences (newest first)"
    fields = ["timestamp", "environment", "request_method", "request_url", "user_id", "headers_display", "extra_display"]
    readonly_fields = fields
    ordering = ["-id"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="request headers")
    def headers_display(self, occurrence):
        return _pretty_json(occurrence.headers)

    @admin.display(description="extra")
    def extra_display(self, occurrence):
        return _pretty_json(occurrence.extra_data)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Error)
class ErrorAdmin(admin.ModelAdmin):
    list_display = [
        "exception_type", "message_preview", "project", "environment", "source", "count", "events_24h",
        "users_display", "last_seen_display", "first_seen", "status",
    ]
    list_display_links = ["exception_type", "message_preview"]
    list_filter = ["project", EnvironmentFilter, "source", StatusFilter, LastSeenFilter]
    # Searched by errors.search (get_search_results); declared so the admin shows the box.
    search_fields = ["exception_type"]
    ordering = ["-last_seen", "-id"]
    list_per_page = 50
    show_full_result_count = False
    actions = [
        "resolve_selected", "resolve_selected_in_next_release", "reopen_selected", "mute_selected_for_an_hour",
        "mute_selected_for_a_day", "mute_selected", "unmute_selected",
    ]
    inlines = [OccurrenceInline]
    fieldsets = [
        (None, {"fields": ["exception_type", "message", "status", "culprit_display", "traceback_display"]}),
        ("Events", {"fields": ["charts_display", "count", "users_display"]}),
        ("Activity", {"fields": ["activity_display"]}),
        ("Group", {"fields": [
            "project", "environment", "release", "source", "first_seen", "last_seen", "fingerprint",
        ]}),
    ]
    readonly_fields = [
        "exception_type", "message", "status", "culprit_display", "traceback_display", "charts_display",
        "users_display", "activity_display", "project",
        "environment", "release", "source", "count", "first_seen", "last_seen", "fingerprint",
    ]

    # --- list ------------------------------------------------------------------------------

    @admin.display(description="message")
    def message_preview(self, error):
        first_line = (error.message.strip().splitlines() or [""])[0]
        if len(first_line) > MESSAGE_PREVIEW:
            first_line = first_line[: MESSAGE_PREVIEW - 1] + "…"
        return first_line

    @admin.display(description="last seen", ordering="last_seen")
    def last_seen_display(self, error):
        return format_html('<span title="{}">{}</span>', error.last_seen.isoformat(), naturaltime(error.last_seen))

    @admin.display(description="last 24 h")
    def events_24h(self, error):
        return mark_safe(bar_chart(error.last_24h, SPARK_WIDTH, SPARK_HEIGHT))

    @admin.display(description="users", ordering=F("users_sampled") * Power(2, F("users_level")))
    def users_display(self, error):
        if error.users_estimated:
            return format_html('<span title="estimated from a sample">≈{}</span>', error.users)
        return error.users

    @admin.display(description="status", ordering="resolved")
    def status(self, error):
        if error.muted:
            if error.muted_until is not None:
                return format_html('<span class="status-muted">Muted until {}</span>', _moment(error.muted_until))
            if error.muted_until_count is not None:
                more = max(error.muted_until_count - error.count, 0)
                return format_html('<span class="status-muted">Muted for {} more event(s)</span>', more)
            return mark_safe('<span class="status-muted">Muted</span>')
        if not error.resolved:
            return mark_safe('<strong class="status-open">Open</strong>')
        if error.resolved_in_next_release:
            return format_html('<span class="status-resolved">Resolved in the release after {}</span>', error.resolved_in_release)
        if error.resolved_in_release:
            return format_html('<span class="status-resolved">Resolved in {}</span>', error.resolved_in_release)
        return mark_safe('<span class="status-resolved">Resolved</span>')

    @admin.action(description="Resolve selected errors", permissions=["change"])
    def resolve_selected(self, request, queryset):
        count = self._change_status(request, queryset, resolved=True)
        self.message_user(request, f"Resolved {count} error(s).", messages.SUCCESS)

    @admin.action(description="Resolve selected errors in the next release", permissions=["change"])
    def resolve_selected_in_next_release(self, request, queryset):
        resolved, skipped = 0, []
        for error in queryset.only("pk", "project"):
            try:
                error.resolve_in(in_next_release=True, actor=admin_actor(request))
            except NoReleaseYet:
                skipped.append(error.project)
                continue
            LogEntry.objects.log_actions(request.user.pk, [error], CHANGE, "Resolved in the next release.")
            resolved += 1
        self.message_user(request, f"Resolved {resolved} error(s) in the next release.", messages.SUCCESS)
        if skipped:
            names = ", ".join(sorted(set(skipped)))
            self.message_user(request, f"Not resolved: no report of {names} has named a release yet.", messages.WARNING)

    @admin.action(description="Reopen selected errors", permissions=["change"])
    def reopen_selected(self, request, queryset):
        count = self._change_status(request, queryset, resolved=False)
        self.message_user(request, f"Reopened {count} error(s).", messages.SUCCESS)

    @admin.action(description="Mute selected errors for 1 hour", permissions=["change"])
    def mute_selected_for_an_hour(self, request, queryset):
        self._mute(request, queryset, until=timezone.now() + timedelta(hours=1))

    @admin.action(description="Mute selected errors for 24 hours", permissions=["change"])
    def mute_selected_for_a_day(self, request, queryset):
        self._mute(request, queryset, until=timezone.now() + timedelta(hours=24))

    @admin.action(description="Mute selected errors until unmuted", permissions=["change"])
    def mute_selected(self, request, queryset):
        self._mute(request, queryset)

    @admin.action(description="Unmute selected errors", permissions=["change"])
    def unmute_selected(self, request, queryset):
        selected = _selected(queryset)
        count = selected.unmute(admin_actor(request))
        LogEntry.objects.log_actions(request.user.pk, selected, CHANGE, "Unmuted.")
        self.message_user(request, f"Unmuted {count} error(s).", messages.SUCCESS)

    def _mute(self, request, queryset, until=None, events=None):
        selected = _selected(queryset)
        count = selected.mute(until, events, admin_actor(request))
        LogEntry.objects.log_actions(request.user.pk, selected, CHANGE, "Muted.")
        self.message_user(request, f"Muted {count} error(s).", messages.SUCCESS)

    def get_changelist(self, request, **kwargs):
        return ErrorChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """A search narrowed by nothing but a status is counted in the search index, as the
        API counts it, instead of checking each of many matches against `errors`."""
        paginator = Paginator(queryset, per_page, orphans, allow_empty_first_page)
        total = _indexed_total(request)
        if total is not None:
            paginator.count = total
        return paginator

    def _change_status(self, request, queryset, *, resolved):
        """Resolve or reopen, and record who did it in the admin's history (LogEntry)."""
        selected = _selected(queryset)
        actor = admin_actor(request)
        count = selected.resolve(actor=actor) if resolved else selected.reopen(actor)
        LogEntry.objects.log_actions(request.user.pk, selected, CHANGE, "Resolved." if resolved else "Reopened.")
        return count

    # --- what the list may be asked ------------------------------------------------------

    def lookup_allowed(self, lookup, value, request=None):
        """Only the declared filters' own parameters; anything else is a 400, so no visitor can
        run, say, a __regex over every message."""
        declared = {f if isinstance(f, str) else f.parameter_name for f in self.list_filter}
        return lookup in declared

    def get_search_results(self, request, queryset, search_term):
        """The API's search (errors.search): full text and key:value filters."""
        if not search_term.strip():
            return queryset, False
        try:
            found, warning = admin_search(queryset, search_term)
        except SearchSyntaxError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return queryset.none(), False
        if warning:
            self.message_user(request, warning, messages.WARNING)
        return found, False

    # --- one error -------------------------------------------------------------------------

    @admin.display(description="culprit")
    def culprit_display(self, error):
        culprit = error.culprit
        if culprit is None:
            return "—"
        where = culprit["file"] if culprit["line"] is None else f'{culprit["file"]}:{culprit["line"]}'
        if culprit["function"]:
            shown = format_html("<code>{}</code> in <code>{}</code>", where, culprit["function"])
        else:
            shown = format_html("<code>{}</code>", where)
        if error.culprit_context:
            return format_html("{}{}", shown, _source_context(error))
        if looks_minified(error.traceback):
            return format_html(
                '{}<p class="minified-note">These frames look minified. Upload the bundle\'s source maps '
                "with <code>sentry-cli sourcemaps upload</code> (README: Tools) and new reports will name "
                "the original files and lines.</p>",
                shown,
            )
        return shown

    @admin.display(description="events over time")
    def charts_display(self, error):
        day, fortnight = (series([error.pk], PERIODS[name])[error.pk] for name in ("24h", "14d"))
        return format_html(
            '<div class="event-charts"><figure><figcaption>Last 24 hours, per hour (UTC)</figcaption>{}</figure>'
            "<figure><figcaption>Last 14 days, per day (UTC)</figcaption>{}</figure></div>",
            mark_safe(bar_chart(day, 480, 80, "%H:%M", axis=True)),
            mark_safe(bar_chart(fortnight, 480, 80, "%b %d", axis=True)),
        )

    @admin.display(description="status changes")
    def activity_display(self, error):
        changes = error.activity.order_by("-at", "-id")[:50]
        if not changes:
            return "—"
        return format_html(
            '<ul class="activity">{}</ul>',
            format_html_join(
                "",
                "<li><time datetime=\"{}\">{}</time>: {}{} by {}</li>",
                (
                    (change.at.isoformat(), naturaltime(change.at), change.get_kind_display(),
                     f" {change.detail}" if change.detail else "", change.actor)
                    for change in changes
                ),
            ),
        )

    @admin.display(description="traceback")
    def traceback_display(self, error):
        if not error.traceback:
            return "—"
        lines = error.traceback.splitlines()
        marked = _culprit_line_index(error, lines)
        return format_html(
            '<pre class="traceback">{}</pre>',
            format_html_join(
                "\n",
                "{}",
                (
                    (format_html('<mark class="culprit">{}</mark>', line) if index == marked else line,)
                    for index, line in enumerate(lines)
                ),
            ),
        )

    def get_urls(self):
        return [
            path("<int:pk>/resolve/", self.admin_site.admin_view(self.resolve_view), name="errors_error_resolve"),
            path("<int:pk>/reopen/", self.admin_site.admin_view(self.reopen_view), name="errors_error_reopen"),
            path("<int:pk>/mute/", self.admin_site.admin_view(self.mute_view), name="errors_error_mute"),
            path("<int:pk>/unmute/", self.admin_site.admin_view(self.unmute_view), name="errors_error_unmute"),
        ] + super().get_urls()

    def resolve_view(self, request, pk):
        return self._set_status(request, pk, resolved=True)

    def reopen_view(self, request, pk):
        return self._set_status(request, pk, resolved=False)

    MUTE_FOR = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}

    def mute_view(self, request, pk):
        """The page's Mute buttons: for a while (`for`: 1h, 24h, 7d), for N more events
        (`events`), or until unmuted."""
        error = self._posted_error(request, pk)
        if not isinstance(error, Error):
            return error
        until, events = None, None
        chosen = request.POST.get("for", "")
        if chosen and chosen not in self.MUTE_FOR:
            self.message_user(request, f"Mute for 1h, 24h, 7d or until unmuted, not {chosen[:20]!r}.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:errors_error_change", args=[pk]))
        if chosen:
            until = timezone.now() + self.MUTE_FOR[chosen]
        elif request.POST.get("events"):
            try:
                events = int(request.POST["events"])
            except ValueError:
                events = 0
            if not 1 <= events <= MuteSerializer.MAX_EVENTS:
                self.message_user(request, "Give a number of events from 1 up.", messages.ERROR)
                return HttpResponseRedirect(reverse("admin:errors_error_change", args=[pk]))
        self._mute(request, Error.objects.filter(pk=error.pk), until, events)
        return HttpResponseRedirect(reverse("admin:errors_error_change", args=[pk]))

    def unmute_view(self, request, pk):
        error = self._posted_error(request, pk)
        if not isinstance(error, Error):
            return error
        self.unmute_selected(request, Error.objects.filter(pk=error.pk))
        return HttpResponseRedirect(reverse("admin:errors_error_change", args=[pk]))

    def _posted_error(self, request, pk):
        """The error a page button POSTed about, or the answer refusing the request."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        error = get_object_or_404(Error, pk=pk)
        if not self.has_change_permission(request, error):
            raise PermissionDenied
        return error

    def _set_status(self, request, pk, *, resolved):
        """The Resolve / Reopen buttons of the error page (POST, CSRF-checked by the admin); a
        resolve may name a release (`in_release`) or ask for the next one (`in_next_release`)."""
        error = self._posted_error(request, pk)
        if not isinstance(error, Error):
            return error
        in_release = request.POST.get("in_release", "").strip()[: Error._meta.get_field("resolved_in_release").max_length]
        in_next_release = request.POST.get("in_next_release") == "1"
        if not resolved:
            self._change_status(request, Error.objects.filter(pk=error.pk), resolved=False)
            self.message_user(request, "Error reopened.", messages.SUCCESS)
        elif in_release or in_next_release:
            try:
                error.resolve_in(in_release, in_next_release, admin_actor(request))
            except NoReleaseYet as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:errors_error_change", args=[pk]))
            LogEntry.objects.log_actions(request.user.pk, [error], CHANGE, f"Resolved in {error.resolved_in_release}.")
            self.message_user(request, f"Error resolved in {'the release after ' if in_next_release else ''}"
                              f"{error.resolved_in_release}.", messages.SUCCESS)
        else:
            self._change_status(request, Error.objects.filter(pk=error.pk), resolved=True)
            self.message_user(request, "Error resolved.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:errors_error_change", args=[pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: the page's actions are its buttons (resolve, mute…), not Save.
        extra_context = {
            **(extra_context or {}),
            "title": "Error",
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "title": "Errors"})

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    class Media:
        css = {"all": ["errors/admin.css"]}


def _selected(queryset):
    """The groups an action was given, as a plain queryset: the list's may carry a search's
    subquery or a join, which an UPDATE cannot take."""
    return Error.objects.filter(pk__in=list(queryset.values_list("pk", flat=True)))


def _moment(when):
    return format_html('<time datetime="{}">{}</time>', when.isoformat(), f"{timezone.localtime(when):%Y-%m-%d %H:%M} UTC")


def admin_actor(request):
    """How the activity record names an admin user."""
    return f"{request.user.get_username()} (admin)"


def _source_context(error):
    """The original source around a source-mapped culprit, its own line marked."""
    context = json.loads(error.culprit_context)
    first = (error.culprit_line or 1) - len(context["pre"])
    rows = [*context["pre"], context["line"], *context["post"]]
    marked = len(context["pre"])
    return format_html(
        '<pre class="source-context">{}</pre>',
        format_html_join(
            "\n",
            "{}",
            (
                (format_html('<mark class="culprit">{} {}</mark>', first + i, row) if i == marked else f"{first + i} {row}",)
                for i, row in enumerate(rows)
            ),
        ),
    )


def looks_minified(traceback):
    """A JavaScript stack whose frames sit far into long lines, or in `.min.js` files."""
    stack = parse_stack(traceback)
    if stack.language != JAVASCRIPT or MINIFIED_HEADING in traceback:
        return False
    return any((frame.column or 0) > MINIFIED_COLUMN or frame.file.endswith(".min.js") for frame in stack.frames)


def _culprit_line_index(error, lines):
    """Which printed line is the culprit frame: the last match for Python, the first for JS."""
    if not error.culprit_file or error.culprit_line is None:
        return None
    line_marks = (f"line {error.culprit_line}", f":{error.culprit_line}")
    matches = [
        index for index, text in enumerate(lines)
        if error.culprit_file in text and any(mark in text for mark in line_marks)
    ]
    if not matches:
        return None
    return matches[-1] if parse_stack(error.traceback).language == PYTHON else matches[0]
