"""Failed logins lock out, per username and client address, for a cool-off period.

django-axes counts the failures in the database (its tables, migrated with
the rest and granted to the app's role like every desk table). After
LOGIN_FAILURE_LIMIT failures of one username from one address, that
username cannot log in from that address until LOGIN_COOLOFF_MINUTES have
passed without a try; the right password is refused too. Every other
username, and the same username from elsewhere, is untouched: nobody can
lock the desk out of the site. The admin's login page says what happened.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def cooloff_minutes() -> int:
    cool_off = get_cool_off()  # AXES_COOLOFF_TIME, as django-axes reads it
    return round(cool_off.total_seconds() / 60) if cool_off else 0


def lockout_message() -> str:
    minutes = cooloff_minutes()
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (
        f"Too many failed logins: this account cannot log in from your address for the next "
        f"{wait}, and each new try restarts the wait. If the password is lost, ask an "
        "administrator to set a new one."
    )


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' check, first in AUTHENTICATION_BACKENDS: a locked-out
    username and address is refused before any password is checked.

    Only a login that arrives with a request is a login attempt over the
    network; code that authenticates without one (a management command, a
    shell) passes on to the next backend, where axes would raise instead.
    """

    def authenticate(self, request, username=None, password=None, **kwargs: Any):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, its error saying why, as 429.

    The admin's login view has rendered its form with "Please enter the
    correct username and password"; the same page is rendered again with the
    lockout in its place, the username kept, and Retry-After.
    """
    message = lockout_message()
    context = getattr(original_response, "context_data", None) or {}
    form = context.get("form")
    template = getattr(original_response, "template_name", None)
    if form is not None and template and form.is_bound:
        # The form was validated when the view ran; only its message changes.
        form.errors[NON_FIELD_ERRORS] = form.error_class([message], error_class="nonfield")
        page = TemplateResponse(request, template, context, status=429)
        response: HttpResponse = page.render()
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(cooloff_minutes() * 60)
    return response
