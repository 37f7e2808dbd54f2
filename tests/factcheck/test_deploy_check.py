"""`manage.py check --deploy` is clean under the README's production environment.

The environment is read from the README itself (its "/etc/factcheck/env"
block in "Production"), so the documented settings and this test cannot
drift apart. Only what each operator supplies is replaced: a fresh
SECRET_KEY, the database URLs (this run's test database, as its app role and
as its owner, built the way tests/factcheck/test_real_servers.py points its
servers at it), a signing key named for the README's LEDGER_ORIGIN, and a
checkpoint log in a temporary folder. Nothing else of this process's
environment reaches the check.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from claims.ledger import verifier
from factcheck.db import roles

pytestmark = pytest.mark.django_db

README = Path(settings.BASE_DIR) / "README.md"
ENV_BLOCK = "```sh\n# /etc/factcheck/env\n"
# What each deployment supplies for itself; everything else is used as the README says.
OPERATORS_OWN = (
    "SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "LEDGER_SIGNING_KEY_FILE",
    "LEDGER_CHECKPOINT_LOG",
)
# Enough of this process's environment to run Python at all.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def readme_production_env() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    production = text[text.index("\n## Production\n") :]
    block = production.split(ENV_BLOCK, 1)[1].split("```", 1)[0]
    env = {}
    for line in block.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    return env


def database_urls() -> tuple[str, str]:
    """This run's test database, as the app's role and as the owner."""
    name = connection.settings_dict["NAME"]
    if settings.DATABASE_URL:
        if not settings.DATABASE_OWNER_URL:
            pytest.skip("the README's production has two database roles; this run has one")
        return tuple(  # type: ignore[return-value]
            urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
            for url in (settings.DATABASE_URL, settings.DATABASE_OWNER_URL)
        )
    connection.ensure_connection()  # the embedded backend fills in its socket and port
    settings_dict = connection.settings_dict
    where = f"{quote(str(settings_dict['HOST']), safe='')}:{settings_dict['PORT']}/{name}"
    app, owner = roles.app_role(settings_dict), roles.owner_role(settings_dict)
    return f"postgresql://{app}@{where}", f"postgresql://{owner}@{where}"


def check_deploy(tmp_path: Path, **changes: str) -> subprocess.CompletedProcess[str]:
    env = readme_production_env()
    assert set(OPERATORS_OWN) <= set(env), "the README's production block lost a setting"
    app_url, owner_url = database_urls()
    key_file = tmp_path / "ledger-key"
    key_file.write_text(verifier.generate_key(env["LEDGER_ORIGIN"])[0] + "\n")
    key_file.chmod(0o600)
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=app_url,
        DATABASE_OWNER_URL=owner_url,
        LEDGER_SIGNING_KEY_FILE=str(key_file),
        LEDGER_CHECKPOINT_LOG=str(tmp_path / "checkpoints.jsonl"),
    )
    env.update(changes)
    env.update({name: os.environ[name] for name in PASSED_THROUGH if name in os.environ})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_is_clean_under_the_readmes_production_settings(tmp_path):
    result = check_deploy(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_would_say_so_without_hsts_and_the_redirect(tmp_path):
    """The check runs with these settings, and reads them: turned off, it fails (issue 10)."""
    result = check_deploy(tmp_path, SECURE_HSTS_SECONDS="0", SECURE_SSL_REDIRECT="false")

    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr
