"""Dialog-table testing, as Zulip's bots do: (what the user does, what the bot must say).

A step is `("text or /command", [expected substrings])` or `(press("label"), [...])`; the
expectations are matched, in order, against the replies of that step.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.memory import MemoryUser
from bot.engine.events import Reply


@dataclass(frozen=True)
class Press:
    label: str


def press(label: str) -> Press:
    return Press(label)


Turn = tuple[str | Press, list[str]]


def run_turn(user: MemoryUser, action: str | Press) -> list[Reply]:
    if isinstance(action, Press):
        return user.press(action.label)
    return user.send(action)


def assert_dialog(user: MemoryUser, turns: list[Turn]) -> None:
    for number, (action, expected) in enumerate(turns, start=1):
        replies = run_turn(user, action)
        said = "\n---\n".join(r.text for r in replies)
        position = 0
        for fragment in expected:
            found = said.find(fragment, position)
            assert found >= 0, (
                f"turn {number} ({action!r}): expected {fragment!r} after position {position} "
                f"in:\n{said}"
            )
            position = found + len(fragment)
        if not expected:
            assert replies == [], f"turn {number} ({action!r}): expected silence, got:\n{said}"
