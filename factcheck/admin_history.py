"""The admin's "History" page, backed by pghistory's database-level events.

Django's own admin history only knows what was saved through the admin;
these events are written by PostgreSQL triggers, so edits from the API,
management commands, `queryset.update()` and raw SQL appear too, each with
the user and URL of the request that caused it when there was one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from pghistory.models import Events

if TYPE_CHECKING:
    from django.contrib import admin
    from django.db.models.options import Options
    from django.http import HttpRequest, HttpResponseRedirect

    # The mixin goes on a ModelAdmin; at run time it stands alone.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object

HIDDEN_FIELDS = {"search_vector", "updated_at"}


def history_rows(obj) -> list[dict]:
    """Newest first: when, who, what happened and each changed field (before → after)."""
    events = list(Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id"))
    user_ids = {
        event.pgh_context["user"]
        for event in events
        if event.pgh_context and event.pgh_context.get("user") is not None
    }
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=user_ids)}
    rows = []
    for event in events:
        context = event.pgh_context or {}
        user_id = context.get("user")
        if event.pgh_diff:
            changes = [
                {"field": name, "before": before, "after": after}
                for name, (before, after) in sorted(event.pgh_diff.items())
                if name not in HIDDEN_FIELDS
            ]
        else:  # the first event of an object: show what it held
            changes = [
                {"field": name, "before": None, "after": value}
                for name, value in sorted((event.pgh_data or {}).items())
                if name not in HIDDEN_FIELDS and name != "id"
            ]
        rows.append(
            {
                "when": event.pgh_created_at,
                "label": event.pgh_label,
                "user": users.get(user_id) if user_id is not None else None,
                "url": context.get("url", ""),
                "changes": changes,
            }
        )
    return rows


class EditHistoryMixin(_ModelAdmin):
    """Replace the admin's History page with the database-level edit history."""

    object_history_template = "admin/edit_history.html"

    if TYPE_CHECKING:
        # ModelAdmin's, private, so django-stubs leave it out; the desk's views use it too.
        def _get_obj_does_not_exist_redirect(
            self, request: HttpRequest, opts: Options[Any], object_id: str
        ) -> HttpResponseRedirect: ...

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Edit history: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "rows": history_rows(obj),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)
