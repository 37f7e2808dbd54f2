"""Generated query strings against every reader page and every admin list: no 5xx.

The HTML side's counterpart of the API's schemathesis run (tests/api/test_schemathesis.py).
Each page gets query strings made of the parameters it reads (and the ones its own
links carry) plus random ones, with values that are NUL bytes, any unicode but
surrogates, long strings, numbers, dates and not-quite-dates, and raw
percent-encodings (valid, broken and overlong). Bounded (MAX_EXAMPLES per page) so it
fits in CI every time; `make pytest FAST=1` leaves it out (marker `fuzz`).
"""

from __future__ import annotations

import re
import warnings
from html import unescape
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claims.models import Claim
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    CorrectionFactory,
    QuoteFactory,
    SourceFactory,
    SpeakerFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = [pytest.mark.fuzz]

MAX_EXAMPLES = 12

# What the reader pages read (claims.views and friends), and a few they might.
READER_KEYS = [
    "q",
    "status",
    "speaker",
    "topic",
    "kind",
    "source",
    "from",
    "to",
    "claim_date_from",
    "claim_date_to",
    "page",
    "before",
    "format",
    "p",
]
# What the admin's lists read (django.contrib.admin.views.main), before their filters'.
ADMIN_KEYS = ["q", "o", "p", "all", "e", "_facets", "_popup", "_to_field", "_changelist_filters"]

# Raw pieces of a query string, sent as they are: percent-encodings valid and broken,
# separators, NULs written three ways.
RAW_PIECES = [
    "%00",
    "%",
    "%2",
    "%zz",
    "%ff%fe",
    "%c3%28",
    "%e2%82",
    "%ed%a0%80",  # an encoded surrogate: not UTF-8
    "%f0%9f%98%80",
    "%C0%80",  # an overlong NUL
    "%25",
    "%26",
    "%3D",
    "+",
    "&",
    "=",
    ";",
    "%0a",
    "%0d%0a",
    "..",
    "%2e%2e%2f",
]

# Sent to every key of a page at once, before the generated query strings: a number
# too big for any column, a negative one, dates out of range and impossible, a long
# string, bytes that are not UTF-8, a control character, a right-to-left mark.
SWEEP_VALUES = [
    "9" * 30,
    "-1",
    "99999-01-01",
    "2024-02-30",
    "x" * 3000,
    "%ff%fe",
    "%0a",
    "%E2%80%AE",
]
# The admin's own parameters: wrong, each refuses the request before the filters are
# read (a 400, or a redirect to `?e=1`).
UNSWEPT_KEYS = {"_to_field", "e", "p", "o", "all", "_popup", "_facets", "_changelist_filters"}

_values = st.one_of(
    st.text(max_size=40),  # any unicode but surrogates (Hypothesis's default)
    st.text(alphabet=st.characters(codec="ascii"), max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "0",
            "-1",
            "1e309",
            "nan",
            "9" * 40,
            "2024-02-30",
            "2024-13-01",
            "0000-01-01",
            "9999-12-31",
            "99999-01-01",
            "2024-01-01T00:00",
            "true",
            "yes",
            "__isnull",
            "id",
            "-pk",
            "1.2.3",
            "\u202e",
            "\ufeff",
        ]
    ),
    st.text(min_size=1, max_size=3).map(lambda s: s * 700),  # long
)


def _encoded(text: str) -> str:
    return quote(text, safe="")


@st.composite
def query_strings(draw, keys: list[str], examples: list[str]) -> str:
    """A query string of some of `keys` and random ones, with generated values, values
    the page's own links carry (`examples`), or raw pieces sent as they are."""
    values = st.one_of(_values, st.sampled_from(examples)) if examples else _values
    parts = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        key = draw(st.one_of(st.sampled_from(keys), st.text(max_size=12)))
        way = draw(st.integers(0, 5))
        if way == 0:
            value = "".join(draw(st.lists(st.sampled_from(RAW_PIECES), min_size=1, max_size=4)))
        elif way == 1:  # a NUL somewhere in an otherwise ordinary value
            text = draw(values)
            cut = draw(st.integers(0, len(text)))
            value = _encoded(text[:cut] + "\x00" + text[cut:])
        else:
            value = _encoded(draw(values))
        parts.append(f"{_encoded(key)}={value}")
    return "&".join(parts)


def _link_params(html: str) -> list[tuple[str, str]]:
    """The parameters the page's own links carry: what its filters and pages read."""
    params = []
    for href in re.findall(r'href="([^"]*\?[^"]*)"', html):
        params += parse_qsl(urlsplit(unescape(href)).query, keep_blank_values=True)
    return params


def _fuzz_address(client: Client, address: str, keys: list[str], examples: list[str]) -> int:
    """GET `address` with MAX_EXAMPLES generated query strings; the number sent."""
    sent = 0

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(query=query_strings(keys, examples))
    def check(query):
        nonlocal sent
        sent += 1
        # Each request in a savepoint of its own, so that a failed query cannot
        # poison the ones after it.
        savepoint = transaction.savepoint_create()
        try:
            with warnings.catch_warnings():
                # A date typed without a time zone in a filter: Django warns and reads it
                # as UTC (the suite turns warnings into errors; a server logs them).
                warnings.filterwarnings(
                    "ignore", "DateTimeField .* received a naive datetime", RuntimeWarning
                )
                response = client.get(address, QUERY_STRING=query)
        finally:
            transaction.savepoint_rollback(savepoint)
        assert response.status_code < 500, f"GET {address}?{query}: {response.status_code}"

    # First, explicitly: a NUL in each key alone (PostgreSQL refuses it wherever a view
    # passes it on; alone, since one refused key hides the others), then every key at
    # once with each of the other worst values (but the keys that refuse the whole
    # request before the others are read).
    swept = [key for key in keys if key not in UNSWEPT_KEYS]
    queries = [f"{_encoded(key)}=a%00" for key in keys]
    queries += ["&".join(f"{_encoded(key)}={value}" for key in swept) for value in SWEEP_VALUES]
    for query in queries:
        check = example(query=query)(check)
    check()
    return sent


def _fuzz(client: Client, addresses: dict[str, list[str]], base_keys: list[str]) -> int:
    """Every address with generated query strings made of `base_keys`, the address's own
    keys and those its links carry; the number of requests sent. Failures are
    collected, one per address, and reported together."""
    sent = 0
    failures = []
    for address, own_keys in addresses.items():
        first = client.get(address)
        assert first.status_code == 200, (address, first.status_code)
        seen = _link_params(first.content.decode(errors="replace"))
        keys = sorted({*base_keys, *own_keys, *(key for key, _ in seen)})
        examples = sorted({value for _, value in seen})
        try:
            sent += _fuzz_address(client, address, keys, examples)
        except Exception as exc:  # one report per address, then the next one
            failures.append(f"{address}: {type(exc).__name__}: {exc}")
    assert not failures, "\n\n".join(failures)
    return sent


@pytest.fixture
def published(db):
    """Something on every reader page: published claims with verdicts, a correction, a
    quote and appearances, their speaker, source and topic."""
    speaker = SpeakerFactory(slug="ada-example", name="Ada Example")
    topic = TopicFactory(slug="ports", name="Ports")
    source = SourceFactory(slug="port-article", snapshot="The port handled 12 million tonnes.")
    claim = ClaimFactory(
        slug="port-tonnes", speaker=speaker, topics=[topic], published=True, verdict="false"
    )
    ClaimFactory(speaker=speaker, topics=[topic], published=True, verdict="true")
    quote = QuoteFactory(source=source, speaker=speaker, words="12 million tonnes")
    AppearanceFactory(claim=claim, source=source, quote=quote)
    CorrectionFactory(claim=claim, changes={"statement": "The port handled 12 million tonnes."})
    return Claim.objects.get(pk=claim.pk)


def test_reader_pages_answer_any_query_string_without_a_server_error(published):
    claim = published
    speaker, source, topic = claim.speaker, claim.appearances.get().source, claim.topics.get()
    addresses = [
        reverse("claims:home"),
        reverse("claims:list"),
        reverse("claims:detail", kwargs={"slug": claim.slug}),
        reverse("claims:speaker_list"),
        reverse("claims:speaker", kwargs={"slug": speaker.slug}),
        reverse("sources:list"),
        reverse("sources:detail", kwargs={"slug": source.slug}),
        reverse("claims:topic_list"),
        reverse("claims:topic", kwargs={"slug": topic.slug}),
        reverse("claims:status", kwargs={"status": "false"}),
        reverse("claims:corrections"),
        reverse("claims:corrections-policy"),
        reverse("claims:feed"),
        reverse("sitemap"),
        reverse("robots"),
        reverse("ledger-format"),
        reverse("api-guide"),
    ]

    sent = _fuzz(Client(), dict.fromkeys(addresses, []), READER_KEYS)

    print(f"\nreader pages: {len(addresses)} pages, {sent} requests")


def _admin_filter_keys(model_admin, superuser) -> list[str]:
    """The parameters a ModelAdmin's list reads: its filters' and its date hierarchy's."""
    request = RequestFactory().get("/")
    request.user = superuser
    changelist = model_admin.get_changelist_instance(request)
    keys = [key for spec in changelist.filter_specs for key in spec.expected_parameters()]
    if model_admin.date_hierarchy:
        keys += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return keys


def test_admin_lists_answer_any_query_string_without_a_server_error(published):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    lists = {
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"): (
            _admin_filter_keys(model_admin, superuser)
        )
        for model, model_admin in admin.site._registry.items()
    }

    sent = _fuzz(client, lists, ADMIN_KEYS)

    print(f"\nadmin lists: {len(lists)} lists, {sent} requests")
