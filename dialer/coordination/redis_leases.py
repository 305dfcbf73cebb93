"""Channels as leases: the only thing that bounds concurrent calls.

A plain counting semaphore leaks: a SIGKILLed worker never runs its
``finally``. So each held channel is a member of a sorted set
``{call_id: expires_at_s}`` per campaign and one per organisation, and its
score is the call's own deadline (ring + max duration + grace). Acquire prunes
what has expired, checks both counts and adds, all in one Lua script, so no
number of workers on any number of hosts can exceed either cap, and one
organisation never takes another's channels.

Scores are simulated epoch seconds passed in by the caller; the Redis server
clock and ``time.time()`` are never read here, so the simulated clock (up to
1000x real time) works unchanged.

Partial loss: the ready marker carries a generation id and the version of
every set, and each set a stamp of both (``lua/lease_generation.lua``), so an
evicted set, a set or marker restored from an older copy, or the keys served
by another server after a failover or a restart answer ``not_ready`` just as
a FLUSHDB does, until ``rebuild`` replaces the sets from PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import cast

from redis import Redis

from dialer.coordination import redis_keys
from dialer.coordination.checks import lease_span
from dialer.coordination.interfaces import LeaseResult
from dialer.coordination.lua_scripts import as_text, lua_source, seconds_arg

# Keys and arguments per rebuild script call: big enough to be fast, small
# enough that one call never blocks Redis noticeably.
_REBUILD_CHUNK = 1000


def _lease_script(name: str) -> str:
    # Redis scripts cannot import each other: the generation checks go in front.
    return lua_source("lease_generation.lua") + "\n" + lua_source(name)


class LeaseSemaphore:
    """Channels as leases (``ChannelLeases``) in Redis.

    A sorted set {call_id: expires_at_s} per campaign and one per organisation.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._acquire = redis.register_script(_lease_script("lease_acquire.lua"))
        self._release = redis.register_script(_lease_script("lease_release.lua"))
        self._check = redis.register_script(_lease_script("lease_check.lua"))
        self._rebuild = redis.register_script(_lease_script("lease_rebuild.lua"))

    def acquire(self, call_id: str, *, campaign_id: str, org_id: str, campaign_limit: int,
                org_limit: int, now_s: float, expires_at_s: float) -> LeaseResult:
        """Take one channel for ``call_id`` in its campaign and its organisation, or say why
        not.

        Re-acquiring a lease the call already holds succeeds without taking a
        second channel and moves its expiry to ``expires_at_s``.
        """
        lease_span(now_s, expires_at_s)
        acquired, reason = self._acquire(
            keys=[redis_keys.campaign_leases(campaign_id), redis_keys.org_leases(org_id),
                  redis_keys.leases_ready()],
            args=[str(call_id), int(campaign_limit), int(org_limit),
                  seconds_arg(now_s, "now_s"), seconds_arg(expires_at_s, "expires_at_s")])
        if int(acquired) == 1:
            return LeaseResult(acquired=True, reason=None)
        return LeaseResult(acquired=False, reason=as_text(reason))

    def release(self, call_id: str, *, campaign_id: str, org_id: str) -> None:
        """Free the channel; releasing twice, or a lease that expired, is harmless."""
        self._release(keys=[redis_keys.campaign_leases(campaign_id),
                            redis_keys.org_leases(org_id), redis_keys.leases_ready()],
                      args=[str(call_id)])

    def in_use(self, campaign_id: str, *, now_s: float) -> int:
        """Unexpired leases of one campaign (read-only: pruning is the acquire's job)."""
        return int(self._redis.zcount(redis_keys.campaign_leases(campaign_id),
                                      f"({seconds_arg(now_s, 'now_s')}", "+inf"))

    def org_in_use(self, org_id: str, *, now_s: float) -> int:
        """Unexpired leases of one organisation, across its campaigns."""
        return int(self._redis.zcount(redis_keys.org_leases(org_id),
                                      f"({seconds_arg(now_s, 'now_s')}", "+inf"))

    def holders(self, campaign_id: str, *, now_s: float) -> list[str]:
        """Call ids holding an unexpired lease in the campaign, soonest expiry first."""
        # Plain ZRANGEBYSCORE answers members only (redis-py's type covers WITHSCORES too).
        members = cast("list[bytes | str]", self._redis.zrangebyscore(
            redis_keys.campaign_leases(campaign_id), f"({seconds_arg(now_s, 'now_s')}", "+inf"))
        return [str(as_text(member)) for member in members]

    def is_ready(self) -> bool:
        """False until ``rebuild`` (or ``mark_ready``) has run after a wipe, or while any
        lease set is missing, older than the marker, of another generation, or the
        marker was written by another Redis server process (restart, failover)."""
        marker = redis_keys.leases_ready()
        if as_text(self._redis.type(marker)) != "hash":  # absent, or an earlier release's
            return False
        fields = (str(as_text(field)) for field in self._redis.hkeys(marker))
        sets = sorted(field[2:] for field in fields if field.startswith("v:"))
        # Each chunk re-checks the marker, so a rebuild in between cannot pass unseen; with
        # no set registered (nothing in flight) the marker is still checked once.
        for start in range(0, max(len(sets), 1), _REBUILD_CHUNK):
            if not int(self._check(keys=[marker, *sets[start:start + _REBUILD_CHUNK]])):
                return False
        return True

    def mark_ready(self) -> None:
        """Declare the (empty) lease sets complete: for a fresh system with nothing in flight.

        Not a repair: it replaces whatever lease sets are there with empty ones,
        outside the lease gate. Tests and benchmarks use it on an empty Redis;
        the dialer itself only ever calls ``rebuild`` with PostgreSQL's picture.
        """
        if self.is_ready():
            return
        if any(next(self._redis.scan_iter(match=pattern, count=1000), None) is not None
               for pattern in (redis_keys.campaign_leases_pattern(),
                               redis_keys.org_leases_pattern())):
            raise RuntimeError("mark_ready is for an empty lease store; rebuild from "
                               "PostgreSQL instead (dialer.service.leasing)")
        self.rebuild([], now_s=0.0)

    def rebuild(self, entries: Iterable[tuple[str, str, str, float]], *, now_s: float) -> None:
        """Replace the lease sets with the calls in flight per PostgreSQL, in a new generation.

        ``entries`` holds ``(call_id, campaign_id, org_id, expires_at_s)``;
        expired ones are skipped. Every campaign's and every organisation's set
        is replaced, and the previous release's keys (``legacy_lease_keys``)
        go. The marker goes first, so every acquire answers
        ``not_ready`` while the sets are emptied and refilled; the last chunk
        publishes the new marker. Replacing (rather than adding to) what is
        there is what makes a stale copy come back exact; it is safe because
        the caller holds the lease gate (``dialer.service.leasing``), so no
        dial is between its acquire and its commit. A call that ends between
        the PostgreSQL read and this write gets a lease back that nobody
        releases; it only holds its channel until its own deadline, which
        errs on the safe side.
        """
        now_text = seconds_arg(now_s, "now_s")
        leases = [(str(call_id), str(campaign_id), str(org_id),
                   seconds_arg(expires_at_s, "expires_at_s"))
                  for call_id, campaign_id, org_id, expires_at_s in entries]
        generation = uuid.uuid4().hex
        self._redis.delete(redis_keys.leases_ready(), redis_keys.leases_rebuilding())
        stale = [key for pattern in (redis_keys.campaign_leases_pattern(),
                                     redis_keys.org_leases_pattern())
                 for key in self._redis.scan_iter(match=pattern, count=1000)]
        stale.extend(redis_keys.legacy_lease_keys())
        for start in range(0, len(stale), _REBUILD_CHUNK):
            self._redis.delete(*stale[start:start + _REBUILD_CHUNK])
        chunks = [leases[i:i + _REBUILD_CHUNK]
                  for i in range(0, len(leases), _REBUILD_CHUNK)] or [[]]
        for index, chunk in enumerate(chunks):
            keys = [redis_keys.leases_ready(), redis_keys.leases_rebuilding()]
            args: list[str] = [now_text, generation, "1" if index == len(chunks) - 1 else "0"]
            for call_id, campaign_id, org_id, expires_at_text in chunk:
                keys.extend((redis_keys.campaign_leases(campaign_id),
                             redis_keys.org_leases(org_id)))
                args.extend((call_id, expires_at_text))
            self._rebuild(keys=keys, args=args)
