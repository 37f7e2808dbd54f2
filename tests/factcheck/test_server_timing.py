"""Server-Timing (factcheck.server_timing): on when SERVER_TIMING says so, and timing
the whole stack."""

from __future__ import annotations

import re
import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from benchmarks.harness import server_milliseconds
from factcheck.server_timing import ServerTimingMiddleware


def test_the_header_times_the_whole_stack():
    def slow_view(request):
        time.sleep(0.02)
        return HttpResponse("ok")

    response = ServerTimingMiddleware(slow_view)(RequestFactory().get("/"))

    assert re.fullmatch(r"app;dur=\d+\.\d\d", response["Server-Timing"])
    assert 20 <= server_milliseconds(response["Server-Timing"]) < 2000


def test_the_bench_refuses_an_answer_without_it():
    with pytest.raises(RuntimeError, match="SERVER_TIMING"):
        server_milliseconds("")


@pytest.mark.django_db
def test_it_is_off_unless_asked_for(client, settings):
    assert not settings.SERVER_TIMING
    assert "Server-Timing" not in client.get("/")
