"""The fault drill (`manage.py drill`, `make drill`): the production server under
sustained reads and verdict writes while its database restarts and one of its
workers is killed; afterwards every acknowledged write must be in the ledger,
the ledger must verify, and errors must have happened only during the faults.

The pieces, in the order the command uses them: `Gunicorn` serves the
project as in production (factcheck/gunicorn.conf.py, DEBUG off) on
loopback; `Load` runs reader and writer threads against it, recording every
request and every acknowledged write (a 201 with the entry's sequence and
hash); `check_ledger` looks each acknowledged entry up, signs a checkpoint
if the last write's was missed, and verifies the whole ledger; `Findings`
sorts the errors into the fault windows and prints the figures.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.authtoken.models import Token

from claims.ledger import checkpoints, tree
from claims.ledger.verification import verify_ledger
from claims.models import Claim, Review, Speaker
from claims.roles import EDITORS, sync_roles

# An error counts as the fault's when its request overlaps the fault's window
# widened by this much (a request's own timing is measured on the client side).
GRACE_S = 1.0
# After an error a thread waits this long before its next request: a client
# that retries at once would only measure how fast 503s can be served.
BACKOFF_S = 0.1
VERDICTS = ("true", "mostly_true", "mixed", "misleading", "false")
DRILL_EDITOR = "drill-editor"


def elapsed_since(start: float) -> Callable[[], float]:
    return lambda: time.monotonic() - start


# --- What happened ----------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    kind: str  # "read" or "write"
    path: str
    started: float  # seconds since the load started
    ended: float
    status: int | None  # None: no answer at all
    retry_after: str | None = None
    failure: str = ""  # why there was no answer

    @property
    def is_error(self) -> bool:
        return self.status is None or self.status >= 500

    @property
    def latency_ms(self) -> float:
        return (self.ended - self.started) * 1000

    def describe(self) -> str:
        outcome = self.status if self.status is not None else f"no answer ({self.failure})"
        return f"{self.started:7.2f}s {self.kind} {self.path}: {outcome}"


@dataclass(frozen=True)
class Ack:
    """A write the server acknowledged: 201 and the entry it appended."""

    claim: str
    sequence: int
    entry_hash: str
    at: float


@dataclass
class Window:
    """A fault, from its start until the service was back."""

    fault: str  # "database" or "worker"
    start: float
    end: float
    detail: str = ""

    def covers(self, request: Request) -> bool:
        return request.started <= self.end + GRACE_S and request.ended >= self.start - GRACE_S


# --- The server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Gunicorn:
    """gunicorn serving the project on loopback, as in production (DEBUG off)."""

    def __init__(self, *, workers: int, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log
        command = [sys.executable, "-m", "gunicorn"]
        config = settings.BASE_DIR / "factcheck" / "gunicorn.conf.py"
        if config.exists():
            command += ["-c", str(config)]
        command += [
            "factcheck.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
        ]
        self.command = command
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def describe(self) -> str:
        arguments = [
            str(Path(a).relative_to(settings.BASE_DIR)) if a.endswith(".conf.py") else a
            for a in self.command[3:]
        ]
        return " ".join(["gunicorn", *arguments])

    def wait_until_serving(self, client: Client, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log_tail()}")
            if client.get("/api/v1/ledger/", kind="read").status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def workers(self) -> set[int]:
        import psutil  # type: ignore[import-untyped]

        try:
            return {child.pid for child in psutil.Process(self.process.pid).children()}
        except psutil.NoSuchProcess:
            return set()

    def kill_worker(self, clock: Callable[[], float], timeout: float = 60) -> Window:
        """SIGKILL one worker; the window lasts until the master has replaced it."""
        before = self.workers()
        if not before:
            raise RuntimeError("gunicorn has no workers to kill")
        victim = random.choice(sorted(before))
        start = clock()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = self.workers() - before
            if fresh:
                return Window(
                    "worker", start, clock(), f"worker {victim} killed, replaced by {min(fresh)}"
                )
            time.sleep(0.02)
        raise RuntimeError(f"gunicorn did not replace worker {victim} within {timeout:.0f} s")

    def stop(self) -> int | None:
        """Stop it as a service manager does (SIGTERM: graceful); its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def server_environment(*, extra: dict[str, str]) -> dict[str, str]:
    """The environment of the drill's gunicorn: production settings on loopback,
    signing checkpoints with the key and into the log this process verifies."""
    env = dict(os.environ)
    env.update(
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on loopback, where production has a TLS-terminating proxy.
        SECURE_SSL_REDIRECT="false",
        # The drill (or the benchmark) is the only client: politeness limits would
        # only refuse it, and a huge rate costs each request a huge list (settings).
        API_ANON_RATE="off",
        API_USER_RATE="off",
        LEDGER_CHECKPOINT_LOG=str(settings.LEDGER_CHECKPOINT_LOG),
        PYTHONUNBUFFERED="1",
    )
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = secrets.token_urlsafe(50)
    key = checkpoints.signer_key()
    if key:
        env["LEDGER_SIGNING_KEY"] = key
    env.update(extra)
    return env


# --- The load ----------------------------------------------------------------------


class Client:
    """One request per connection, as many independent clients would send them."""

    def __init__(self, port: int, token: str, clock: Callable[[], float]):
        self.port = port
        self.token = token
        self.clock = clock

    def send(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Request, dict[str, Any] | None, dict[str, str]]:
        all_headers = {"Accept": "application/json", "Authorization": f"Token {self.token}"}
        all_headers.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        started = self.clock()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            failure = f"{type(exc).__name__}: {exc}".rstrip(": ")
            return Request(kind, path, started, self.clock(), None, failure=failure), None, {}
        finally:
            conn.close()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        request = Request(
            kind, path, started, self.clock(), response.status, answer_headers.get("retry-after")
        )
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return request, parsed if isinstance(parsed, dict) else None, answer_headers

    def get(self, path: str, *, kind: str) -> Request:
        return self.send("GET", path, kind=kind)[0]


@dataclass
class Load:
    """Reader and writer threads until `stop` is set; each writer judges a claim of
    its own, with If-Match, so a refusal can only mean an earlier write committed."""

    client: Client
    claims: list[str]
    readers: int
    stop: threading.Event = field(default_factory=threading.Event)
    requests: list[Request] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for number in range(self.readers):
            self._spawn(self._read, f"drill-reader-{number}", number)
        for slug in self.claims:
            self._spawn(self._write, f"drill-writer-{slug}", slug)

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _spawn(self, target: Callable[[Any], None], name: str, argument: Any) -> None:
        thread = threading.Thread(target=target, args=(argument,), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
        if request.is_error:
            self.stop.wait(BACKOFF_S)

    def _read(self, number: int) -> None:
        paths = itertools.cycle(
            [
                "/api/v1/ledger/",
                f"/api/v1/claims/{self.claims[number % len(self.claims)]}/",
                f"/api/v1/claims/{self.claims[number % len(self.claims)]}/reviews/",
                "/api/v1/claims/?page_size=20",
            ]
        )
        while not self.stop.is_set():
            self._record(self.client.get(next(paths), kind="read"))

    def _write(self, slug: str) -> None:
        etag: str | None = None
        verdicts = itertools.cycle(VERDICTS)
        number = 0
        while not self.stop.is_set():
            if etag is None:
                request, _, headers = self.client.send(
                    "GET", f"/api/v1/claims/{slug}/", kind="read"
                )
                self._record(request)
                etag = headers.get("etag") if request.status == 200 else None
                continue
            number += 1
            request, body, headers = self.client.send(
                "POST",
                f"/api/v1/claims/{slug}/reviews/",
                kind="write",
                body={"status": next(verdicts), "explanation": f"Fault drill verdict {number}."},
                headers={"If-Match": etag},
            )
            self._record(request)
            if request.status == 201 and body is not None:
                with self._lock:
                    self.acks.append(Ack(slug, body["sequence"], body["entry_hash"], request.ended))
                etag = headers.get("etag")
            else:
                # Refused (412: an unacknowledged write of ours had committed) or
                # failed (it may or may not have committed): read the claim again.
                etag = None


def drill_claims(count: int, run: str) -> tuple[str, list[str]]:
    """The drill's editor (its token) and `count` draft claims of this run to judge.

    Drafts: readers of the site never see them. On a database of record
    their verdicts stay in the ledger, as every verdict does.
    """
    sync_roles()
    editor, _ = get_user_model().objects.get_or_create(username=DRILL_EDITOR)
    editor.is_staff = True
    editor.is_active = True
    editor.set_unusable_password()
    editor.save()
    editor.groups.add(Group.objects.get(name=EDITORS))
    token, _ = Token.objects.get_or_create(user=editor)
    speaker, _ = Speaker.objects.get_or_create(
        slug="fault-drill", defaults={"name": "Fault drill", "kind": "organization"}
    )
    slugs = []
    for number in range(1, count + 1):
        claim = Claim.objects.create(
            slug=f"drill-{run}-{number}",
            statement=f"Fault drill {run}, claim {number}: a statement only the drill judges.",
            speaker=speaker,
            kind=Claim.Kind.EVENT,
        )
        slugs.append(claim.slug)
    return token.key, slugs


# --- The checks ------------------------------------------------------------------------


@dataclass
class LedgerCheck:
    acknowledged: int
    lost: list[Ack]
    entries: int
    verified: bool
    problems: list[str]
    checkpoint_size: int | None  # None: no signing key configured
    caught_up_from: int | None  # the size the last checkpoint had, if the drill signed one


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check_ledger(acks: Iterable[Ack]) -> LedgerCheck:
    """Every acknowledged entry in the ledger where it was acknowledged; the last
    checkpoint at the tip (signed now if the last write's was missed); the
    whole ledger verified against its checkpoints."""
    connection.close()  # the database restarted under it
    acks = list(acks)
    stored: dict[str, int] = {}
    for chunk in _chunks([ack.entry_hash for ack in acks], 500):
        stored.update(
            Review.objects.filter(entry_hash__in=chunk).values_list("entry_hash", "sequence")
        )
    lost = [ack for ack in acks if stored.get(ack.entry_hash) != ack.sequence]

    size = tree.size()
    checkpoint_size = caught_up_from = None
    problems: list[str] = []
    if checkpoints.signer_key():
        latest = checkpoints.latest()
        if latest is None or latest.size < size:
            caught_up_from = latest.size if latest else 0
            try:
                latest = checkpoints.sign_latest()
            except checkpoints.CheckpointRefused as refusal:
                problems.append(f"checkpoint refused: {refusal}")
        checkpoint_size = latest.size if latest else 0
    report = verify_ledger()
    problems += report.problems
    return LedgerCheck(
        acknowledged=len(acks),
        lost=lost,
        entries=report.entries,
        verified=report.ok,
        problems=problems,
        checkpoint_size=checkpoint_size,
        caught_up_from=caught_up_from,
    )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Findings:
    """Every request sorted by the fault windows, and whether the drill passed."""

    requests: list[Request]
    windows: list[Window]
    ledger: LedgerCheck

    def __post_init__(self) -> None:
        self.errors = [r for r in self.requests if r.is_error]
        self.in_database = [r for r in self.errors if self._in("database", r)]
        self.in_worker = [
            r for r in self.errors if r not in self.in_database and self._in("worker", r)
        ]
        self.outside = [r for r in self.errors if not self._in(None, r)]
        # During the database's outage every answer must be the API's 503 with Retry-After.
        self.not_503 = [r for r in self.in_database if r.status != 503 or not r.retry_after]
        # Refusals other than 412/409 on writes are never a fault's doing.
        self.unexpected = [
            r
            for r in self.requests
            if r.status is not None
            and 400 <= r.status < 500
            and not (r.kind == "write" and r.status in (409, 412))
        ]
        self.stale = [r for r in self.requests if r.kind == "write" and r.status in (409, 412)]

    def _in(self, fault: str | None, request: Request) -> bool:
        return any(w.covers(request) for w in self.windows if fault in (None, w.fault))

    @property
    def passed(self) -> bool:
        return not (
            self.ledger.lost
            or not self.ledger.verified
            or self.ledger.problems
            or self.outside
            or self.not_503
            or self.unexpected
            or not self.ledger.acknowledged
        )

    def lines(self) -> list[str]:
        answered = [r for r in self.requests if r.status is not None and r.status < 400]
        reads = [r.latency_ms for r in answered if r.kind == "read"]
        writes = [r.latency_ms for r in answered if r.kind == "write"]
        everything = reads + writes
        ledger = self.ledger
        lines = [
            f"Requests: {len(self.requests)} ({sum(r.kind == 'read' for r in self.requests)} reads, "
            f"{sum(r.kind == 'write' for r in self.requests)} verdict writes); latency of the "
            f"answered ones p50 {percentile(everything, 0.5):.0f} ms, p95 "
            f"{percentile(everything, 0.95):.0f} ms (reads {percentile(reads, 0.5):.0f}/"
            f"{percentile(reads, 0.95):.0f} ms, writes {percentile(writes, 0.5):.0f}/"
            f"{percentile(writes, 0.95):.0f} ms)",
            f"Writes acknowledged (201): {ledger.acknowledged}; found in the ledger: "
            f"{ledger.acknowledged - len(ledger.lost)}; LOST: {len(ledger.lost)}",
            f"Writes refused as stale (409/412, an unacknowledged earlier write had committed): "
            f"{len(self.stale)}",
            f"Errors (5xx or no answer): {len(self.errors)}; during the database outage: "
            f"{len(self.in_database)} ({len(self.in_database) - len(self.not_503)} of them 503 "
            f"with Retry-After); while a worker was replaced: {len(self.in_worker)}; OUTSIDE the "
            f"outage windows: {len(self.outside)}",
            f"Unexpected refusals (4xx): {len(self.unexpected)}",
        ]
        if ledger.checkpoint_size is None:
            lines.append("Checkpoints: no signing key configured, none checked")
        elif ledger.caught_up_from is not None:
            lines.append(
                f"Checkpoints: the last one covered {ledger.caught_up_from} entries (the last "
                f"write's signing was missed); signed now up to {ledger.checkpoint_size}"
            )
        else:
            lines.append(f"Checkpoints: signed up to the tip ({ledger.checkpoint_size} entries)")
        lines.append(
            f"Ledger: {'verified' if ledger.verified and not ledger.problems else 'DOES NOT VERIFY'}"
            f", {ledger.entries} entries"
        )
        lines += [f"  problem: {problem}" for problem in ledger.problems[:5]]
        for title, requests in (
            ("error outside the windows", self.outside),
            ("non-503 during the outage", self.not_503),
            ("unexpected refusal", self.unexpected),
        ):
            lines += [f"  {title}: {r.describe()}" for r in requests[:5]]
        lines += [
            f"  lost: {ack.claim} #{ack.sequence} {ack.entry_hash} (acknowledged at {ack.at:.2f}s)"
            for ack in ledger.lost[:5]
        ]
        return lines
