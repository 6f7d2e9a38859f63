"""The conversation engine as dialog tables: what a user does, what the bot says, what is stored."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.conversation.service import ChatService
from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import EventKind, IncomingEvent
from bot.settings import Settings
from storage.db import Database
from storage.models import Answer, Completion, Draft, Identity, Membership, Person, Response
from tests.dialog import assert_dialog, press
from tests.school_fixtures import School, build_school


@pytest.fixture
def sch(db: Database, settings: Settings, now: datetime) -> School:
    return build_school(db, settings, now)


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------- joining
def test_start_without_code_explains_how_to_join(sch: School) -> None:
    user = sch.channel.user("u1")
    assert_dialog(user, [("/start", ["Щоб приєднатися", "посилання-запрошення"])])
    assert count(sch.db, Person) == 0


@pytest.mark.parametrize(
    ("make_code", "expected"),
    [
        (lambda s: "NoSuchCode23", "Такого коду запрошення немає"),
        (lambda s: s.invite("7-А", "parent", expires_days=1), "Термін дії"),
        (lambda s: s.invite("7-А", "parent", uses=1), "максимальну кількість"),
    ],
)
def test_bad_invites_are_refused_with_a_hint(sch: School, make_code, expected: str) -> None:  # type: ignore[no-untyped-def]
    code = make_code(sch)
    if expected == "Термін дії":
        sch.now = sch.now + timedelta(days=2)
        sch.service.clock = lambda: sch.now
    if expected == "максимальну кількість":
        sch.channel.user("first").send(f"/start {code}")
        sch.channel.user("first").press("Погоджуюсь")
    user = sch.channel.user("u1")
    assert_dialog(user, [(f"/start {code}", [expected, "класного керівника"])])
    assert count(sch.db, Identity) == (1 if expected == "максимальну кількість" else 0)


def test_consent_registers_the_person_in_class_and_role(sch: School) -> None:
    sch.open("assessment-parents")
    code = sch.invite("7-А", "parent")
    user = sch.channel.user("olena", "Олена")
    assert_dialog(
        user,
        [
            (f"/start {code}", ["запрошує вас як: батьки, клас 7-А", "анонімні", "Погоджуєтесь?"]),
            (press("Погоджуюсь"), ["Ви зареєстровані як: батьки, клас 7-А", "Головне меню"]),
        ],
    )
    assert user.buttons()[0].label == "📝 Анкета для батьків"
    with sch.db.read() as session:
        person = session.scalars(select(Person)).one()
        assert person.display_name == "Олена" and person.consent_at is not None
        roles = session.execute(select(Membership.class_id, Membership.role)).all()
        assert roles == [(sch.class_ids["7-А"], "parent")]


def test_declining_consent_stores_nothing(sch: School) -> None:
    user = sch.channel.user("u1")
    assert_dialog(
        user,
        [
            (f"/start {sch.invite('7-А', 'parent')}", ["Погоджуєтесь?"]),
            (press("Не погоджуюсь"), ["нічого не зберегли"]),
        ],
    )
    assert count(sch.db, Person) == 0


def test_a_second_code_adds_a_class(sch: School) -> None:
    user = sch.join("olena", "7-А", "parent")
    assert_dialog(
        user,
        [
            (
                f"/start {sch.invite('8-Б', 'parent')}",
                ["Додано: батьки, клас 8-Б", "немає відкритих"],
            ),
            (
                f"/start {sch.invite('8-Б', 'parent')}",
                ["Ви вже зареєстровані як: батьки, клас 8-Б"],
            ),
        ],
    )
    with sch.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Membership)) == 2


def test_code_typed_as_text_joins_too(sch: School) -> None:
    user = sch.channel.user("u1")
    assert_dialog(user, [(sch.invite("7-А", "student"), ["учень / учениця, клас 7-А"])])


# ---------------------------------------------------------------- a whole survey
def test_full_parent_survey_stores_an_anonymous_response(sch: School) -> None:
    wave = sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    assert_dialog(
        user,
        [
            (press("Анкета для батьків"), ["Питань: 7", "Крок 1 з 7", "1. Чи отримуєте Ви"]),
            (press("Переважно так"), ["Ваша відповідь: Переважно так", "Крок 2 з 7"]),
            (press("Ніколи"), ["Крок 3 з 7", "можна обрати кілька"]),
            (press("з групи класу у Viber"), ["Крок 3 з 7"]),
            (press("з сайту школи"), ["Крок 3 з 7"]),
            (press("Готово"), ["з групи класу у Viber; з сайту школи", "Крок 4 з 7"]),
            (press("Частково"), ["Крок 5 з 7"]),
            ("1", ["Крок 6 з 7"]),  # a typed option number works (Viber fallback)
            (press("Зовсім ні"), ["Крок 7 з 7", "до 2000 символів"]),
            ("Пояснюйте критерії 🙏 مرحبا", ["Перевірте відповіді", "→ Переважно так"]),
            (press("Надіслати"), ["Дякуємо! Ваші відповіді збережено анонімно", "немає відкритих"]),
        ],
    )
    # a multi-choice toggle edits the keyboard in place: the ✓ marks are on the edited message
    with sch.db.read() as session:
        response = session.scalars(select(Response)).one()
        assert (response.wave_id, response.role) == (wave, "parent")
        assert response.class_id == sch.class_ids["7-А"]
        answers = {
            (a.question_id, a.option_index, a.text)
            for a in session.scalars(select(Answer).where(Answer.response_id == response.id))
        }
        assert answers == {
            ("q1", 1, None),
            ("q2", 3, None),
            ("q4", 3, None),
            ("q4", 5, None),
            ("q5", 2, None),
            ("q6", 0, None),
            ("q7", 3, None),
            ("q8", None, "Пояснюйте критерії 🙏 مرحبا"),
        }
        assert session.scalar(select(func.count()).select_from(Completion)) == 1
        assert session.scalar(select(func.count()).select_from(Draft)) == 0


def _to_question(user, wave: int, number: int) -> None:  # type: ignore[no-untyped-def]
    user.press("Анкета для батьків")
    for _ in range(number - 1):
        user.press("Так, завжди")


def test_back_skip_and_review_edit(sch: School) -> None:
    sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    assert_dialog(
        user,
        [
            (press("Анкета"), ["Крок 1 з 7"]),
            (press("Так, завжди"), ["Крок 2 з 7"]),
            (press("Назад"), ["Крок 1 з 7"]),
            (press("Іноді"), ["Ваша відповідь: Іноді", "Крок 2 з 7"]),
            (press("Переважно так"), ["Крок 3 з 7"]),
            (press("Готово"), ["Оберіть хоча б один варіант"]),
            (press("від класного керівника"), []),
        ][:6],
    )
    user.press("від класного керівника")
    assert_dialog(
        user,
        [
            (press("Готово"), ["Крок 4 з 7"]),
            (press("У повній мірі"), ["Крок 5 з 7"]),
            (press("У повній мірі"), ["Крок 6 з 7"]),
            (press("У повній мірі"), ["Крок 7 з 7"]),
            (press("Пропустити"), ["Перевірте відповіді", "(пропущено)"]),
            (press("✏️ 2"), ["2. Учителі справедливо"]),
            (press("Ніколи"), ["Перевірте відповіді", "→ Ніколи"]),
            (press("Надіслати"), ["Дякуємо"]),
        ],
    )
    with sch.db.read() as session:
        q2 = session.scalars(select(Answer.option_index).where(Answer.question_id == "q2")).one()
        assert q2 == 3
        assert session.scalar(select(func.count()).select_from(Answer)) == 6  # q8 skipped


def test_required_question_cannot_be_skipped_and_text_is_checked(sch: School) -> None:
    sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    user.press("Анкета")
    wave = sch.waves["assessment-parents"]
    assert_dialog(
        user,
        [
            ("hello", ["оберіть варіант кнопкою або надішліть номер відповіді (1–4)", "Крок 1"]),
            ("9", ["номер відповіді (1–4)"]),
        ],
    )
    replies = user.press_payload(encode(ButtonKind.SKIP, wave, 0))
    assert replies[0].text == "Це питання обов'язкове."
    for label in ["Так, завжди", "Так, завжди"]:
        user.press(label)
    user.press("з сайту школи")
    user.press("Готово")
    for _ in range(3):
        user.press("Частково")
    assert_dialog(
        user,
        [
            ("x" * 2001, ["Відповідь задовга: 2001 символ. Максимум — 2000"]),
            ("   ", ["Порожня відповідь"]),
            ("x" * 2000, ["Перевірте відповіді"]),
        ],
    )


# ---------------------------------------------------------------- stale, tampered, duplicates
def test_stale_press_on_an_answered_question_changes_nothing(sch: School) -> None:
    sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    user.press("Анкета")
    first_question = user.last_ref
    user.press("Так, завжди")
    user.press("Іноді")
    replies = user.press_payload(
        encode(ButtonKind.ANSWER, sch.waves["assessment-parents"], 0, 3), first_question
    )
    assert "Це питання вже пройдено" in replies[0].text
    assert "Крок 3 з 7" in replies[0].text
    with sch.db.read() as session:
        draft = session.scalars(select(Draft)).one()
        assert draft.answers == {"q1": 0, "q2": 2} and draft.position == 2


@pytest.mark.parametrize(
    "payload",
    ["~a:1:0:99", "~a:abc", "~zz:1", "~a:1:0:-1", "~S:999999", "~" + "9" * 70, "~a:1:999:0"],
)
def test_tampered_payloads_are_answered_politely(sch: School, payload: str) -> None:
    sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    user.press("Анкета")
    before = count(sch.db, Answer), count(sch.db, Completion)
    replies = user.press_payload(payload)
    said = " ".join(r.text for r in replies)
    assert any(
        phrase in said
        for phrase in ("Не вдалося розпізнати", "вже пройдено", "закрите", "недоступне")
    ), said
    assert (count(sch.db, Answer), count(sch.db, Completion)) == before


def test_duplicate_delivery_is_processed_once(sch: School) -> None:
    sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    user.press("Анкета")
    payload = encode(ButtonKind.ANSWER, sch.waves["assessment-parents"], 0, 1)
    first = user.press_payload(payload, event_id="u100")
    second = user.press_payload(payload, event_id="u100")
    assert first and second == []


def test_submitting_twice_is_impossible(sch: School) -> None:
    wave = sch.open("assessment-students")
    user = sch.join("taras", "7-А", "student")
    user.press("Анкета")
    answers = {"single": "Частково"}
    for _ in range(20):
        labels = [b.label for b in user.buttons()]
        if "✅ Надіслати" in labels:
            break
        if "Готово ➡️" in labels:
            user.press(labels[0])
            user.press("Готово")
        else:
            user.press(answers["single"] if answers["single"] in labels else labels[0])
    user.press("Надіслати")
    replies = user.press_payload(encode(ButtonKind.SUBMIT, wave))
    assert "вже надіслали" in replies[0].text
    assert count(sch.db, Response) == 1


# ---------------------------------------------------------------- resume, closed, forget, misc
def test_resume_after_restart(sch: School, db_url: str) -> None:
    sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    user.press("Анкета")
    user.press("Так, завжди")
    # a new process: a new Database, service and channel over the same file
    db2 = Database(db_url)
    service2 = ChatService(db2, sch.settings, clock=lambda: sch.now, outbox_channels=frozenset())
    user.channel.service = service2
    assert_dialog(
        user,
        [
            ("/menu", ["Головне меню"]),
            (press("(продовжити)"), ["Крок 2 з 7"]),
        ],
    )
    db2.dispose()


def test_closed_wave_is_explained(sch: School) -> None:
    from bot.surveys.admin import close_wave

    wave = sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    user.press("Анкета")
    with sch.db.write() as session:
        close_wave(session, wave, sch.now)
    assert_dialog(user, [(press("Так, завжди"), ["опитування вже закрите"])])


def test_forget_erases_identity_but_keeps_anonymous_responses(sch: School) -> None:
    sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    user.press("Анкета")
    assert_dialog(
        user,
        [
            ("/forget", ["Видалити ваші дані"]),
            (press("Скасувати"), ["Скасовано"]),
            ("/forget", ["Видалити ваші дані"]),
            (press("Так, видалити"), ["Ваші дані видалено"]),
            ("/menu", ["Спершу приєднайтеся"]),
        ],
    )
    assert (count(sch.db, Identity), count(sch.db, Membership), count(sch.db, Draft)) == (0, 0, 0)


def test_language_switch_and_unknown_command(sch: School) -> None:
    user = sch.join("olena", "7-А", "parent")
    assert_dialog(
        user,
        [
            ("/frobnicate", ["Не знаю команди /frobnicate"]),
            ("/language", ["Оберіть мову"]),
            (press("English"), ["Language changed: English"]),
            ("/help", ["What the bot can do"]),
        ],
    )


def test_huge_message_and_person_without_class(sch: School) -> None:
    director = sch.join("dir", None, "director")
    assert_dialog(
        director,
        [
            ("x" * 10_000, ["Повідомлення задовге (10000 символів)"]),
            ("/menu", ["немає відкритих опитувань"]),
        ],
    )


def test_two_devices_answering_at_once_stay_consistent(sch: School, db_url: str) -> None:
    """Phone and desktop press different options of the same question at the same moment."""
    import threading

    wave = sch.open("assessment-parents")
    phone = sch.join("olena", "7-А", "parent")
    phone.press("Анкета")
    results: dict[str, list[str]] = {}

    def press_from(device: str, option: int) -> None:
        database = Database(db_url)
        service = ChatService(
            database, sch.settings, clock=lambda: sch.now, outbox_channels=frozenset()
        )
        event = IncomingEvent(
            "memory",
            "olena",
            EventKind.BUTTON,
            payload=encode(ButtonKind.ANSWER, wave, 0, option),
            event_id=device,
        )
        results[device] = [r.text for r in service.handle(event)]
        database.dispose()

    threads = [
        threading.Thread(target=press_from, args=("desktop", 0)),
        threading.Thread(target=press_from, args=("phone", 3)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    advanced = [d for d, texts in results.items() if texts[0].startswith("Крок 2 з 7")]
    refused = [d for d, texts in results.items() if "вже пройдено" in texts[0]]
    assert len(advanced) == 1 and len(refused) == 1, results
    with sch.db.read() as session:
        stored = session.scalars(select(Draft.answers)).one()
    assert stored == {"q1": 0 if advanced == ["desktop"] else 3}


def test_group_deep_link_opens_the_survey(sch: School) -> None:
    wave = sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    assert_dialog(user, [(f"/start w{wave}", ["Питань: 7", "Крок 1 з 7"])])
    stranger = sch.channel.user("stranger")
    assert_dialog(stranger, [(f"/start w{wave}", ["Щоб приєднатися"])])
    assert_dialog(user, [("/start whatever", ["Головне меню"])])


def test_unreachable_event_marks_identity(sch: School) -> None:
    sch.join("olena", "7-А", "parent")
    sch.service.handle(
        IncomingEvent("memory", "olena", EventKind.UNREACHABLE, text="blocked by user")
    )
    with sch.db.read() as session:
        assert session.scalars(select(Identity.unreachable_at)).one() is not None


def test_a_parent_of_two_classes_says_which_class_the_answers_are_about(sch: School) -> None:
    sch.open("assessment-parents")
    user = sch.join("olena", "7-А", "parent")
    user.send(f"/start {sch.invite('8-Б', 'parent')}")
    assert_dialog(
        user,
        [
            (press("Анкета для батьків"), ["у вас діти в кількох класах", "з якого класу"]),
        ],
    )
    assert [b.label for b in user.buttons()] == ["7-А", "8-Б"]
    assert_dialog(user, [(press("8-Б"), ["Крок 1 з 7"])])
    # resuming does not ask again: the draft remembers the class
    assert_dialog(user, [("/menu", ["меню"]), (press("продовжити"), ["Крок 1 з 7"])])
    for _ in range(2):
        user.press("Так, завжди")
    user.press("з сайту школи")
    user.press("Готово")
    for _ in range(3):
        user.press("Частково")
    user.press("Пропустити")
    user.press("Надіслати")
    with sch.db.read() as session:
        assert session.scalars(select(Response.class_id)).one() == sch.class_ids["8-Б"]
    # a class the person does not belong to is refused
    replies = user.press_payload(
        encode(ButtonKind.CHOOSE_CLASS, sch.waves["assessment-parents"], 999)
    )
    assert "вже надіслали" in replies[0].text or "Не вдалося" in replies[0].text
