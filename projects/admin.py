"""Projects, their keys and alert channels in the admin: a new project gets a key, and each
key's DSN is shown ready to copy."""

from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from django.utils.html import format_html

from .auth import forget_cached_keys
from .models import AlertChannel, ApiToken, Project, ProjectKey


class ProjectKeyInline(admin.TabularInline):
    model = ProjectKey
    extra = 0
    fields = ["label", "is_active", "allowed_origins", "events_per_minute", "dsn_display", "created_at", "last_used_at"]
    readonly_fields = ["dsn_display", "created_at", "last_used_at"]

    @admin.display(description="DSN")
    def dsn_display(self, key):
        if not key.pk:
            return "— (shown once saved)"
        return format_html('<input type="text" readonly value="{}" size="60" onclick="this.select()">', key.dsn)


class AlertChannelInline(admin.TabularInline):
    model = AlertChannel
    extra = 0
    fields = ["kind", "url", "label", "is_active", "created_at"]
    readonly_fields = ["created_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "slug", "events_per_minute", "new_groups_per_hour", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["id", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "id", "created_at"]}),
        ("Limits", {"fields": ["events_per_minute", "new_groups_per_hour"]}),
        ("Grouping, retention and alerts", {
            "fields": ["fingerprint_strategy", "retention_days", "alert_emails", "alert_environments"]
        }),
    ]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ProjectKeyInline, AlertChannelInline]

    def get_readonly_fields(self, request, obj=None):
        # Groups refer to their project by name: renaming would cut them off from it.
        return [*self.readonly_fields, "name"] if obj is not None else self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not form.instance.keys.exists():
            ProjectKey.objects.create(project=form.instance, label="default")
        forget_cached_keys()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        forget_cached_keys()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens for tools: made here (shown once) or by `createtoken`, revoked, never edited."""

    list_display = ["name", "hint", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "hint", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["hint", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    def save_model(self, request, obj, form, change):
        token = None if change else obj.new_token()
        super().save_model(request, obj, form, change)
        if token is not None:
            self.message_user(
                request,
                format_html('Copy the token now, it is not shown again: <code id="new-token">{}</code>', token),
                messages.SUCCESS,
            )

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        forget_cached_keys()
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
