"""Who may call what. Kept apart from the views: DRF imports the default
permission class while it is still importing its own views module."""

from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions

from claims.roles import is_desk_member


class ReadAnyoneWriteWithModelPerms(DjangoModelPermissions):
    """Anyone reads (querysets limit anonymous readers to published material);
    writing needs the account's model permission (contributors and editors)."""

    # Reads need no authentication: the schema says so (claims.api.schema).
    anonymous_reads = True

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().has_permission(request, view)


class IsDeskMember(BasePermission):
    """Staff accounts only; the services check the finer permission themselves."""

    def has_permission(self, request, view):
        return is_desk_member(request.user)
