from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class SuperuserAdminSite(AdminSite):
    """Django's admin, open to superusers only: staff status alone does not let anyone in."""

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


class MendAdminConfig(AdminConfig):
    default_site = "config.admin.SuperuserAdminSite"
