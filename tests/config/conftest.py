import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT


@pytest.fixture(scope="session")
def collected_static_root(tmp_path_factory) -> Path:
    """A STATIC_ROOT filled by `collectstatic --noinput`, as an operator fills it."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST"))}
    env.update(
        DEBUG="false",
        TESTING="false",  # the hashed storage of production, as the test settings are not
        SECRET_KEY="s",
        ALLOWED_HOSTS="example.com",
        TOKEN_ENCRYPTION_KEYS="dGVzdC1rZXktbm90LWZvci1wcm9kdWN0aW9uLXVzZSE=",
        STATIC_ROOT=str(root),
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return root
