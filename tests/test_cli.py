"""The command line: ``guanxi token create USER`` and ``guanxi check --deploy``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from conftest import ApiClient

GUANXI = Path(sys.executable).with_name("guanxi")
LONG_SECRET = "q7M!x2#Lp9$wZ4&r" * 4


def run_guanxi(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [str(GUANXI), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_token_create_prints_the_token_alone_on_the_last_line(org):
    out, err = io.StringIO(), io.StringIO()
    call_command("token", "create", "rep1a", stdout=out, stderr=err)
    lines = out.getvalue().strip().splitlines()
    token = lines[-1]
    assert token == token.strip() and " " not in token and len(token) >= 32
    resp = ApiClient(token).get("me")
    assert resp.status_code == 200
    assert resp.json()["username"] == "rep1a"
    assert ApiClient(token).get("customers").status_code == 200
    # two tokens are different; the stored record keeps only a hash
    out2 = io.StringIO()
    call_command("token", "create", "rep1a", stdout=out2, stderr=io.StringIO())
    assert out2.getvalue().strip().splitlines()[-1] != token
    from guanxi.org.models import ApiToken

    assert not ApiToken.objects.filter(key_hash=token).exists()
    assert token not in str(list(ApiToken.objects.values()))


def test_token_revoke_and_unknown_user(org):
    out = io.StringIO()
    call_command("token", "create", "rep2a", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    from guanxi.org.models import ApiToken

    tid = ApiToken.objects.get(user=org.rep2a).pk
    call_command("token", "revoke", str(tid), stdout=io.StringIO())
    assert ApiClient(token).get("me").status_code == 401
    with pytest.raises(CommandError):
        call_command("token", "create", "nobody", stdout=io.StringIO(), stderr=io.StringIO())
    org.rep1b.is_active = False
    org.rep1b.save()
    with pytest.raises(CommandError):
        call_command("token", "create", "rep1b", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.skipif(not GUANXI.exists(), reason="the guanxi console script is not installed")
def test_console_script_token_end_to_end(tmp_path):
    """The installed ``guanxi`` command: migrate a fresh data directory, make a user, print a token."""
    env = {"GUANXI_DATA_DIR": str(tmp_path)}
    setup = (
        "from django.core.management import call_command; call_command('migrate', verbosity=0); "
        "from guanxi.org.models import User; "
        "User.objects.create_user('cli_rep', password='x-long-pass-123', role='account_manager')"
    )
    r = run_guanxi("shell", "-c", setup, env=env)
    assert r.returncode == 0, r.stderr
    r = run_guanxi("token", "create", "cli_rep", env=env)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert r.stdout.endswith(token + "\n") and token.startswith("gx_")
    # the token's hash is stored for that user (the API check itself is in the tests above)
    import hashlib
    import sqlite3

    db = sqlite3.connect(tmp_path / "guanxi.sqlite3")
    row = db.execute(
        "SELECT u.username FROM org_apitoken t JOIN org_user u ON u.id = t.user_id WHERE t.key_hash = ?",
        [hashlib.sha256(token.encode()).hexdigest()],
    ).fetchone()
    db.close()
    assert row == ("cli_rep",)


@pytest.mark.skipif(not GUANXI.exists(), reason="the guanxi console script is not installed")
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "GUANXI_DATA_DIR": str(tmp_path),
        "GUANXI_PRODUCTION": "1",
        "GUANXI_SECRET_KEY": LONG_SECRET,
        "GUANXI_ALLOWED_HOSTS": "example.com",
    }
    r = run_guanxi("check", "--deploy", env=env)
    output = r.stdout + r.stderr
    assert r.returncode == 0, output
    assert "WARNINGS" not in output and "ERRORS" not in output, output
    assert "no issues" in output
    # and the check is not vacuous: development settings do warn
    r = run_guanxi("check", "--deploy", env={"GUANXI_DATA_DIR": str(tmp_path)})
    assert "security.W" in r.stdout + r.stderr


@pytest.mark.skipif(not GUANXI.exists(), reason="the guanxi console script is not installed")
def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    r = run_guanxi("check", env={"GUANXI_DATA_DIR": str(tmp_path), "GUANXI_PRODUCTION": "1"})
    assert r.returncode != 0
    assert "GUANXI_SECRET_KEY" in r.stderr


@pytest.mark.skipif(not GUANXI.exists(), reason="the guanxi console script is not installed")
def test_production_static_files_collect_with_hashed_names(tmp_path):
    """`guanxi serve` collects static files in production; every vendored file's references
    (fonts, source maps) must resolve or the server does not start."""
    env = {"GUANXI_DATA_DIR": str(tmp_path), "GUANXI_PRODUCTION": "1", "GUANXI_SECRET_KEY": LONG_SECRET}
    r = run_guanxi("collectstatic", "--noinput", "-v0", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/htmx-2.0.11/htmx.min.js" in manifest
    assert "bootstrap-icons.woff2" in manifest


def test_start_up_leaves_heavy_modules_for_first_use(tmp_path):
    """Every command starts with ``django.setup()``; the demo generators, the Today sections (and
    through the analytics section scipy) and the API framework load only when used."""
    import subprocess
    import sys

    code = (
        "import sys, django; django.setup(); "
        "from guanxi.demo import registry; from guanxi.today import registry as today; "
        "heavy = [m for m in ('guanxi.demo.customers', 'guanxi.sales.demo', 'guanxi.analytics.today', "
        "'scipy', 'ninja', 'pydantic') if m in sys.modules]; "
        "assert not heavy, heavy; "
        "names = [g.name for g in registry.generators()]; "
        "assert names[:3] == ['org', 'customers', 'sales'] and callable(registry.generators()[0].fn), names; "
        "assert all(callable(f) for f in today._functions()); print('ok')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "guanxi.config.settings", "GUANXI_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
