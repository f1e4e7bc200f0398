"""The "cluster killed before due" scenario (issue 11), shared by the test and bench/cluster_restart.py.

Real processes on a scratch PostgreSQL database (`tests.posts.procs`): one ``qcluster`` and one
``publish_dispatcher``. N publications to webhook accounts (the local fake platform) fall due a
few seconds ahead; the dispatcher claims them within its lookahead and a worker starts the send
task, waiting for the due second. Then the whole cluster is SIGKILLed (its process group: sentinel,
pusher, monitor, workers) before anything is due. After ``down`` seconds a new ``qcluster``
starts. Measured: when each publication reached the platform, relative to the moment the new
cluster is back (it printed "running."), duplicates and lost ones.
"""

import os
import signal
import time
from dataclasses import asdict, dataclass
from typing import Any

from tests.posts.fakeplatform import FakePlatform
from tests.posts.procs import Proc, Scratch

# Production's values, except the ones a single short run needs.
SETTINGS = {
    "ROUNDS_Q_WORKERS": "2",
    "ROUNDS_PUBLISH_TASKS_PER_PASS": "2",
    "ROUNDS_PUBLISH_CUTOFF_MINUTES": "60",
}
LEAD_SECONDS = 8.0  # due this long after seeding: inside the 10 s lookahead, so claimed at once
WAIT_SECONDS = 90.0  # after the restart, for every publication to arrive


@dataclass
class Restart:
    n: int
    down_seconds: float
    killed_before_due: float  # seconds before the due time the cluster was killed
    claimed_when_killed: int
    started_when_killed: int  # claims whose worker had started (renewed by its heartbeat)
    back_after_due: float  # seconds from the due time to the new cluster printing "running."
    last_after_back: float | None  # seconds from "running." to the last first arrival
    last_after_due: float | None
    first_after_back: float | None
    duplicates: int
    lost: int
    statuses: dict[str, int]

    def figures(self) -> dict[str, Any]:
        return {key: (round(value, 3) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def _kill_cluster(cluster: Proc) -> None:
    """SIGKILL the cluster's whole session at once: nothing of it gets to clean up."""
    os.killpg(cluster.pid, signal.SIGKILL)
    cluster.popen.wait(timeout=10)


def _count(scratch: Scratch, where: str, params: tuple[Any, ...] = ()) -> int:
    return int(scratch.query(f"SELECT count(*) FROM posts_publication WHERE {where}", params)[0][0])


def cluster_restart(*, n: int = 32, down: float = 10.0, settings: dict[str, str] | None = None) -> Restart:
    """Run the scenario once; returns what happened."""
    fake = FakePlatform().start()
    scratch = Scratch(settings={**SETTINGS, **(settings or {})}, prefix="rounds_restart")
    try:
        migrated = scratch.manage("migrate", "--no-input")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        verbose = {"ROUNDS_LOG_LEVEL": "INFO"}
        cluster = scratch.start("qcluster-1", "qcluster", env=verbose)
        dispatcher = scratch.start("dispatcher", "publish_dispatcher", env=verbose)
        cluster.wait_for("running.", timeout=90)
        dispatcher.wait_for("publish dispatcher: one pass every", timeout=90)

        seeded = scratch.json(
            "seed", "--n", str(n), "--url", fake.url, "--secret", fake.secret, "--lead", str(LEAD_SECONDS)
        )
        due = float(seeded["due"])
        # Wait until every publication is claimed and a worker holds it: its heartbeat has
        # shortened the claim's lease (the dispatcher's lease runs lookahead + lease seconds from
        # the claim, well past due + 8 s; a beat gives 5 s from now, before due + 5 s).
        started_where = "status = 'claimed' AND lease_until < to_timestamp(%s)"
        marker = (due + 8.0,)
        deadline = min(due - 2.0, time.time() + LEAD_SECONDS)
        while time.time() < deadline and _count(scratch, started_where, marker) < n:
            time.sleep(0.1)
        claimed = _count(scratch, "status = 'claimed'")
        started = _count(scratch, started_where, marker)
        killed_at = time.time()
        _kill_cluster(cluster)
        assert not fake.received, "a publication went out before its due time"

        keys = {publication["key"] for publication in scratch.json("report")["publications"]}
        assert len(keys) == n
        time.sleep(max(0.0, killed_at + down - time.time()))
        restarted = scratch.start("qcluster-2", "qcluster", env=verbose)
        restarted.wait_for("running.", timeout=90)
        back = time.time()

        limit = back + WAIT_SECONDS
        while time.time() < limit and not keys <= {item.key for item in fake.received}:
            time.sleep(0.2)
        first: dict[str, float] = {}
        counts: dict[str, int] = {}
        for item in fake.received:
            counts[item.key] = counts.get(item.key, 0) + 1
            first.setdefault(item.key, item.at)
        # Let the answers be recorded, then read the states.
        settle = time.time() + 20
        while time.time() < settle and _count(scratch, "status <> 'confirmed'"):
            time.sleep(0.2)
        statuses = dict(scratch.query("SELECT status, count(*) FROM posts_publication GROUP BY status"))
        last = max(first.values()) if first else None
        return Restart(
            n=n,
            down_seconds=down,
            killed_before_due=due - killed_at,
            claimed_when_killed=claimed,
            started_when_killed=started,
            back_after_due=back - due,
            last_after_back=(last - back) if last is not None else None,
            last_after_due=(last - due) if last is not None else None,
            first_after_back=(min(first.values()) - back) if first else None,
            duplicates=sum(count - 1 for count in counts.values()),
            lost=len(keys - set(first)),
            statuses=statuses,
        )
    finally:
        scratch.close()
        fake.stop()
