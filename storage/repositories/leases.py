"""Leases: a named role (the Telegram poller, the scheduler) held by one process at a time.

`acquire` takes a free or expired lease, or renews one the holder has; it is one conditional
UPDATE (or an INSERT for a lease never taken), so two processes cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Lease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Hold `name` until now + ttl if it is free, expired or already ours; False otherwise."""
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at <= now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if int(getattr(result, "rowcount", 0) or 0) == 1:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
            session.flush()
    except IntegrityError:  # another process inserted it first
        return False
    return True


def release(session: Session, name: str, holder: str, now: datetime) -> None:
    """Give the lease up at once (a clean stop): another process takes over without waiting."""
    session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=now)
    )


def holder_of(session: Session, name: str, now: datetime) -> str | None:
    lease = session.scalars(select(Lease).where(Lease.name == name)).first()
    if lease is None or lease.expires_at <= now:
        return None
    return lease.holder
