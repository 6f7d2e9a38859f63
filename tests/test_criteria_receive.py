"""Families receive a notice: "understood", a question relayed to the teacher and answered,
`/criteria` to read again, reminders, class groups; end to end through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.channels.console import ConsoleSession
from bot.conversation.service import ChatService
from bot.criteria.service import publish_notice, queue_criteria_reminders
from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import IncomingEvent
from bot.settings import Settings
from storage.models import NoticeDelivery, NoticeQuestion
from storage.repositories import groups, invites, people
from tests.criteria_fixtures import CriteriaSchool, Families, module_fixtures
from tests.dialog import assert_dialog, press

TEXT = "Контрольна робота: 12 балів — усі завдання правильно, з поясненнями."


filled, db_url, cs, fam = module_fixtures()


def publish(cs: CriteriaSchool, class_name: str = "7-А", subject: str = "Математика") -> int:
    """Publish as the teacher would (the service the chat effect calls), then deliver."""
    with cs.db.write() as session:
        author = people.person_for_identity(session, "memory", "olena")
        result = publish_notice(
            session,
            class_ids=[cs.class_ids[class_name]],
            subject=subject,
            audience="both",
            text=TEXT,
            file=None,
            author_id=author.id if author else None,
            now=cs.now,
            settings=cs.settings,
        )
    cs.deliver()
    return result.notices[0].notice_id


def test_acknowledge_once(cs: CriteriaSchool, fam: Families) -> None:
    publish(cs)
    parent = fam.parents[0]
    assert_dialog(
        parent,
        [
            (press("Зрозуміло"), ["Дякуємо", "«Математика»"]),
            (press("Зрозуміло"), ["вже позначили"]),
        ],
    )
    with cs.db.read() as session:
        acked = session.scalars(
            select(NoticeDelivery).where(NoticeDelivery.acknowledged_at.is_not(None))
        ).all()
        assert len(acked) == 1 and acked[0].role == "parent"


def test_question_relayed_and_answered_with_the_button(cs: CriteriaSchool, fam: Families) -> None:
    publish(cs)
    parent = fam.parents[0]
    assert_dialog(
        parent,
        [
            (press("Маю питання"), ["Напишіть питання", "ім'ям, роллю та класом"]),
            ("   ", ["Питання порожнє"]),
            ("Чи враховується домашня робота?", ["передано вчителю"]),
        ],
    )
    relays = cs.outbox("relay")
    assert len(relays) == 1 and relays[0].recipient == "olena" and not relays[0].urgent
    cs.deliver()
    relay = fam.teacher.last_text()
    assert "Від: Maria (батьки)" in relay and "клас 7-А" in relay
    assert "Чи враховується домашня робота?" in relay
    assert_dialog(
        fam.teacher,
        [
            (press("Відповісти"), ["Maria (батьки, клас 7-А)", "домашня робота"]),
            ("Так, як 20% тематичної оцінки.", ["Відповідь надіслано"]),
        ],
    )
    cs.deliver()
    answer = parent.inbox[-1]
    assert "Відповідь: Так, як 20% тематичної оцінки." in answer.text
    assert "Ваше питання: Чи враховується домашня робота?" in answer.text
    assert [b.label for b in answer.flat_buttons()] == ["✅ Зрозуміло", "❓ Маю питання"]
    with cs.db.read() as session:
        q = session.scalars(select(NoticeQuestion)).one()
        assert q.answer == "Так, як 20% тематичної оцінки." and q.answered_at is not None


@pytest.mark.parametrize("telegram_style", [False, True])
def test_teacher_answers_by_replying_to_the_relayed_message(
    cs: CriteriaSchool, fam: Families, telegram_style: bool
) -> None:
    publish(cs)
    fam.students[0].press("Маю питання")
    fam.students[0].send("Скільки балів за усну відповідь?")
    cs.deliver()
    ref = fam.teacher.last_ref  # what the outbox stored as external_message_id
    # Telegram gives "chat_id:message_id" for a reply; the memory channel a bare ref.
    reply_to = f"olena:{ref}" if telegram_style else ref
    event = IncomingEvent.from_text(
        "memory", "olena", "До 4 балів.", reply_to_ref=reply_to, display_name="Olena"
    )
    replies = cs.service.handle(event)
    assert "Відповідь надіслано" in replies[0].text
    cs.deliver()
    assert "Відповідь: До 4 балів." in fam.students[0].last_text()


def test_a_plain_message_from_the_teacher_is_not_an_answer(
    cs: CriteriaSchool, fam: Families
) -> None:
    publish(cs)
    event = IncomingEvent.from_text("memory", "olena", "Привіт", reply_to_ref="olena:999")
    replies = cs.service.handle(event)
    assert "Відповідь надіслано" not in replies[0].text  # just the menu
    with cs.db.read() as session:
        assert session.scalars(select(NoticeQuestion)).all() == []


def test_only_the_author_class_teacher_or_director_may_answer(
    cs: CriteriaSchool, fam: Families
) -> None:
    publish(cs)
    fam.parents[1].press("Маю питання")
    fam.parents[1].send("Питання")
    cs.deliver()
    with cs.db.read() as session:
        question_id = session.scalars(select(NoticeQuestion.id)).one()
    replies = fam.other_teacher.press_payload(encode(ButtonKind.REPLY_QUESTION, question_id))
    assert "Відповісти на це питання може" in replies[0].text
    replies = fam.class_teacher.press_payload(encode(ButtonKind.REPLY_QUESTION, question_id))
    assert "Напишіть відповідь" in replies[0].text


def test_question_goes_to_class_teacher_when_published_from_the_cli(
    cs: CriteriaSchool, fam: Families
) -> None:
    with cs.db.write() as session:
        publish_notice(
            session,
            class_ids=[cs.class_ids["7-А"]],
            subject="Історія України",
            audience="students",
            text=TEXT,
            file=None,
            author_id=None,
            now=cs.now,
            settings=cs.settings,
        )
    cs.deliver()
    assert "Від: адміністрація школи" in fam.students[1].last_text()
    fam.students[1].press("Маю питання")
    fam.students[1].send("Коли контрольна?")
    cs.deliver()
    assert "Коли контрольна?" in fam.class_teacher.last_text()
    assert "Коли контрольна?" not in fam.teacher.last_text()


def test_criteria_lists_current_notices_to_read_again(cs: CriteriaSchool, fam: Families) -> None:
    publish(cs, subject="Математика")
    publish(cs, subject="Фізика")
    parent = fam.parents[0]
    parent.press("Зрозуміло")
    replies = parent.send("/criteria")
    labels = [b.label for b in replies[0].flat_buttons()]
    assert labels == ["Математика · 7-А", "✅ Фізика · 7-А"]  # the last one was acknowledged
    replies = parent.press("Фізика")
    assert "Предмет: Фізика" in replies[0].text and TEXT in replies[0].text
    assert "ще не опубліковано" in fam.other_parent.send("/criteria")[0].text
    menu = [b.label for b in parent.send("/menu")[0].flat_buttons()]
    assert "📚 Критерії" in menu


def test_reminders_after_three_days_at_most_twice(cs: CriteriaSchool, fam: Families) -> None:
    publish(cs)
    fam.parents[0].press("Зрозуміло")

    def remind(days: float) -> int:
        cs.now += timedelta(days=days)
        with cs.db.write() as session:
            return queue_criteria_reminders(session, cs.now, cs.settings)

    assert remind(2) == 0  # too early
    assert remind(1.1) == 3  # the three who did not acknowledge
    cs.deliver()
    assert "⏰ Нагадування" in fam.students[0].last_text()
    assert "⏰" not in fam.parents[0].last_text()
    assert remind(1) == 0
    assert remind(3) == 3
    assert remind(3) == 0  # criteria_reminder_max = 2
    with cs.db.read() as session:
        counts = session.scalars(select(NoticeDelivery.reminders_sent)).all()
        assert sorted(counts) == [0, 2, 2, 2]


def test_no_reminders_in_quiet_hours(cs: CriteriaSchool, fam: Families, settings: Settings) -> None:
    publish(cs)
    quiet = settings.model_copy(update={"quiet_hours": "21:00-08:00"})
    night = datetime(2026, 3, 6, 22, 30, tzinfo=UTC)  # 00:30 in Kyiv
    with cs.db.write() as session:
        assert queue_criteria_reminders(session, night, quiet) == 0
        assert queue_criteria_reminders(session, night + timedelta(hours=8), quiet) == 4


def test_class_group_gets_the_notice_without_personal_buttons(
    cs: CriteriaSchool, fam: Families
) -> None:
    with cs.db.write() as session:
        groups.bind(session, "memory", "group-7a", cs.class_ids["7-А"], None, cs.now)
    publish(cs)
    group_rows = [r for r in cs.outbox("notice") if r.recipient == "group-7a"]
    assert len(group_rows) == 1
    reply = group_rows[0].reply
    assert TEXT in reply.text and "в особистому чаті" in reply.text
    assert all(b.url and not b.payload for b in reply.flat_buttons())


def test_end_to_end_through_the_console_channel(cs: CriteriaSchool) -> None:
    """Two console users: the teacher publishes, the parent acknowledges and asks."""
    service = ChatService(cs.db, cs.settings, clock=cs.clock, outbox_channels=frozenset())
    out: dict[str, list[str]] = {"t": [], "p": []}
    teacher = ConsoleSession(service, "teacher-console", output=out["t"].append)
    parent = ConsoleSession(service, "parent-console", output=out["p"].append)
    with cs.db.write() as session:
        codes = [
            invites.create_invite(session, cs.class_ids["7-Б"], role, cs.now).code
            for role in ("teacher", "parent")
        ]
    for console, code in zip((teacher, parent), codes, strict=True):
        console.handle_line(f"/start {code}")
        console.handle_line("1")  # consent
    for line in ("/criteria_new", "2", "3", "3", TEXT, "1", "1"):
        # 7-Б pre-selected; 2 = Далі; 3 = Математика; 3 = both; text; 1 = Без файлу; 1 = send
        teacher.handle_line(line)
    assert "Отримувачів: 1" in out["t"][-4]
    # The console shows only its own replies; what others get waits in the outbox.
    notices = [r for r in cs.outbox("notice") if r.channel == "console"]
    assert len(notices) == 1 and notices[0].recipient == "parent-console"
    parent.last_with_buttons = notices[0].reply
    assert "Дякуємо" in parent.handle_line("1")[0].text  # 1 = ✅ Зрозуміло
    parent.last_with_buttons = notices[0].reply
    parent.handle_line("2")  # ❓ Маю питання
    assert "передано" in parent.handle_line("А диктанти?")[0].text
    relay = [r for r in cs.outbox("relay") if r.channel == "console"]
    assert relay[0].recipient == "teacher-console" and "А диктанти?" in relay[0].reply.text
