"""Plain records the repositories return: no SQLAlchemy here.

The conversation engine and the feature flows read these types (through the World protocol),
so importing this module must stay cheap and free of the ORM.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ROLES = ("student", "parent", "teacher", "class_teacher", "director", "admin")
FAMILY_ROLES = ("student", "parent")
STAFF_ROLES = ("teacher", "class_teacher", "director", "admin")
SCHOOL_WIDE_ROLES = ("director", "admin")
# Letters and digits only: valid in a Telegram `start` parameter and a Viber `context`,
# and free of look-alikes (0/O, 1/l/I) for codes read off paper.
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # ~68 bits


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_code(text: str) -> bool:
    return len(text) == CODE_LENGTH and all(c in ALPHABET for c in text)


ROLE_RANK = {"student": 0, "parent": 1, "teacher": 2, "class_teacher": 3, "admin": 4, "director": 5}


@dataclass(frozen=True)
class MembershipInfo:
    class_id: int | None
    class_name: str
    role: str


@dataclass(frozen=True)
class PersonInfo:
    id: int
    display_name: str
    language: str
    memberships: tuple[MembershipInfo, ...]

    @property
    def roles(self) -> set[str]:
        return {m.role for m in self.memberships}

    @property
    def main_role(self) -> str:
        return max(self.roles, key=lambda r: ROLE_RANK.get(r, 0)) if self.memberships else ""

    @property
    def is_school_wide(self) -> bool:
        return bool(self.roles & set(SCHOOL_WIDE_ROLES))

    def class_ids(self, roles: tuple[str, ...] | None = None) -> list[int]:
        return sorted(
            {
                m.class_id
                for m in self.memberships
                if m.class_id is not None and (roles is None or m.role in roles)
            }
        )


@dataclass(frozen=True)
class Recipient:
    person_id: int
    role: str
    class_id: int | None
    channel: str
    external_id: str
    language: str


@dataclass(frozen=True)
class InviteInfo:
    code: str
    status: str  # ok | unknown | expired | used_up
    role: str = ""
    class_id: int | None = None
    class_name: str = ""


@dataclass(frozen=True)
class DraftInfo:
    wave_id: int
    class_id: int | None
    answers: dict[str, Any]
    position: int


@dataclass(frozen=True)
class WaveInfo:
    id: int
    survey_id: int
    slug: str
    title: str
    label: str
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    class_ids: tuple[int, ...]
    audience: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class NoticeInfo:
    id: int
    class_id: int
    class_name: str
    subject: str
    audience: str
    text: str
    file_name: str | None
    file_path: str | None
    author_id: int | None
    author_name: str
    content_hash: str
    created_at: datetime
    superseded_by: int | None


@dataclass(frozen=True)
class QuestionInfo:
    id: int
    notice_id: int
    asker_id: int | None
    asker_name: str
    asker_role: str
    text: str
    answer: str | None


@dataclass(frozen=True)
class StaffMember:
    person_id: int
    name: str
    roles: tuple[tuple[str, int | None, str], ...]  # (role, class id, class name)


@dataclass(frozen=True)
class RateLine:
    """Respondents against members of one class and role group of a wave (None: hidden)."""

    class_id: int
    class_name: str
    role: str  # role group: student | parent | teacher
    members: int
    respondents: int | None


@dataclass(frozen=True)
class WaveRates:
    wave: WaveInfo
    lines: tuple[RateLine, ...]


@dataclass(frozen=True)
class AuditEntry:
    """One line of the staff audit log: who changed what, when."""

    at: datetime
    actor_name: str
    action: str
    target_name: str
    class_name: str
    wave_id: int | None
    detail: str
