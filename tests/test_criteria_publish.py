"""The teacher's publishing wizard as dialogs; permissions; supersede; bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import bot.criteria.service as service
from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import EventKind, FileRef, IncomingEvent
from storage.models import Notice, NoticeDelivery, OutboxMessage
from tests.criteria_fixtures import CriteriaSchool, Families, module_fixtures
from tests.dialog import assert_dialog, press

TEXT = "Усна відповідь: 12 балів — повна, аргументована; 9 — з неточностями."


filled, db_url, cs, fam = module_fixtures()


def count(cs: CriteriaSchool, model: type, *where: object) -> int:
    with cs.db.read() as session:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)


def publish(
    cs: CriteriaSchool, fam: Families, subject: str = "Математика", text: str = TEXT
) -> None:
    assert_dialog(
        fam.teacher,
        [
            ("/criteria_new", ["Крок 1 з 4", "Оберіть клас"]),
            (press("Далі"), ["Крок 2 з 4"]),
            (press(subject), ["Крок 3 з 4", f"Предмет: {subject}"]),
            (press("Учням і батькам"), ["Крок 4 з 4", "до 3500 символів"]),
            (text, ["Текст отримано", "Без файлу"]),
            (press("Без файлу"), ["Попередній перегляд", text, "Отримувачів: 4", "Надіслати?"]),
            (press("Надіслати"), ["✅ Критерії з предмета", "Отримувачів: 4"]),
        ],
    )


def test_teacher_publishes_to_every_family_member(cs: CriteriaSchool, fam: Families) -> None:
    publish(cs, fam)
    notices = count(cs, Notice)
    assert notices == 1
    assert count(cs, NoticeDelivery) == 4
    rows = cs.outbox("notice")
    assert len(rows) == 4 and all(not r.urgent and r.notice_id for r in rows)
    assert cs.deliver() == 4
    for member in [*fam.students, *fam.parents]:
        received = member.inbox[-1]
        assert "Предмет: Математика" in received.text and TEXT in received.text
        assert [b.label for b in received.flat_buttons()] == ["✅ Зрозуміло", "❓ Маю питання"]
    assert fam.other_parent.inbox == []  # 7-Б is not addressed


def test_typed_subject_and_audience_parents_only(cs: CriteriaSchool, fam: Families) -> None:
    assert_dialog(
        fam.teacher,
        [
            ("/criteria_new", ["Крок 1 з 4"]),
            (press("Далі"), ["Крок 2 з 4"]),
            ("  мистецтво ", ["Предмет: Мистецтво"]),  # the school's spelling
            (press("Батькам"), ["Крок 4 з 4"]),
            (TEXT, ["Текст отримано"]),
            (press("Без файлу"), ["Отримувачів: 2 (батьки; клас 7-А)"]),
            (press("Надіслати"), ["Отримувачів: 2"]),
        ],
    )
    cs.deliver()
    assert fam.students[0].inbox == [] and "Мистецтво" in fam.parents[0].last_text()


def test_supersede_keeps_the_old_notice_readable(cs: CriteriaSchool, fam: Families) -> None:
    publish(cs, fam)
    cs.deliver()
    old_message = fam.parents[0].last_ref
    assert_dialog(
        fam.teacher,
        [
            ("/criteria_new", ["Крок 1"]),
            (press("Далі"), ["Крок 2"]),
            (press("Математика"), ["Крок 3"]),
            (press("Учням і батькам"), ["Крок 4"]),
            ("Нові критерії: 12 балів — бездоганно.", ["Текст отримано"]),
            (press("Без файлу"), ["замінять попередні", "7-А"]),
            (press("Надіслати"), ["✅"]),
        ],
    )
    with cs.db.read() as session:
        old, new = session.scalars(select(Notice).order_by(Notice.id)).all()
        assert old.superseded_by == new.id and new.superseded_by is None
        assert old.text == TEXT  # still stored and readable
    cs.deliver()
    assert "🔄 Оновлено" in fam.parents[0].last_text()
    # A press on the old message shows the current criteria instead.
    replies = fam.parents[0].press("Зрозуміло", ref=old_message)
    said = "\n".join(r.text for r in replies)
    assert said.index("вже замінено") < said.index("Нові критерії")
    assert count(cs, NoticeDelivery, NoticeDelivery.acknowledged_at.is_not(None)) == 0


def test_several_classes_one_notice_each(cs: CriteriaSchool, fam: Families) -> None:
    director = cs.join("dir", None, "director")
    assert_dialog(
        director,
        [
            ("/criteria_new", ["Оберіть клас"]),
            (press("7-А"), ["Оберіть клас"]),
            (press("7-Б"), ["Оберіть клас"]),
            (press("Далі"), ["Крок 2"]),
            (press("Фізика"), ["Крок 3"]),
            (press("Батькам"), ["Крок 4"]),
            (TEXT, ["Текст отримано"]),
            (press("Без файлу"), ["Отримувачів: 3 (батьки; клас 7-А, 7-Б)"]),
            (press("Надіслати"), ["Отримувачів: 3"]),
        ],
    )
    assert count(cs, Notice) == 2
    cs.deliver()
    assert "Клас: 7-Б" in fam.other_parent.last_text()


def test_file_attached_with_the_text(cs: CriteriaSchool, fam: Families) -> None:
    teacher = fam.teacher
    for step in ("/criteria_new", "Далі", "Математика", "Учням і батькам"):
        teacher.send(step) if step.startswith("/") else teacher.press(step)
    pdf = FileRef("criteria.pdf", "application/pdf", 200_000, "tgfile123")
    replies = cs.service.handle(
        IncomingEvent("memory", "olena", EventKind.FILE, file=pdf, display_name="Olena")
    )
    assert "criteria.pdf" in replies[0].text and "надішліть текст" in replies[0].text
    replies = teacher.send(TEXT)
    assert "Попередній перегляд" in replies[0].text and "📎 Файл: criteria.pdf" in replies[0].text
    teacher.press("Надіслати")
    with cs.db.read() as session:
        notice = session.scalars(select(Notice)).one()
        assert notice.file_name == "criteria.pdf" and notice.file_path == "memory-file:tgfile123"


# ---------------------------------------------------------------- permissions
def test_students_and_parents_cannot_publish(cs: CriteriaSchool, fam: Families) -> None:
    for member in (fam.students[0], fam.parents[0]):
        assert_dialog(member, [("/criteria_new", ["лише вчителі та адміністрація", "/criteria"])])
    labels = [b.label for b in fam.parents[0].send("/menu")[0].flat_buttons()]
    assert "📚 Критерії" in labels and "📢 Критерії оцінювання" not in labels


def test_teacher_sees_only_own_classes(cs: CriteriaSchool, fam: Families) -> None:
    replies = fam.teacher.send("/criteria_new")
    assert [b.label for b in replies[0].flat_buttons()][:1] == ["✓ 7-А"]
    assert not any("7-Б" in b.label for b in replies[0].flat_buttons())


def test_teacher_cannot_publish_to_a_class_they_do_not_teach(
    cs: CriteriaSchool, fam: Families
) -> None:
    fam.teacher.send("/criteria_new")
    replies = fam.teacher.press_payload(
        encode(ButtonKind.CRITERIA_CLASS, cs.class_ids["7-Б"])
    )  # a forged press
    assert "Не вдалося розпізнати" in replies[0].text
    assert count(cs, Notice) == 0


def test_unregistered_user_is_asked_to_join(cs: CriteriaSchool) -> None:
    stranger = cs.channel.user("nobody")
    assert "приєднайтеся" in stranger.send("/criteria_new")[0].text


# ---------------------------------------------------------------- bad input
def _to_text_step(fam: Families) -> None:
    for step in ("/criteria_new", "Далі", "Математика", "Учням і батькам"):
        fam.teacher.send(step) if step.startswith("/") else fam.teacher.press(step)


def test_empty_and_overlong_texts_are_answered_clearly(cs: CriteriaSchool, fam: Families) -> None:
    _to_text_step(fam)
    assert_dialog(
        fam.teacher,
        [
            ("   ", ["Текст порожній"]),
            ("А" * 3600, ["Текст задовгий: 3600 символів", "до 3500", "файлом"]),
            ("А" * 20_000, ["задовге (20000 символів)"]),  # refused before any flow
            (TEXT, ["Текст отримано"]),  # still in the wizard: nothing lost
        ],
    )
    assert count(cs, Notice) == 0 and count(cs, OutboxMessage) == 0


def test_wrong_file_type_and_too_large_file(cs: CriteriaSchool, fam: Families) -> None:
    _to_text_step(fam)
    fam.teacher.send(TEXT)

    def send_file(name: str, mime: str, size: int) -> str:
        ref = FileRef(name, mime, size, "x")
        event = IncomingEvent("memory", "olena", EventKind.FILE, file=ref)
        return cs.service.handle(event)[0].text

    assert "непідтримуваний тип" in send_file("virus.exe", "application/octet-stream", 10)
    assert "завеликий: 25.0 МБ" in send_file("big.pdf", "application/pdf", 25 * 1024 * 1024)
    assert "Попередній перегляд" in send_file("ok.png", "image/png", 1000)


def test_no_recipients_nothing_sent(cs: CriteriaSchool) -> None:
    teacher = cs.join("lonely", "8-В", "teacher")  # 8-В has no families yet
    assert_dialog(
        teacher,
        [
            ("/criteria_new", ["Крок 1"]),
            (press("Далі"), ["Крок 2"]),
            (press("Хімія"), ["Крок 3"]),
            (press("Учням і батькам"), ["Крок 4"]),
            (TEXT, ["Текст отримано"]),
            (press("Без файлу"), ["8-В", "ще ніхто", "Нічого не надіслано"]),
        ],
    )
    assert count(cs, Notice) == 0 and count(cs, OutboxMessage) == 0


def test_stale_wizard_buttons_change_nothing(cs: CriteriaSchool, fam: Families) -> None:
    _to_text_step(fam)
    fam.teacher.send("/cancel")
    replies = fam.teacher.press_payload(encode(ButtonKind.CRITERIA_STEP, "send"))
    assert "вже не діє" in replies[0].text
    assert count(cs, Notice) == 0


def test_publish_is_all_or_nothing(
    cs: CriteriaSchool, fam: Families, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while queuing (after notices were written) rolls everything back."""
    calls = {"n": 0}
    real = service.enqueue_many

    def failing(session: object, messages: list[object], now: object) -> int:
        calls["n"] += 1
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "enqueue_many", failing)
    _to_text_step(fam)
    fam.teacher.send(TEXT)
    fam.teacher.press("Без файлу")
    replies = fam.teacher.press("Надіслати")
    assert "сталася помилка" in replies[0].text
    assert calls["n"] == 1
    assert count(cs, Notice) == 0 and count(cs, NoticeDelivery) == 0
    monkeypatch.setattr(service, "enqueue_many", real)
    assert "✅" in fam.teacher.press("Надіслати")[0].text  # the preview is still there
