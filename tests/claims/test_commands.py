import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from claims.ledger import verifier


def test_ensure_demo_users_creates_an_editor_and_a_contributor(db, settings, capsys):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "demo-pass-123"

    call_command("ensure_demo_users")
    call_command("ensure_demo_users")  # twice: still one of each

    out = capsys.readouterr().out
    assert "username: editor   password: demo-pass-123" in out
    User = get_user_model()
    assert User.objects.filter(username__in=["editor", "chief", "contributor"]).count() == 3
    editor = authenticate(username="editor", password="demo-pass-123")
    # A second editor, so that a verdict proposed under sign-off can be approved.
    assert authenticate(username="chief", password="demo-pass-123").has_perm("claims.record_review")
    contributor = authenticate(username="contributor", password="demo-pass-123")
    assert editor.is_staff and editor.has_perm("claims.record_review")
    assert contributor.is_staff and not contributor.has_perm("claims.record_review")
    assert contributor.has_perm("claims.add_claim")


def test_ensure_demo_users_refuses_outside_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("ensure_demo_users")
    assert not get_user_model().objects.exists()


def test_verify_ledger_reports_an_empty_ledger(db, capsys):
    call_command("verify_ledger")
    assert "no entries yet" in capsys.readouterr().out


def test_ensure_signing_key_creates_a_private_key_file_once(tmp_path, settings, capsys):
    settings.LEDGER_SIGNING_KEY = ""
    key_file = tmp_path / "keys" / "ledger-key"

    call_command("ensure_signing_key", "--file", str(key_file))
    created = capsys.readouterr().out
    call_command("ensure_signing_key", "--file", str(key_file))
    again = capsys.readouterr().out

    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text().startswith(f"PRIVATE+KEY+{settings.LEDGER_ORIGIN}+")
    verifier_key = verifier.verifier_key_for(key_file.read_text().strip())
    assert "created" in created and verifier_key in created
    assert "created" not in again and verifier_key in again
    assert "PRIVATE" not in created + again
