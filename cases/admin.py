"""Django admin, for superusers only (see ``config.admin``): practice set-up and support.
Clinical content is not registered here; it is reached through the API, which scopes and
audits every read."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from cases.models import Membership, Practice, SupervisionAssignment, User


@admin.register(User)
class MendUserAdmin(UserAdmin):
    pass


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "trends_epsilon", "retention_years", "srs_cutoff")
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "practice", "role", "is_active")
    list_filter = ("role", "is_active")
    autocomplete_fields = ("user",)


@admin.register(SupervisionAssignment)
class SupervisionAssignmentAdmin(admin.ModelAdmin):
    list_display = ("supervisor", "clinician", "practice")
