from django.contrib import admin
from django.urls import include, path, re_path

from config.errors import api_not_found
from config.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^health/?$", health, name="health"),
    path("api/", include("api.urls")),
    re_path(r"^api$", api_not_found),  # not redirected to /api/, which names nothing either
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
