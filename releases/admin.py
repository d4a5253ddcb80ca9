"""Releases and uploaded bundles in the admin. The project page lists its bundles too: projects
sit below releases, so this app adds its inline to the projects admin rather than the reverse."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat

from projects.admin import ProjectAdmin

from .models import ArtifactBundle, Release


@admin.display(description="size", ordering="size")
def size_display(bundle):
    return filesizeformat(bundle.size)


class ArtifactBundleInline(admin.TabularInline):
    model = ArtifactBundle
    extra = 0
    can_delete = True
    fields = ["release", "dist", "file_count", size_display, "created_at", "last_used_at"]
    readonly_fields = fields
    verbose_name = "source-map bundle"
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


ProjectAdmin.inlines = [*ProjectAdmin.inlines, ArtifactBundleInline]


@admin.register(ArtifactBundle)
class ArtifactBundleAdmin(admin.ModelAdmin):
    """Uploaded by sentry-cli only; here they are listed and removed."""

    list_display = ["project", "release", "dist", "file_count", size_display, "created_at", "last_used_at"]
    list_filter = ["project"]
    list_select_related = ["project"]
    readonly_fields = ["project", "checksum", "release", "dist", "file_count", "size", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["version", "project", "first_seen", "last_seen", "date_released", "date_created"]
    list_filter = ["project"]
    list_select_related = ["project"]
    search_fields = ["version"]
    readonly_fields = ["project", "version", "first_seen", "last_seen", "date_released", "date_created"]

    def has_add_permission(self, request):
        return False
