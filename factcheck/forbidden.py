"""handler403: a refusal said in words, in the layout of the page that refused.

Inside the admin, a member of the desk gets the admin's own layout: what they
lack (the refusing view's PermissionDenied message, when it gives one) and the
editors to ask. Everywhere else the site's page; API clients get the API's
JSON error (DRF answers its own refusals before this is reached).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import requires_csrf_token

from claims.roles import EDITORS, is_desk_member
from factcheck.site_views import _api_error, _is_api

# The editors named on the page, at most; beyond them, "or any other editor".
EDITORS_NAMED = 5


@requires_csrf_token
def permission_denied(request, exception):
    reason = str(exception or "").strip()
    if _is_api(request):
        return _api_error(403, "permission_denied", reason or "Permission denied.")
    if request.path.startswith(reverse("admin:index")) and is_desk_member(request.user):
        response = TemplateResponse(
            request,
            "admin/403.html",
            {
                **admin.site.each_context(request),
                "title": "Not allowed",
                "reason": reason,
                "editors": _editors_to_ask(request.user),
            },
            status=403,
        )
        return response.render()
    return render(request, "403.html", {"reason": reason}, status=403)


def _editors_to_ask(user) -> list:
    editors = (
        get_user_model()
        .objects.filter(groups__name=EDITORS, is_active=True, is_staff=True)
        .exclude(pk=user.pk)
        .order_by("username")
        .only("username", "first_name", "last_name", "email")
    )
    return list(editors[: EDITORS_NAMED + 1])
