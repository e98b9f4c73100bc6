"""Write a development `.env` beside manage.py unless one exists (`make run` calls it first).

Settings read `.env` in every process, so once it exists the README's `python manage.py ...`
commands run in development in this checkout, as `make run` does. An existing file is
never touched: it may be an operator's.

Usage: python scripts/dev_env.py [PATH]   (default: .env in the project folder)
"""

from __future__ import annotations

import sys
from pathlib import Path

DEV_ENV = """\
# Development settings, written by `make run` because there was no .env. Every process
# started in this folder reads this file (`make run`, `python manage.py ...`), and the
# environment overrides it. DEBUG on means Django's dev-only secret and token key, and the
# sandbox while no Meta app is configured. Never use it in production: start from
# .env.example instead.
DEBUG=true
"""


def dev_env_write(*, path: Path) -> bool:
    """Create `path` with development settings; False (and nothing written) if it exists."""
    try:
        with path.open("x", encoding="utf-8") as file:  # "x": never overwrite, even in a race
            file.write(DEV_ENV)
    except FileExistsError:
        return False
    return True


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / ".env"
    if dev_env_write(path=target):
        print(f"Wrote {target} for development (DEBUG=true).")
