"""Group chats bound to a class (`/bind 7-А` in a Telegram class group)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import GroupBinding, SchoolClass


@dataclass(frozen=True)
class Binding:
    channel: str
    chat_id: str
    class_id: int
    class_name: str


def bind(
    session: Session,
    channel: str,
    chat_id: str,
    class_id: int,
    bound_by: int | None,
    now: datetime,
) -> bool:
    """Bind a chat to a class (re-binding moves it). False if it was bound to it already."""
    row = session.scalars(
        select(GroupBinding).where(GroupBinding.channel == channel, GroupBinding.chat_id == chat_id)
    ).first()
    if row is not None and row.class_id == class_id:
        return False
    if row is None:
        session.add(
            GroupBinding(
                channel=channel,
                chat_id=chat_id,
                class_id=class_id,
                bound_by=bound_by,
                created_at=now,
            )
        )
    else:
        row.class_id, row.bound_by, row.created_at = class_id, bound_by, now
    session.flush()
    return True


def unbind(session: Session, channel: str, chat_id: str) -> bool:
    """Forget a chat's binding; False if it had none."""
    result = session.execute(
        delete(GroupBinding).where(GroupBinding.channel == channel, GroupBinding.chat_id == chat_id)
    )
    return bool(getattr(result, "rowcount", 0))


def binding(session: Session, channel: str, chat_id: str) -> Binding | None:
    row = session.execute(
        select(GroupBinding, SchoolClass.name)
        .join(SchoolClass, SchoolClass.id == GroupBinding.class_id)
        .where(GroupBinding.channel == channel, GroupBinding.chat_id == chat_id)
    ).first()
    if row is None:
        return None
    return Binding(row[0].channel, row[0].chat_id, row[0].class_id, row[1])


def bindings_for_classes(session: Session, class_ids: list[int]) -> list[Binding]:
    rows = session.execute(
        select(GroupBinding, SchoolClass.name)
        .join(SchoolClass, SchoolClass.id == GroupBinding.class_id)
        .where(GroupBinding.class_id.in_(class_ids))
        .order_by(GroupBinding.id)
    ).all()
    return [Binding(r[0].channel, r[0].chat_id, r[0].class_id, r[1]) for r in rows]


def migrate_chat(session: Session, channel: str, old_chat_id: str, new_chat_id: str) -> None:
    """A Telegram group became a supergroup and got a new id."""
    row = session.scalars(
        select(GroupBinding).where(
            GroupBinding.channel == channel, GroupBinding.chat_id == old_chat_id
        )
    ).first()
    if row is not None and binding(session, channel, new_chat_id) is None:
        row.chat_id = new_chat_id
        session.flush()
