"""Time the desk's admin pages against whatever database DATABASE_URL names.

    DATABASE_URL=postgresql://... DEBUG=true .venv/bin/python benchmarks/admin_pages.py [runs]

Logs in as the first superuser through Django's test client (no server, no
network) and prints, per page, the median of `runs` requests in milliseconds,
the number of SQL queries and the size of the HTML.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "factcheck.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from claims.models import Claim  # noqa: E402
from sources.models import Source  # noqa: E402


def pages() -> list[tuple[str, str]]:
    claim = Claim.objects.order_by("pk")[Claim.objects.count() // 2]
    source = Source.objects.order_by("pk").first()
    assert source is not None
    return [
        ("claims list", "/admin/claims/claim/"),
        ("claims list, status filter", "/admin/claims/claim/?status=false"),
        ("claims list, page 20", "/admin/claims/claim/?p=20"),
        ("claims search, common word", "/admin/claims/claim/?q=tax"),
        ("claims search, two words", "/admin/claims/claim/?q=whale+bitcoin"),
        ("claim change page", f"/admin/claims/claim/{claim.pk}/change/"),
        ("speakers list", "/admin/claims/speaker/"),
        ("sources list", "/admin/sources/source/"),
        ("source change page", f"/admin/sources/source/{source.pk}/change/"),
        ("quotes list", "/admin/claims/quote/"),
        ("appearances list", "/admin/claims/appearance/"),
        ("reviews list", "/admin/claims/review/"),
        (
            "speaker autocomplete",
            "/admin/autocomplete/?app_label=claims&model_name=claim&field_name=speaker&term=Speaker+1",
        ),
    ]


def main(runs: int) -> None:
    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.filter(is_superuser=True).order_by("pk").first())
    print(f"{Claim.objects.count()} claims")
    for name, url in pages():
        client.get(url)  # warm caches and the connection
        times = []
        for _ in range(runs):
            reset_queries()
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        with_queries = len(connection.queries)
        print(
            f"{name:32} {statistics.median(times):9.1f} ms  {with_queries:3} queries  "
            f"{len(response.content) // 1024:6} KiB"
        )


if __name__ == "__main__":
    from django.conf import settings

    settings.DEBUG = True  # connection.queries
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
