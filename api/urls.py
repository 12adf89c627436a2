from collections.abc import Callable

from django.http import HttpResponseBase
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api.views import audit, auth, cases, people, ruptures, timeline, trends, worklist
from config.errors import api_not_found


class Router(DefaultRouter):
    include_root_view = False

    def __init__(self) -> None:
        super().__init__()
        # Every route answers with or without its trailing slash. DRF reads its
        # ``trailing_slash`` argument as a flag (any truthy value means "/"), so the pattern
        # is set here.
        self.trailing_slash = "/?"


router = Router()
router.register("clients", cases.ClientViewSet, basename="client")
router.register("participants", cases.ParticipantViewSet, basename="participant")
router.register("sessions", cases.TherapySessionViewSet, basename="session")
router.register("progress-notes", cases.ProgressNoteViewSet, basename="progress-note")
router.register("process-notes", cases.ProcessNoteViewSet, basename="process-note")
router.register("measures/srs", cases.SessionRatingScaleViewSet, basename="srs")
router.register("measures/ors", cases.OutcomeRatingScaleViewSet, basename="ors")
router.register("measures/psq", cases.PostSessionQuestionnaireViewSet, basename="psq")
router.register("measures/wai-sr", cases.WorkingAllianceInventoryViewSet, basename="wai-sr")
router.register("rupture-episodes", ruptures.RuptureEpisodeViewSet, basename="rupture-episode")
router.register("repair-attempts", ruptures.RepairAttemptViewSet, basename="repair-attempt")
router.register("signals", ruptures.RuptureSignalViewSet, basename="signal")
router.register("memberships", people.MembershipViewSet, basename="membership")
router.register(
    "supervision-assignments",
    people.SupervisionAssignmentViewSet,
    basename="supervision-assignment",
)
router.register("practices", people.PracticeViewSet, basename="practice")
router.register("users", people.UserViewSet, basename="user")
router.register("access-events", audit.AccessEventViewSet, basename="access-event")


def route(pattern: str, view: Callable[..., HttpResponseBase], name: str) -> URLPattern:
    """A route that answers with or without its trailing slash, as the router's do: Django's
    APPEND_SLASH would otherwise redirect a POST without it, losing the body (or, with DEBUG,
    answer an HTML page)."""
    return re_path(rf"^{pattern}/?$", view, name=name)


v1: list[URLPattern | URLResolver] = [
    route("auth/login", auth.LoginView.as_view(), name="login"),
    route("auth/logout", auth.LogoutView.as_view(), name="logout"),
    route("auth/logout-all", auth.LogoutAllView.as_view(), name="logout-all"),
    route("auth/set-password", auth.SetPasswordView.as_view(), name="set-password"),
    route("me", people.MeView.as_view(), name="me"),
    route(r"trends/(?P<figure>[-a-zA-Z0-9_]+)", trends.TrendView.as_view(), name="trends"),
    route("supervisees", trends.SuperviseesView.as_view(), name="supervisees"),
    route("worklist", worklist.WorklistView.as_view(), name="worklist"),
    route(
        r"clients/(?P<pk>[0-9]+)/timeline",
        timeline.ClientTimelineView.as_view(),
        name="client-timeline",
    ),
    path("", include(router.urls)),
]

urlpatterns = [
    path("v1/", include(v1)),
    route("schema", SpectacularAPIView.as_view(), name="schema"),
    route("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Last: any other path under /api/ answers the JSON 404, whatever the method and DEBUG,
    # and never redirects to add a slash.
    re_path(r"^.*$", api_not_found),
]
