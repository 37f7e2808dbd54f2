from django.conf import settings

from claims.claimreview import publisher_url, site_root


def site(request):
    """Names every page needs: the publisher and the canonical address, which names the
    server answering the request unless SITE_URL says otherwise (claims.claimreview)."""
    return {
        "PUBLISHER_NAME": settings.PUBLISHER_NAME,
        "PUBLISHER_HOME": publisher_url(request),
        "SITE_URL": site_root(request),
    }
