"""gunicorn's settings wherever the product runs: gunicorn reads this file from the directory
it starts in (the Procfile, the Dockerfile and docker-compose.yml all start it here). Their
command lines give the address and the number of worker processes.

Eight threads per worker process. A webhook request spends most of its life waiting for its
commit, the flush of PostgreSQL's write-ahead log, and a thread that waits is a request the
process cannot take. When the disk is slow, the number of threads is what bounds intake:
with every flush taking 10 ms (simulated, `bench/intake.py --slow-flush-ms 10`), 2 processes
of 4 threads stored 330-345 events/s with an ack p99 of 65-79 ms, and of 8 threads 551-614
events/s at 36-51 ms. At the disk's usual speed the pages' CPU-bound requests did not suffer
for it: `/healthz/` made 1468-2209 requests/s with 8 threads against 1444-1855 with 4 in the
same hour, and the webhooks 1235-1373 events/s against 1069-1138. Each thread keeps its own
database connection (`CONN_MAX_AGE`): 8 a process.

Three processes on two cores (the Procfile, the Dockerfile and docker-compose.yml): a
process runs Python on one core at a time, and an open inbox's polls keep their connection
to one process, so two processes rarely both had a core's worth of work. With 100 agents and
a new customer message a second (`bench/live.py`), two processes answered the polls in 285
ms at the median and 1.44 s at p95, and a message took up to 3.44 s to reach every agent;
three answered in 30 and 216 ms, and the message took 2.66 s at most.
"""

import os

threads = 8

# The same level as the app's logs (`LOG_LEVEL`): `make run` keeps gunicorn's start-up lines
# to itself unless asked.
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# An idle browser connection is kept this long (seconds). The inbox's pages poll every 2 and
# 2.5 s (15 s in a hidden tab): with gunicorn's default of 2 s about half the polls paid for
# a new connection. Longer than the hidden tab's interval, so its polls reuse one too.
keepalive = 20
