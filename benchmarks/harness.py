"""The HTTP benchmark behind `manage.py bench`: the project served by gunicorn as in
production (factcheck/gunicorn.conf.py, one worker, DEBUG off) against a generated
database, measured from loopback.

For each size: the median latency of every page and endpoint (after warm-up),
conditional GETs answered 304, the floor views (factcheck/bench_views.py);
requests per second under a few concurrent connections for the key routes;
the public export's rate; verdicts written through the API. `Table` prints
one row per figure with its value at each size, the growth from the smallest
size to the largest, and the goals of the issue, each marked met or not.
"""

from __future__ import annotations

import base64
import http.client
import random
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from benchmarks.databases import Server, size_label
from benchmarks.generate import COMMON_WORD, EDITOR_PASSWORD, EDITOR_USERNAME, RARE_WORD, Result
from benchmarks.importing import ImportFigures

HOST = "127.0.0.1"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: bytes
    seconds: float


# Latency samples are taken in this many rounds over all routes (Bench.latencies).
LATENCY_ROUNDS = 3


class Http:
    """One connection per request, as gunicorn's sync workers close each one."""

    def __init__(self, port: int):
        self.port = port

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 120,
    ) -> Answer:
        started = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        cookies = {}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                cookies[key.strip()] = rest.split(";", 1)[0]
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, answer_headers, cookies, data, seconds)


@dataclass(frozen=True)
class Route:
    key: str
    label: str
    path: str
    auth: str = ""  # "", "session" (admin) or "token"
    conditional: bool = False  # send the ETag of a first GET: expect 304


@dataclass
class Targets:
    """What the routes point at in one database."""

    claim_slug: str
    claim_id: int
    claim_statement: str
    speaker_slug: str
    speaker_claims: int
    topic_slug: str
    deep_cursor: str
    verdict_slugs: list[str]
    token: str
    # A source slug for each of verdict_slugs, cited as its evidence.
    verdict_evidence: list[str] = field(default_factory=list)


def find_targets(server: Server, name: str, claims: int, verdicts: int) -> Targets:
    import psycopg

    with psycopg.connect(**server.connect_kwargs(name), autocommit=True) as conn:
        claim = _row(
            conn,
            """
            SELECT c.id, c.slug, c.statement FROM claims_claim c
             WHERE c.published_at IS NOT NULL AND c.status <> 'unverified'
               AND EXISTS (SELECT 1 FROM claims_appearance a WHERE a.claim_id = c.id
                           AND a.quote_id IS NOT NULL)
             ORDER BY c.id OFFSET %s LIMIT 1
            """,
            [claims // 10],
        )
        # The speaker whose share of the claims is nearest 1%.
        speaker = _row(
            conn,
            """
            SELECT s.slug, n FROM (SELECT speaker_id, count(*) AS n FROM claims_claim
                                    GROUP BY speaker_id) c
              JOIN claims_speaker s ON s.id = c.speaker_id
             ORDER BY abs(n - %s), s.id LIMIT 1
            """,
            [claims / 100],
        )
        topic = _row(conn, "SELECT slug FROM claims_topic ORDER BY id OFFSET 2 LIMIT 1")
        middle = _row(
            conn,
            """
            SELECT updated_at FROM claims_claim WHERE published_at IS NOT NULL
             ORDER BY updated_at DESC, id DESC OFFSET %s LIMIT 1
            """,
            [claims // 2],
        )
        rng = random.Random()
        # Each with a source it appears in, cited as the verdict's evidence: a desk
        # requires evidence for a verdict by default (REQUIRE_VERDICT_EVIDENCE).
        picked: list[tuple[Any, ...]] = conn.execute(
            """
            SELECT c.slug, (SELECT s.slug FROM claims_appearance a
                              JOIN sources_source s ON s.id = a.source_id
                             WHERE a.claim_id = c.id ORDER BY a.id LIMIT 1) AS evidence
              FROM claims_claim c WHERE c.published_at IS NOT NULL AND c.id <> %s
             AND c.id %% 97 = %s LIMIT %s
            """,
            [claim[0], rng.randrange(97), verdicts],
        ).fetchall()
        fallback = _row(conn, "SELECT slug FROM sources_source ORDER BY id LIMIT 1")
        token = _row(
            conn,
            "SELECT t.key FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id"
            " WHERE u.username = %s",
            [EDITOR_USERNAME],
        )
    # DRF's cursor: the position (the first ordering field's value) of a page half-way down.
    cursor = base64.b64encode(urlencode({"p": str(middle[0])}).encode()).decode()
    return Targets(
        claim_slug=claim[1],
        claim_id=claim[0],
        claim_statement=claim[2],
        speaker_slug=speaker[0],
        speaker_claims=speaker[1],
        topic_slug=topic[0],
        deep_cursor=cursor,
        verdict_slugs=[row[0] for row in picked],
        verdict_evidence=[row[1] or fallback[0] for row in picked],
        token=token[0],
    )


def repeat_suggestions(server: Server, name: str) -> Callable[[], int]:
    """A count of the suggested repeats in the bench database, read beside the server."""

    def count() -> int:
        import psycopg

        with psycopg.connect(**server.connect_kwargs(name), autocommit=True) as conn:
            return int(_row(conn, "SELECT count(*) FROM claims_repeatsuggestion")[0])

    return count


def _row(conn: Any, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    found = conn.execute(sql, params).fetchone()
    if found is None:
        raise RuntimeError(f"the bench database has nothing for: {sql.strip()[:80]}")
    return tuple(found)


def routes(t: Targets) -> list[Route]:
    return [
        Route("home", "home /", "/"),
        Route("claim", "claim page", f"/claims/{t.claim_slug}/"),
        Route("list", "/claims/ page 1", "/claims/"),
        Route("list_q_common", f"/claims/?q={COMMON_WORD} (common)", f"/claims/?q={COMMON_WORD}"),
        Route("list_q_rare", f"/claims/?q={RARE_WORD} (rare)", f"/claims/?q={RARE_WORD}"),
        Route("speaker", "speaker page (~1% of claims)", f"/speakers/{t.speaker_slug}/"),
        Route("topic", "topic page", f"/topics/{t.topic_slug}/"),
        Route(
            "api_search",
            f"API claims:search?query={COMMON_WORD}",
            f"/api/v1/claims:search?query={COMMON_WORD}",
        ),
        Route("api_list", "API claims list", "/api/v1/claims/"),
        Route("api_detail", "API claim detail", f"/api/v1/claims/{t.claim_slug}/"),
        Route("api_deep", "API deep cursor page", f"/api/v1/claims/?cursor={quote(t.deep_cursor)}"),
        Route("api_q", f"API ?q={COMMON_WORD}", f"/api/v1/claims/?q={COMMON_WORD}"),
        Route("admin_list", "admin claim changelist", "/admin/claims/claim/", auth="session"),
        Route(
            "admin_change",
            "admin claim change page",
            f"/admin/claims/claim/{t.claim_id}/change/",
            auth="session",
        ),
        Route(
            "admin_search",
            f"admin changelist search ({COMMON_WORD})",
            f"/admin/claims/claim/?q={COMMON_WORD}",
            auth="session",
        ),
        # What a desk member's form asks before a claim is saved (claims.duplicates):
        # the target claim's own statement, so that the lookup finds it.
        Route(
            "api_duplicates",
            "API likely duplicates of a statement",
            f"/api/v1/claims/duplicates?{urlencode({'statement': t.claim_statement})}",
            auth="token",
        ),
        Route("claim_304", "304 claim page", f"/claims/{t.claim_slug}/", conditional=True),
        Route("list_304", "304 /claims/", "/claims/", conditional=True),
        Route(
            "api_detail_304",
            "304 API claim detail",
            f"/api/v1/claims/{t.claim_slug}/",
            conditional=True,
        ),
        Route("floor_list", "floor: raw claims list", "/bench/claims/"),
        Route("floor_detail", "floor: raw claim detail", f"/bench/claims/{t.claim_slug}/"),
        Route("hello", "floor: Django hello world", "/bench/hello"),
    ]


# The seed articles, POSTed as new sources (Bench.new_sources), this many times in all.
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SOURCE_POSTS = 6

# Requests per second under load: the API against its floor, 304s against hello world.
LOAD_ROUNDS = 6
THROUGHPUT = [
    "api_list",
    "floor_list",
    "api_detail",
    "floor_detail",
    "claim_304",
    "list_304",
    "api_detail_304",
    "hello",
]


@dataclass
class SizeResult:
    claims: int
    generation: Result
    latency_ms: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)
    export_rate: float = 0.0
    export_entries: int = 0
    export_complete: bool = False
    verdict_ms: float = 0.0  # at the client: connection, HTTP and server
    verdict_server_ms: float = 0.0  # the app's own (Server-Timing)
    verdicts_written: int = 0
    source_server_ms: float = 0.0  # a new source: stored, split, scored, scanned (server)
    source_ms: float = 0.0  # the same at the client
    sources_written: int = 0
    repeats_suggested: int = 0  # by the new sources' scans, over all of them
    imported: ImportFigures | None = None
    verified: bool | None = None
    verify_output: str = ""
    notes: list[str] = field(default_factory=list)


class Bench:
    def __init__(
        self,
        port: int,
        targets: Targets,
        *,
        samples: int,
        warmup: int,
        load_seconds: float,
        connections: int,
        export_seconds: float,
        out: Callable[[str], None],
        suggestions: Callable[[], int] = lambda: 0,
    ):
        self.http = Http(port)
        self.suggestions = suggestions  # how many repeats are suggested in the database
        self.targets = targets
        self.samples = samples
        self.warmup = warmup
        self.load_seconds = load_seconds
        self.connections = connections
        self.export_seconds = export_seconds
        self.out = out
        self.session = ""
        self.etags: dict[str, str] = {}
        self.verdict_server_ms = 0.0

    def headers(self, route: Route) -> dict[str, str]:
        headers = {"Host": HOST, "Accept": "text/html,application/json"}
        if route.auth == "session":
            headers["Cookie"] = f"sessionid={self.session}"
        if route.auth == "token":
            headers["Authorization"] = f"Token {self.targets.token}"
        if route.conditional:
            headers["If-None-Match"] = self.etags[route.key]
        return headers

    def log_in(self) -> None:
        """The generated editor logs in to the admin, as a person would."""
        form = self.http.request("/admin/login/", headers={"Host": HOST})
        csrf = form.cookies.get("csrftoken", "")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        if not csrf or not match:
            raise RuntimeError(f"the admin login form has no CSRF token (status {form.status})")
        body = urlencode(
            {
                "username": EDITOR_USERNAME,
                "password": EDITOR_PASSWORD,
                "csrfmiddlewaretoken": match.group(1).decode(),
                "next": "/admin/",
            }
        ).encode()
        answer = self.http.request(
            "/admin/login/",
            method="POST",
            body=body,
            headers={
                "Host": HOST,
                "Cookie": f"csrftoken={csrf}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        self.session = answer.cookies.get("sessionid", "")
        if answer.status != 302 or not self.session:
            raise RuntimeError(f"the bench editor could not log in to the admin ({answer.status})")

    def prepare_conditional(self, route: Route) -> None:
        first = self.http.request(route.path, headers={"Host": HOST})
        etag = first.headers.get("etag")
        if not etag:
            raise RuntimeError(f"{route.path} sent no ETag (status {first.status})")
        self.etags[route.key] = etag

    def latencies(self, routes: list[Route]) -> dict[str, tuple[float, int]]:
        """Each route's median milliseconds after warm-up, and the status it answered.

        The samples are taken in LATENCY_ROUNDS rounds over every route, not all of a
        route's at once: a burst of noise on a shared machine (autovacuum, a
        checkpoint, a neighbour) then lands on every route a little rather than on
        one route whole, where it flipped single lines of the table between runs."""
        headers = {route.key: self.headers(route) for route in routes}
        for route in routes:
            for _ in range(self.warmup):
                self.http.request(route.path, headers=headers[route.key])
        times: dict[str, list[float]] = {route.key: [] for route in routes}
        statuses: dict[str, int] = {}
        per_round = -(-self.samples // LATENCY_ROUNDS)  # ceiling
        for _ in range(LATENCY_ROUNDS):
            for route in routes:
                for _ in range(per_round):
                    answer = self.http.request(route.path, headers=headers[route.key])
                    statuses[route.key] = answer.status
                    times[route.key].append(answer.seconds * 1000)
        return {key: (statistics.median(times[key]), statuses[key]) for key in times}

    def throughputs(self, routes: list[Route]) -> dict[str, float]:
        """Requests per second answered with each route's status by `connections` clients.

        Measured in interleaved slices (every route for a slice, then every route
        again, LOAD_ROUNDS times), not one route after the other: the ratios compare
        routes, and on two shared cores the machine's speed drifts within a run, which
        would otherwise weigh on whichever route ran at a slow moment."""
        answered = {route.key: 0 for route in routes}
        seconds = {route.key: 0.0 for route in routes}
        for _ in range(LOAD_ROUNDS):
            for route in routes:
                count, elapsed = self._load(route, self.load_seconds / LOAD_ROUNDS)
                answered[route.key] += count
                seconds[route.key] += elapsed
        return {key: answered[key] / seconds[key] for key in answered}

    def _load(self, route: Route, duration: float) -> tuple[int, float]:
        headers = self.headers(route)
        expected = 304 if route.conditional else 200
        deadline = time.perf_counter() + duration
        counts = [0] * self.connections

        def client(number: int) -> None:
            while time.perf_counter() < deadline:
                if self.http.request(route.path, headers=headers).status == expected:
                    counts[number] += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(self.connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(counts), time.perf_counter() - started

    def export(self) -> tuple[float, int, bool]:
        """Entries per second of the public export, streamed (cut off after export_seconds)."""
        conn = http.client.HTTPConnection(HOST, self.http.port, timeout=600)
        started = time.perf_counter()
        entries = 0
        complete = False
        try:
            conn.request("GET", "/api/v1/export", headers={"Host": HOST})
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"/api/v1/export answered {response.status}")
            while True:
                line = response.readline()
                if not line:
                    complete = True
                    break
                entries += 1
                if time.perf_counter() - started > self.export_seconds:
                    break
        finally:
            conn.close()
        return entries / (time.perf_counter() - started), entries, complete

    def verdicts(self) -> tuple[float, int]:
        """Median milliseconds of a verdict POSTed through the API (with If-Match)."""
        token = {"Host": HOST, "Authorization": f"Token {self.targets.token}"}
        times: list[float] = []
        server: list[float] = []
        choices = ["true", "mostly_true", "mixed", "misleading", "false"]
        for number, (slug, evidence) in enumerate(
            zip(self.targets.verdict_slugs, self.targets.verdict_evidence, strict=True)
        ):
            current = self.http.request(f"/api/v1/claims/{slug}/", headers=token)
            etag = current.headers.get("etag", "")
            body = orjson.dumps(
                {
                    "status": choices[number % len(choices)],
                    "explanation": "Bench verdict.",
                    "evidence": [evidence],
                }
            )
            answer = self.http.request(
                f"/api/v1/claims/{slug}/reviews/",
                method="POST",
                body=body,
                headers={
                    **token,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "If-Match": etag,
                },
            )
            if answer.status != 201:
                raise RuntimeError(
                    f"verdict on {slug} answered {answer.status}: {answer.body[:300]!r}"
                )
            times.append(answer.seconds * 1000)
            server.append(server_milliseconds(answer.headers.get("server-timing", "")))
        self.verdict_server_ms = statistics.median(server) if server else 0.0
        return (statistics.median(times) if times else 0.0), len(times)

    def new_sources(self, result: SizeResult) -> Route:
        """New sources POSTed through the API, the seed articles' text each: the source is
        stored, its sentences split and scored as candidate claims and matched against
        the published verdicts as suggested repeats, all in the request
        (claims.source_pipeline). Returns the route of the last one's candidates."""
        token = {"Host": HOST, "Authorization": f"Token {self.targets.token}"}
        texts = [path.read_text() for path in sorted(SEEDS.glob("*.txt"))]
        stamp = f"{time.time_ns():x}"
        suggested_before = self.suggestions()
        times: list[float] = []
        server: list[float] = []
        slug = ""
        for number in range(SOURCE_POSTS):
            slug = f"bench-source-{stamp}-{number}"
            body = orjson.dumps(
                {
                    "slug": slug,
                    "title": f"Bench source {number}",
                    "url": f"https://bench.example/{stamp}/{number}",
                    "snapshot": texts[number % len(texts)],
                }
            )
            answer = self.http.request(
                "/api/v1/sources/",
                method="POST",
                body=body,
                headers={**token, "Content-Type": "application/json"},
            )
            if answer.status != 201:
                raise RuntimeError(f"a new source answered {answer.status}: {answer.body[:300]!r}")
            times.append(answer.seconds * 1000)
            server.append(server_milliseconds(answer.headers.get("server-timing", "")))
        result.source_ms = statistics.median(times)
        result.source_server_ms = statistics.median(server)
        result.sources_written = len(times)
        result.repeats_suggested = self.suggestions() - suggested_before
        return Route(
            "api_candidates",
            "API a new source's candidates",
            f"/api/v1/sources/{slug}/candidates",
            auth="token",
        )

    def run(self, result: SizeResult) -> None:
        self.log_in()
        all_routes = routes(self.targets)
        for route in all_routes:
            if route.conditional:
                self.prepare_conditional(route)
        measured = self.latencies(all_routes)
        for route in all_routes:
            median, status = measured[route.key]
            result.latency_ms[route.key] = median
            result.statuses[route.key] = status
            expected = 304 if route.conditional else 200
            flag = "" if status == expected else f"  (status {status}, expected {expected})"
            if flag:
                result.notes.append(f"{route.label}: answered {status}, expected {expected}")
            self.out(f"    {route.label:<44} {median:9.2f} ms{flag}")
        by_key = {route.key: route for route in all_routes}
        result.throughput = self.throughputs([by_key[key] for key in THROUGHPUT])
        for key in THROUGHPUT:
            label = by_key[key].label + " under load"
            self.out(f"    {label:<44} {result.throughput[key]:9.1f} req/s")
        result.export_rate, result.export_entries, result.export_complete = self.export()
        self.out(
            f"    {'public export':<44} {result.export_rate:9.0f} entries/s "
            f"({result.export_entries:,} entries{'' if result.export_complete else ', cut off'})"
        )
        result.verdict_ms, result.verdicts_written = self.verdicts()
        result.verdict_server_ms = self.verdict_server_ms
        self.out(
            f"    {'verdict through the API':<44} {result.verdict_server_ms:9.2f} ms "
            f"of server time, {result.verdict_ms:.2f} ms at the client "
            f"(median of {result.verdicts_written})"
        )
        candidates = self.new_sources(result)
        self.out(
            f"    {'new source (candidates, repeat scan)':<44} {result.source_server_ms:9.2f} ms "
            f"of server time, {result.source_ms:.2f} ms at the client "
            f"(median of {result.sources_written}; {result.repeats_suggested} repeats suggested)"
        )
        median, status = self.latencies([candidates])[candidates.key]
        result.latency_ms[candidates.key] = median
        result.statuses[candidates.key] = status
        self.out(f"    {candidates.label:<44} {median:9.2f} ms")


# --- The table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    text: str
    check: Callable[[float], bool]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in {"req/s", "entries/s", "claims/s"}:
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:,.1f} s"
    return f"{value:.1f}" if value >= 100 else f"{value:.2f}"


@dataclass
class TableRow:
    label: str
    unit: str
    values: list[float | None]
    goal: Goal | None = None
    growth: bool = False  # growth largest/smallest is a goal (<= 2x)


GROWTH_GOAL = 2.0


def _latency(key: str) -> Callable[[SizeResult], float | None]:
    return lambda result: result.latency_ms[key]


def _throughput(key: str) -> Callable[[SizeResult], float | None]:
    return lambda result: result.throughput[key]


def _versus_hello(key: str) -> Callable[[SizeResult], float | None]:
    return lambda result: result.throughput[key] / result.throughput["hello"]


def table_rows(results: list[SizeResult]) -> list[TableRow]:
    def per_size(get: Callable[[SizeResult], float | None]) -> list[float | None]:
        values = []
        for result in results:
            try:
                values.append(get(result))
            except (KeyError, ZeroDivisionError):
                values.append(None)
        return values

    labels = {route.key: route.label for route in routes(_PLACEHOLDER)}
    rows: list[TableRow] = []
    for key, label in labels.items():
        floor = key in {"floor_list", "floor_detail", "hello"}
        rows.append(TableRow(label, "ms", per_size(_latency(key)), growth=not floor))
    for key in THROUGHPUT:
        rows.append(TableRow(f"{labels[key]}, under load", "req/s", per_size(_throughput(key))))
    rows += [
        TableRow(
            "export (public, streamed)",
            "entries/s",
            per_size(lambda r: r.export_rate),
            Goal(">= 20,000 entries/s", lambda v: v >= 20_000),
        ),
        TableRow(
            "verdict through the API, server time (median)",
            "ms",
            per_size(lambda r: r.verdict_server_ms),
            Goal("<= 10 ms", lambda v: v <= 10),
        ),
        TableRow(
            "verdict through the API, at the client (median)",
            "ms",
            per_size(lambda r: r.verdict_ms),
        ),
        TableRow(
            "new source: candidates and repeat scan, server time",
            "ms",
            per_size(lambda r: r.source_server_ms or None),
            growth=True,
        ),
        TableRow(
            "API a new source's candidates",
            "ms",
            per_size(_latency("api_candidates")),
            growth=True,
        ),
        TableRow(
            "GOAL API list / floor list (req/s)",
            "x",
            per_size(lambda r: r.throughput["api_list"] / r.throughput["floor_list"]),
            Goal(">= 0.5", lambda v: v >= 0.5),
        ),
        TableRow(
            "GOAL API detail / floor detail (time)",
            "x",
            per_size(lambda r: r.latency_ms["api_detail"] / r.latency_ms["floor_detail"]),
            Goal("<= 2x", lambda v: v <= 2),
        ),
    ]
    for key in ("claim_304", "list_304", "api_detail_304"):
        rows.append(
            TableRow(
                f"GOAL {labels[key]} / hello world (req/s)",
                "x",
                per_size(_versus_hello(key)),
                Goal(">= 0.8", lambda v: v >= 0.8),
            )
        )
    rows += [
        TableRow(
            "import: LIAR-shaped rows, end to end",
            "claims/s",
            per_size(lambda r: r.imported.claims_per_second if r.imported else None),
            Goal(">= 10,000 claims/s", lambda v: v >= 10_000),
        ),
        TableRow(
            "import floor: its claims by INSERT ... SELECT",
            "claims/s",
            per_size(lambda r: r.imported.table_claims_per_second if r.imported else None),
        ),
        TableRow(
            "GOAL import / bare COPY of its rows (time)",
            "x",
            per_size(lambda r: r.imported.versus_copy if r.imported else None),
            Goal("<= 4x", lambda v: v <= 4),
        ),
        TableRow(
            "generator: claims/s",
            "claims/s",
            per_size(lambda r: None if r.generation.reused else r.generation.claims_per_second),
        ),
        TableRow(
            "generator: total time",
            "s",
            per_size(lambda r: r.generation.seconds),
            Goal("1M claims < 600 s", lambda v: v < 600),
        ),
        TableRow(
            "generator: ledger append (chain trigger)",
            "entries/s",
            per_size(lambda r: r.generation.entries_per_second or None),
        ),
    ]
    return rows


_PLACEHOLDER = Targets("slug", 1, "statement", "speaker", 0, "topic", "cursor", [], "")


def server_milliseconds(header: str) -> float:
    """The `app` duration of a Server-Timing header (factcheck.server_timing)."""
    match = re.search(r"\bapp;dur=([0-9.]+)", header)
    if match is None:
        raise RuntimeError(f"no Server-Timing app duration in {header!r}: is SERVER_TIMING on?")
    return float(match.group(1))


def python_loop_seconds(steps: int = 5_000_000) -> float:
    """Seconds a fixed pure-Python loop takes: the machine's speed at the moment, printed
    beside the table. Shared machines vary by half or more between hours, and the
    absolute goals (export rate, a verdict's milliseconds) move with them."""
    started = time.perf_counter()
    total = 0
    for step in range(steps):
        total += step
    return time.perf_counter() - started


def render_table(results: list[SizeResult]) -> list[str]:
    sizes = [size_label(r.claims) for r in results]
    rows = table_rows(results)
    header = ["figure", "unit", *sizes, "growth", "goal", "met"]
    lines: list[list[str]] = []
    growths: list[tuple[str, float]] = []
    for row in rows:
        first, last = row.values[0], row.values[-1]
        growth = ""
        growth_value = None
        if len(results) > 1 and first and last is not None:
            growth_value = last / first
            growth = f"{growth_value:.2f}x"
        goal, met = "", ""
        if row.goal is not None:
            goal = row.goal.text
            if row.label.startswith("generator: total"):
                judged = [
                    v
                    for r, v in zip(results, row.values, strict=True)
                    if r.claims >= 1_000_000 and v is not None
                ]
                met = ("met" if row.goal.check(judged[-1]) else "NOT MET") if judged else "n/a"
            elif last is not None:
                met = "met" if row.goal.check(last) else "NOT MET"
        elif row.growth and len(results) > 1:
            goal = f"growth <= {GROWTH_GOAL:g}x"
            if growth_value is not None:
                growths.append((row.label, growth_value))
                met = "met" if growth_value <= GROWTH_GOAL else "NOT MET"
        lines.append(
            [row.label, row.unit, *(_fmt(v, row.unit) for v in row.values), growth, goal, met]
        )
    if growths:
        worst = max(growths, key=lambda item: item[1])
        lines.append(
            [
                f"GOAL worst growth ({worst[0]})",
                "x",
                *([""] * len(results)),
                f"{worst[1]:.2f}x",
                f"<= {GROWTH_GOAL:g}x",
                "met" if worst[1] <= GROWTH_GOAL else "NOT MET",
            ]
        )
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if position in (0, 1) else cell.rjust(width)
            for position, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    ruler = "  ".join("-" * width for width in widths)
    return [line(header), ruler, *(line(cells) for cells in lines)]


def write_log(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def describe_targets(t: Targets) -> str:
    return (
        f"claim {t.claim_slug}, speaker {t.speaker_slug} ({t.speaker_claims:,} claims), "
        f"topic {t.topic_slug}"
    )


def as_data(result: SizeResult) -> dict[str, Any]:
    return {
        "claims": result.claims,
        "latency_ms": result.latency_ms,
        "throughput": result.throughput,
        "export_rate": result.export_rate,
        "verdict_ms": result.verdict_ms,
        "verdict_server_ms": result.verdict_server_ms,
        "source_server_ms": result.source_server_ms,
        "repeats_suggested": result.repeats_suggested,
        "import": result.imported.__dict__ if result.imported else None,
        "generator_seconds": result.generation.seconds,
    }
