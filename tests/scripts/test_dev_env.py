"""`make run` writes a development .env on first use, so `python manage.py ...` works in the
same checkout; it never touches an existing one."""

import os

from tests.processes import ROOT, python_run

SCRIPT = ROOT / "scripts" / "dev_env.py"


def _write(path):
    return python_run(
        f"import runpy, sys; sys.argv = ['dev_env.py', {str(path)!r}]; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')",
        dict(os.environ),
    )


def test_it_writes_a_development_env_when_there_is_none(tmp_path):
    target = tmp_path / ".env"
    result = _write(target)
    assert result.returncode == 0, result.stderr
    assert "DEBUG=true" in target.read_text().splitlines()
    assert "Wrote" in result.stdout


def test_it_never_overwrites_an_existing_env(tmp_path):
    target = tmp_path / ".env"
    target.write_text("DEBUG=false\nSECRET_KEY=the-operators\n")
    result = _write(target)
    assert result.returncode == 0, result.stderr
    assert target.read_text() == "DEBUG=false\nSECRET_KEY=the-operators\n"
    assert result.stdout == ""


def test_a_command_run_with_the_written_env_starts_in_development(tmp_path):
    """What `python manage.py createagent ...` needs: settings load with no secret set."""
    target = tmp_path / ".env"
    _write(target)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST"))}
    for name in ("DEBUG", "TESTING", "SECRET_KEY", "ALLOWED_HOSTS", "TOKEN_ENCRYPTION_KEYS"):
        env.pop(name, None)
    # Settings read the checkout's .env; the written file stands in for it.
    code = (
        f"import environ; environ.Env.read_env({str(target)!r}); "
        "import config.settings as s; print(s.DEBUG)"
    )
    result = python_run(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
