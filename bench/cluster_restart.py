"""A cluster killed before due: print one JSON line of figures (issue 11).

Run: ``.venv/bin/python bench/cluster_restart.py`` (PostgreSQL on 127.0.0.1:5432). Environment:

- ``BENCH_N`` (default 32): publications claimed by the cluster when it is killed
- ``BENCH_DOWN`` (default 10): seconds between the SIGKILL and the new cluster's start
- ``BENCH_RUNS`` (default 1): runs, one JSON line each

Scenario (`tests/posts/restart.py`): one ``qcluster`` and one ``publish_dispatcher`` on a scratch
database; N webhook publications due 8 s ahead are claimed at once and a worker starts the send
task, waiting for the due second; the whole cluster is SIGKILLed before they are due; a new one
starts ``BENCH_DOWN`` seconds later. Figures: ``last_after_back`` (seconds from the new cluster
printing "running." to the last publication arriving; goal <= 15), ``last_after_due``,
``duplicates`` and ``lost`` (goal 0 and 0).
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.posts.restart import cluster_restart  # noqa: E402


def main() -> None:
    n = int(os.environ.get("BENCH_N", "32"))
    down = float(os.environ.get("BENCH_DOWN", "10"))
    for _ in range(int(os.environ.get("BENCH_RUNS", "1"))):
        print(json.dumps(cluster_restart(n=n, down=down).figures()), flush=True)


if __name__ == "__main__":
    main()
