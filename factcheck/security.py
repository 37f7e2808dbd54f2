"""Who is asking, and what the browser may run: the client's address behind a
proxy, the Content-Security-Policy on revalidated pages, and the policies of
the browsable API and Redoc.

`client_ip` is the one answer to "which address is this request from", used
by the login lockout (django-axes, factcheck.login_throttle) and by the API's
throttling of failed tokens (claims.api.authentication).
"""

from __future__ import annotations

import ipaddress
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP
from rest_framework import renderers


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, as the outermost of our proxies saw it.

    With PROXY_COUNT = 0 (no proxy) that is the connecting address. With N
    proxies, each appends the address it was reached from to X-Forwarded-For,
    so the Nth entry from the right is what the outermost proxy saw; anything
    left of it was written by the client and is not believed.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"
    hops = settings.PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.headers.get("x-forwarded-for", "").split(",")
        if entry.strip()
    ]
    if not forwarded:
        return remote
    # Fewer entries than proxies: every entry is one of ours, the first the outermost.
    candidate = forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
    return _valid_ip(candidate) or remote


class CSPNotModifiedMiddleware:
    """A 304 carries no Content-Security-Policy: the browser keeps the one it
    stored with the page it revalidated, whose nonces match that page.

    Sits just inside Django's ContentSecurityPolicyMiddleware. A 304 is
    answered before any template runs, so the policy built for it would hold
    no nonce (or a fresh one); sent with the 304 it would replace the stored
    policy, and the stored page's inline styles and scripts would be refused.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 304:
            # Read by ContentSecurityPolicyMiddleware, as django.views.decorators.csp sets it.
            response._csp_config = {}
            response._csp_ro_config = {}
        return response


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, under a policy of its own for styles only.

    DRF's templates style some buttons and forms with `style` attributes and
    Pygments' colours with an inline <style>, none of which can carry a
    nonce: these pages alone may apply inline styles. Their scripts are all
    files of DRF's, and stay under the same rule as everywhere.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            # Read by ContentSecurityPolicyMiddleware, as django.views.decorators.csp sets it.
            response._csp_config = {
                **settings.SECURE_CSP,
                "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
            }
        return super().render(data, accepted_media_type, renderer_context)


# Redoc (/api/redoc/, drf-spectacular-sidecar's bundle) takes the page's nonce for the styles
# it renders (templates/drf_spectacular/redoc.html), but perfect-scrollbar's stylesheet is
# added as the bundle's file loads, before Redoc can be given the nonce: that one style
# element is allowed by the hashes of what it holds (empty at first, then the stylesheet).
# Redoc's search runs in a worker it makes from a blob. Its "API docs by Redocly" logo is
# fetched from Redocly's CDN: refused like everything not served from here.
REDOC_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # an empty <style>
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar's .ps{...}
]
_POLICY = cast(dict[str, list[str]], settings.SECURE_CSP)
REDOC_CSP = {
    **_POLICY,
    "style-src": [*_POLICY["style-src"], *REDOC_STYLE_HASHES],
    "worker-src": [CSP.SELF, "blob:"],
}
