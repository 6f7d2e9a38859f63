"""The engine's cost per press: parents walk the parents' survey through ChatService in process
(no Telegram, no timing of anything but the events), with the replies queued in the outbox as
for Telegram and Viber.

    .venv/bin/python scripts/bench/press_profile.py [--users 30] [--profile out.prof]

Prints ms per press (best of the walks; a machine shared with other work adds noise: compare
two trees back to back) and the SQL statements of one press. With --profile, one more walk runs
under cProfile and its stats are written to that file (`python -m pstats out.prof`).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.channels.memory import MemoryChannel, MemoryUser  # noqa: E402
from bot.conversation.service import ChatService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.school import SchoolBuilder  # noqa: E402

# The buttons a parent presses: the survey from the menu, then 7 questions (one multi-choice).
WALK = [
    "Анкета для батьків",
    "Так, завжди",
    "Іноді",
    "з сайту школи",
    "Готово",
    "Частково",
    "Здебільшого",
    "Зовсім ні",
]
WALKS = 3


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().split(None, 1)[:1]
        self.count += first in (["SELECT"], ["INSERT"], ["UPDATE"], ["DELETE"])


def _walk(users: list[MemoryUser]) -> int:
    for label in WALK:
        for user in users:
            user.press(label)
    return len(WALK) * len(users)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/press.db"
        upgrade(url)
        db = Database(url)
        settings = Settings(_env_file=None, database_url=url, quiet_hours="")
        now = datetime.now(UTC) - timedelta(minutes=1)
        school = SchoolBuilder.create(db, settings, ("7-А",))
        school.wave("assessment-parents", now, label="2026-03")
        code = school.invite("7-А", "parent", now, uses=1_000_000)
        service = ChatService(db, settings, outbox_channels=frozenset({"memory"}))
        channel = MemoryChannel(service)
        number = iter(range(5000, 10**9))

        def parents() -> list[MemoryUser]:
            users = [channel.user(str(next(number))) for _ in range(args.users)]
            for user in users:  # registering is not measured
                user.send(f"/start {code}")
                user.press("Погоджуюсь")
            return users

        best = float("inf")
        for _ in range(WALKS):
            users = parents()
            started = time.perf_counter()
            presses = _walk(users)
            best = min(best, (time.perf_counter() - started) / presses)
        print(f"ms per press: {best * 1000:.2f} (best of {WALKS} walks of {presses} presses)")

        one = parents()[:1]
        one[0].press(WALK[0])
        counter = _Statements()
        engine_log = logging.getLogger("sqlalchemy.engine.Engine")
        engine_log.addHandler(counter)
        engine_log.setLevel(logging.INFO)
        one[0].press(WALK[1])
        engine_log.setLevel(logging.WARNING)
        engine_log.removeHandler(counter)
        print(f"SQL statements of one answer: {counter.count}")

        if args.profile is not None:
            users = parents()
            profile = cProfile.Profile()
            profile.runcall(_walk, users)
            profile.dump_stats(args.profile)
            print(f"profile of {len(WALK) * len(users)} presses: {args.profile}")
        db.dispose()


if __name__ == "__main__":
    main()
