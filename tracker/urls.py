from django.contrib import admin
from django.urls import path, re_path
from django.views.generic import RedirectView

from errors import views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("health", views.HealthView.as_view()),
    re_path(r"^api/errors/?$", views.ErrorCollectionView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/?$", views.ErrorDetailView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/resolve/?$", views.ResolveView.as_view()),
    re_path(r"^api/errors/(?P<pk>[0-9]{1,18})/unresolve/?$", views.UnresolveView.as_view()),
    re_path(r"^api/projects/?$", views.ProjectListView.as_view()),
    re_path(r"^api/(?P<project_id>[0-9]{1,18})/envelope/?$", views.SentryEnvelopeView.as_view()),
    path("admin/", admin.site.urls),
]

handler400 = "errors.views.bad_request"
handler403 = "errors.views.permission_denied"
handler404 = "errors.views.not_found"
handler500 = "errors.views.server_error"
