from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api.views import audit, auth, cases, people, ruptures, trends


class Router(DefaultRouter):
    include_root_view = False


router = Router(trailing_slash="/?")  # type: ignore[arg-type]  # optional slash
router.register("clients", cases.ClientViewSet, basename="client")
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
router.register("access-events", audit.AccessEventViewSet, basename="access-event")

v1: list[URLPattern | URLResolver] = [
    path("auth/login/", auth.LoginView.as_view(), name="login"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
    path("auth/logout-all/", auth.LogoutAllView.as_view(), name="logout-all"),
    path("me/", people.MeView.as_view(), name="me"),
    path("trends/<slug:figure>/", trends.TrendView.as_view(), name="trends"),
    path("supervisees/", trends.SuperviseesView.as_view(), name="supervisees"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
