"""Django's model permissions, read in one query rather than two."""

from __future__ import annotations

from django.contrib.auth import backends
from django.contrib.auth.models import Permission


class ModelBackend(backends.ModelBackend):
    """django.contrib.auth's ModelBackend, which reads a user's own permissions and
    their groups' in two queries on the first check of a request; here one UNION
    does, on every API write (a verdict's server time is counted in milliseconds)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            names = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                rows = Permission.objects.values_list(*names)
            else:
                # Without Permission's default ordering, which a UNION's parts may not have.
                own = Permission.objects.filter(user=user_obj).order_by().values_list(*names)
                groups = Permission.objects.filter(group__user=user_obj).order_by()
                rows = own.union(groups.values_list(*names)).order_by()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
