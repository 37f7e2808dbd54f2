"""The API's OpenAPI inspector: drf-spectacular's, knowing the project's own permissions.

drf-spectacular declares authentication optional (`{}` among an operation's security
requirements) only for DRF's AllowAny and IsAuthenticatedOrReadOnly. The API's reads
are open to anyone through its own permission classes too (their `anonymous_reads`);
without this, every public GET would be declared as needing a token or a session, and
generated clients would refuse to call it anonymously. Writes keep their requirements.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS, AllowAny


def reads_anonymously(permission) -> bool:
    """Whether `permission` lets anyone make a safe request (GET, HEAD, OPTIONS)."""
    return isinstance(permission, AllowAny) or getattr(permission, "anonymous_reads", False)


class ApiAutoSchema(AutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        if (
            {} not in auths
            and self.method in SAFE_METHODS
            and all(reads_anonymously(p) for p in self.view.get_permissions())
        ):
            auths.append({})
        return auths
