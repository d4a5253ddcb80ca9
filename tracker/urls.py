from django.contrib import admin
from django.urls import path, re_path
from django.views.generic import RedirectView

from errors import views as errors
from ingest import views as ingest
from releases import api as tools
from tracker import views as service

ORG = r"(?P<org>[^/]+)"
PROJECT = r"(?P<project>[^/]+)"
VERSION = r"(?P<version>[^/]+)"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("health", service.HealthView.as_view()),
    re_path(r"^api/errors/?$", ingest.report_collection),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/?$", errors.ErrorDetailView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/resolve/?$", errors.ResolveView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/unresolve/?$", errors.UnresolveView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/activity/?$", errors.ActivityView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/mute/?$", errors.MuteView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/unmute/?$", errors.UnmuteView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/stats/?$", errors.StatsView.as_view()),
    re_path(r"^api/projects/?$", errors.ProjectListView.as_view()),
    re_path(r"^api/(?P<project_id>[0-9]{1,18})/envelope/?$", ingest.sentry_envelope_route),
    re_path(r"^api/(?P<project_id>[0-9]{1,18})/store/?$", ingest.sentry_store_route),
    re_path(r"^api/(?P<project_id>[0-9]{1,18})/security/?$", ingest.security_report_route),
    # What sentry-cli and the bundler plugins call: releases and source-map uploads.
    re_path(r"^api/0/?$", tools.ApiRootView.as_view()),
    re_path(rf"^api/0/organizations/{ORG}/?$", tools.OrganizationView.as_view()),
    re_path(rf"^api/0/organizations/{ORG}/releases/?$", tools.OrganizationReleasesView.as_view()),
    re_path(rf"^api/0/organizations/{ORG}/releases/{VERSION}/?$", tools.ReleaseView.as_view()),
    re_path(rf"^api/0/organizations/{ORG}/releases/{VERSION}/deploys/?$", tools.DeploysView.as_view()),
    re_path(rf"^api/0/projects/{ORG}/{PROJECT}/releases/?$", tools.OrganizationReleasesView.as_view()),
    re_path(rf"^api/0/projects/{ORG}/{PROJECT}/releases/{VERSION}/?$", tools.ReleaseView.as_view()),
    re_path(rf"^api/0/projects/{ORG}/{PROJECT}/releases/{VERSION}/deploys/?$", tools.DeploysView.as_view()),
    re_path(rf"^api/0/organizations/{ORG}/chunk-upload/?$", tools.ChunkUploadView.as_view()),
    re_path(rf"^api/0/organizations/{ORG}/artifactbundle/assemble/?$", tools.AssembleView.as_view()),
    path("admin/", admin.site.urls),
]

handler400 = "tracker.views.bad_request"
handler403 = "tracker.views.permission_denied"
handler404 = "tracker.views.not_found"
handler500 = "tracker.views.server_error"
