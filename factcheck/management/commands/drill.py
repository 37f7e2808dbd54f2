import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from rest_framework.authtoken.models import Token

from claims.ledger import verifier
from factcheck.db.server import leave_server, start_server, stop_server, uses_embedded_server
from factcheck.drill import (
    DRILL_EDITOR,
    GRACE_S,
    Client,
    Findings,
    Gunicorn,
    Load,
    Window,
    check_ledger,
    drill_claims,
    elapsed_since,
    server_environment,
)

RESTART_AT = 0.3  # of the drill's length
KILL_AT = 0.65


class Command(BaseCommand):
    help = (
        "Fault drill: serve the project with gunicorn (production settings, on loopback), send "
        "it sustained reads and verdict writes, restart the database and SIGKILL a worker "
        "meanwhile, then check that every acknowledged write is in the ledger, the ledger "
        "verifies, checkpoints reach its tip, and errors happened only during the faults. "
        "Prints the figures; exits non-zero when any check fails.\n\n"
        "With the embedded database (DATABASE_URL unset) the drill runs on a scratch embedded "
        "server of its own, migrated afresh and removed afterwards: restarting the project's "
        "server would cut off everything else using it, and the drill's verdicts would stay in "
        "its ledger for good. With DATABASE_URL it drills that database (on draft claims of its "
        "own, whose verdicts stay in the ledger) and restarts it only with --restart-command.\n\n"
        "Examples:\n"
        "  python manage.py drill\n"
        "  python manage.py drill --seconds 120 --writers 8\n"
        "  DATABASE_URL=... python manage.py drill --restart-command 'sudo systemctl restart "
        "postgresql'"
    )
    # It sets its database up before anything may connect.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=60, help="Length (default 60).")
        parser.add_argument("--readers", type=int, default=4, help="Reader threads (default 4).")
        parser.add_argument(
            "--writers", type=int, default=4, help="Writer threads, one claim each (default 4)."
        )
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2).")
        parser.add_argument(
            "--outage",
            type=float,
            default=4,
            help="Seconds the embedded server stays down (default 4).",
        )
        parser.add_argument(
            "--restart-command",
            help="With DATABASE_URL: a shell command that restarts that database server.",
        )
        parser.add_argument(
            "--no-kill-worker",
            action="store_false",
            dest="kill_worker",
            help="Leave gunicorn's workers alone.",
        )
        parser.add_argument(
            "--keep", action="store_true", help="Keep the drill's folder (data, logs)."
        )

    def handle(self, *args, **options):
        seconds = options["seconds"]
        if seconds < 8:
            raise CommandError("--seconds must be at least 8: the faults need room.")
        if min(options["readers"], options["writers"], options["workers"]) < 1:
            raise CommandError("--readers, --writers and --workers must be at least 1.")
        embedded = uses_embedded_server()
        if embedded and options["restart_command"]:
            raise CommandError(
                "--restart-command is for DATABASE_URL; the drill restarts the embedded server itself."
            )
        folder = Path(tempfile.mkdtemp(prefix="fc-drill-"))
        pgdata = folder / "pgdata" if embedded else None
        gunicorn = None
        token_key = ""
        passed = False
        try:
            if pgdata is not None:
                self._scratch_database(pgdata, folder)
            run = time.strftime("%Y%m%d-%H%M%S")
            token_key, claims = drill_claims(options["writers"], run)
            extra = {"EMBEDDED_PGDATA": str(pgdata)} if pgdata is not None else {}
            # What is drilled is the ledger under faults, not the desk's rules: the
            # drill's verdicts on its own drafts cite no evidence.
            extra["REQUIRE_VERDICT_EVIDENCE"] = "false"
            gunicorn = Gunicorn(
                workers=options["workers"],
                env=server_environment(extra=extra),
                log=folder / "gunicorn.log",
            )
            connection.close()  # idle until the checks; the restart would cut it
            gunicorn.wait_until_serving(Client(gunicorn.port, token_key, time.monotonic))
            self.stdout.write(
                f"Fault drill: {gunicorn.describe()}, DEBUG off; database: "
                + (f"a scratch embedded server in {pgdata}" if pgdata else "DATABASE_URL's")
                + f"; {seconds:.0f} s, {options['readers']} readers, {options['writers']} writers."
            )
            clock = elapsed_since(time.monotonic())
            load = Load(Client(gunicorn.port, token_key, clock), claims, options["readers"])
            windows: list[Window] = []
            load.start()
            try:
                self._wait_until(RESTART_AT * seconds, clock)
                restart = self._restart_database(pgdata, options, clock)
                if restart is not None:
                    windows.append(restart)
                if options["kill_worker"]:
                    # Apart from the outage, however late the database came back (a
                    # slow machine): a request overlapping both faults could be either's.
                    kill_at = KILL_AT * seconds
                    if restart is not None:
                        kill_at = max(kill_at, restart.end + 2 * GRACE_S + 0.5)
                    self._wait_until(kill_at, clock)
                    windows.append(gunicorn.kill_worker(clock))
                    self._say(clock, windows[-1].detail)
                # Load after the last fault too, to show the service came back.
                self._wait_until(max(seconds, windows[-1].end + 2) if windows else seconds, clock)
            finally:
                load.finish()
            status = gunicorn.stop()
            self._say(clock, f"gunicorn stopped (SIGTERM), exit status {status}")
            findings = Findings(load.requests, windows, check_ledger(load.acks))
            for line in findings.lines():
                self.stdout.write(line)
            passed = findings.passed
            if not passed:
                raise CommandError(
                    f"The drill FAILED; gunicorn's log: {gunicorn.log}\n{gunicorn.log_tail(15)}"
                )
            self.stdout.write(self.style.SUCCESS("Result: PASS, no acknowledged write lost."))
        finally:
            if gunicorn is not None:
                gunicorn.stop()
            self._clean_up(folder, pgdata, token_key, keep=options["keep"] or not passed)

    def _scratch_database(self, pgdata: Path, folder: Path) -> None:
        """The drill's own embedded server, migrated afresh, with a signing key and a
        checkpoint log of its own."""
        settings.EMBEDDED_PGDATA = pgdata
        settings.LEDGER_SIGNING_KEY = verifier.generate_key(settings.LEDGER_ORIGIN)[0]
        settings.LEDGER_CHECKPOINT_LOG = folder / "checkpoints-{database}.jsonl"
        call_command("migrate", interactive=False, verbosity=0)

    def _restart_database(self, pgdata: Path | None, options, clock) -> Window | None:
        if pgdata is not None:
            start = clock()
            stop_server(pgdata)
            self._say(clock, "database stopped (pg_ctl stop -m fast: every session cut)")
            time.sleep(options["outage"])
            start_server(pgdata)
            self._say(clock, "database started again")
            return Window("database", start, clock(), "embedded server restarted")
        command = options["restart_command"]
        if not command:
            self._say(
                clock,
                "database restart SKIPPED: DATABASE_URL is set and no --restart-command was given",
            )
            return None
        start = clock()
        self._say(clock, f"restarting the database: {command}")
        result = subprocess.run(command, shell=True, check=False)
        if result.returncode:
            raise CommandError(f"--restart-command exited with status {result.returncode}")
        self._wait_for_database(clock)
        self._say(clock, "database reachable again")
        return Window("database", start, clock(), f"restarted by {command!r}")

    def _wait_for_database(self, clock, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            connection.close()
            try:
                connection.ensure_connection()
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
            else:
                connection.close()
                return

    def _wait_until(self, moment: float, clock) -> None:
        while (left := moment - clock()) > 0:
            time.sleep(min(left, 0.5))

    def _say(self, clock, message: str) -> None:
        self.stdout.write(f"  {clock():6.2f}s  {message}")

    def _clean_up(self, folder: Path, pgdata: Path | None, token_key: str, *, keep: bool) -> None:
        connection.close()
        if pgdata is None:
            # The drill's editor keeps no credential on a database of record.
            if token_key:
                Token.objects.filter(key=token_key, user__username=DRILL_EDITOR).delete()
                connection.close()
        elif not leave_server(pgdata):
            self.stderr.write(f"The scratch database server in {pgdata} is still running.")
            keep = True
        if keep:
            self.stdout.write(f"The drill's folder (data, gunicorn's log) is kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
