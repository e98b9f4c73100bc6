"""Wait until the web answers (`make run` prints the address only then); exit 1 after a
minute without an answer. Any HTTP answer counts: a redirect to HTTPS or a refused host
header still means gunicorn is serving. Usage: python scripts/wait_web.py PORT"""

from __future__ import annotations

import http.client
import sys
import time

TIMEOUT_SECONDS = 60.0


def web_wait(*, port: int, timeout: float = TIMEOUT_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz/")
            connection.getresponse()
            return True
        except OSError:
            time.sleep(0.3)
        finally:
            connection.close()
    return False


if __name__ == "__main__":
    sys.exit(0 if web_wait(port=int(sys.argv[1])) else 1)
