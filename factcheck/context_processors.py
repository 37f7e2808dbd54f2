from django.conf import settings


def site(request):
    """Names every page needs: the publisher and the canonical address."""
    return {"PUBLISHER_NAME": settings.PUBLISHER_NAME, "SITE_URL": settings.SITE_URL.rstrip("/")}
