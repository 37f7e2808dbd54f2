from django.urls import path

from claims import site_pages
from claims.models import SitePageSlug

app_name = "site"

urlpatterns = [
    path("about/", site_pages.site_page, {"slug": SitePageSlug.ABOUT.value}, name="about"),
    path(
        "about/methodology/",
        site_pages.site_page,
        {"slug": SitePageSlug.METHODOLOGY.value},
        name="methodology",
    ),
    path("about/rating-scale/", site_pages.rating_scale, name="rating-scale"),
    path(
        "about/contact/", site_pages.site_page, {"slug": SitePageSlug.CONTACT.value}, name="contact"
    ),
    path("suggest/", site_pages.suggest, name="suggest"),
    path("suggest/thanks/", site_pages.suggest_thanks, name="suggest-thanks"),
]
