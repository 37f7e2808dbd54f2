from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Fact-check ledger"
admin.site.site_title = "Fact-check ledger"
admin.site.index_title = "The desk"
# The claim list needs the width more than a second navigation does.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    # Until the reader pages exist, the desk's admin is the front door.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
