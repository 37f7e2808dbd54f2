import os

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_control
from django.views.decorators.csp import csp_override
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from factcheck import bad_input, site_views
from factcheck.security import REDOC_CSP


@method_decorator(cache_control(max_age=86400, public=True), name="dispatch")
class FaviconRedirect(RedirectView):
    """Browsers ask /favicon.ico of every site whatever the pages link: the SVG icon,
    under its static name (hashed in production, so looked up per request)."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


admin.site.site_header = "Fact-check ledger"
admin.site.site_title = "Fact-check ledger"
admin.site.index_title = "The desk"
# The claim list needs the width more than a second navigation does.
admin.site.enable_nav_sidebar = False
# A date-hierarchy year out of range is a bad filter, not a 500 (Django ticket #37357).
bad_input.refuse_out_of_range_admin_dates()

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(("claims.api.urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/redoc/",
        csp_override(REDOC_CSP)(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
    path("api/guide/", site_views.api_guide, name="api-guide"),
    path("sources/", include("sources.urls")),
    path("sitemap.xml", site_views.sitemap_index, name="sitemap"),
    path("sitemap-pages.xml", site_views.sitemap_pages, name="sitemap-pages"),
    path(
        "sitemap-<slug:section>-<int:page>.xml",
        site_views.sitemap_section,
        name="sitemap-section",
    ),
    path("robots.txt", site_views.robots_txt, name="robots"),
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("ledger/format/", site_views.ledger_format, name="ledger-format"),
    path("ledger/verifier.py", site_views.ledger_verifier, name="ledger-verifier"),
    path("", include("claims.site_urls")),
    path("", include("claims.urls")),
]

# The benchmark's floor views (factcheck/bench_views.py), only for `manage.py bench`.
if os.environ.get("BENCH_FLOOR_VIEWS", "").strip().lower() in {"1", "true", "yes", "on"}:
    urlpatterns.insert(0, path("bench/", include("factcheck.bench_views")))

handler400 = "factcheck.bad_input.bad_request"
handler403 = "factcheck.forbidden.permission_denied"
handler404 = "factcheck.site_views.page_not_found"
handler500 = "factcheck.site_views.server_error"
