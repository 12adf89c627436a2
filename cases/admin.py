"""Django admin, for superusers only (see ``config.admin``): practice set-up and support.
Clinical content is not registered here; it is reached through the API, which scopes and
audits every read."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from cases.models import Membership, Practice, SupervisionAssignment, User

# django-stubs make the admin classes generic in their model; Django's own are not
# subscriptable at run time.
if TYPE_CHECKING:
    _UserAdmin = UserAdmin[User]
    _PracticeAdmin = admin.ModelAdmin[Practice]
    _MembershipAdmin = admin.ModelAdmin[Membership]
    _SupervisionAssignmentAdmin = admin.ModelAdmin[SupervisionAssignment]
else:
    _UserAdmin = UserAdmin
    _PracticeAdmin = _MembershipAdmin = _SupervisionAssignmentAdmin = admin.ModelAdmin


@admin.register(User)
class MendUserAdmin(_UserAdmin):
    pass


@admin.register(Practice)
class PracticeAdmin(_PracticeAdmin):
    list_display = ("name", "slug", "trends_epsilon", "retention_years", "srs_cutoff")
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(_MembershipAdmin):
    list_display = ("user", "practice", "role", "is_active")
    list_filter = ("role", "is_active")
    autocomplete_fields = ("user",)


@admin.register(SupervisionAssignment)
class SupervisionAssignmentAdmin(_SupervisionAssignmentAdmin):
    list_display = ("supervisor", "clinician", "practice")
