"""Projects and their keys in the admin: a new project gets a key, and each key's DSN is shown
ready to copy."""

from django.contrib import admin
from django.utils.html import format_html

from .auth import forget_cached_keys
from .models import Project, ProjectKey


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
    inlines = [ProjectKeyInline]

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
