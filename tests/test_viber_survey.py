"""A parent in Viber: invite link -> welcome -> consent -> survey through keyboards -> submit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.channels.viber.setup import build_viber
from bot.delivery.outbox import OutboxSender
from storage.models import (
    Answer,
    Completion,
    Draft,
    Identity,
    OutboxMessage,
    ProcessedEvent,
    Response,
)
from tests.fake_viber import FakeViber
from tests.viber_support import ViberUser, ViberWorld

pytestmark = pytest.mark.anyio
pytest_plugins = ("tests.viber_fixtures",)


def count(world: ViberWorld, model: type) -> int:
    with world.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def join(world: ViberWorld, user: ViberUser) -> None:
    response = await user.open(world.invite())
    assert response.status_code == 200
    await user.press("Погоджуюсь")


async def answer_all(user: ViberUser) -> None:
    await user.press("Анкета")
    await user.press("Так, завжди")  # q1
    await user.press("Іноді")  # q2
    await user.press("з сайту школи")  # q4 multi: toggle
    await user.press("від класного")  # toggle another
    await user.press("Готово")
    await user.press("Частково")  # q5
    await user.press("Зовсім ні")  # q6
    await user.send_text("2")  # q7 by number: the text fallback ("Здебільшого")
    await user.send_text("Більше пояснень критеріїв")  # q8, free text


async def test_welcome_is_the_answer_body_with_the_consent_keyboard(viber: ViberWorld) -> None:
    user = viber.user("u-olena")
    response = await user.open(viber.invite())
    body = response.json()
    assert "запрошує вас як: батьки, клас 7-А" in body["text"]
    assert body["sender"]["name"] == "Ліцей"
    assert "receiver" not in body and "auth_token" not in body
    assert body["min_api_version"] >= 7
    buttons = body["keyboard"]["Buttons"]
    assert [b["Text"] for b in buttons] == ["✅ Погоджуюсь", "Не погоджуюсь"]
    assert all(b["ActionType"] == "reply" and b["Silent"] is True for b in buttons)
    assert [b["ActionBody"] for b in buttons] == ["~c:y", "~c:n"]
    # Old clients: the buttons are numbered in the text and the numbers map back.
    assert "1) ✅ Погоджуюсь" in body["text"] and "надішліть номер" in body["text"]
    assert json.loads(body["tracking_data"]) == {"n": ["~c:y", "~c:n"]}
    # Nothing was sent through the API: the user is not subscribed yet.
    assert viber.fake.calls("send_message") == [] and count(viber, OutboxMessage) == 0


async def test_full_parent_survey_from_invite_link_to_submit(viber: ViberWorld) -> None:
    user = viber.user("u-olena")
    await join(viber, user)
    assert "Ви зареєстровані як: батьки, клас 7-А" in user.texts()[-1]  # one message with the menu
    assert "📝 Анкета для батьків" in user.last().labels[0]
    with viber.db.read() as session:
        identity = session.execute(select(Identity.channel, Identity.external_id)).one()
    assert tuple(identity) == ("viber", "u-olena")

    await answer_all(user)
    review = user.last()
    assert "Перевірте відповіді" in review.text
    assert "→ Іноді" in review.text and "→ від класного керівника; з сайту школи" in review.text
    assert "→ Здебільшого" in review.text and "Більше пояснень критеріїв" in review.text
    await user.press("Надіслати")
    assert "Дякуємо! Ваші відповіді збережено анонімно." in user.texts()[-1]

    assert count(viber, Response) == 1 and count(viber, Completion) == 1
    with viber.db.read() as session:
        q4 = session.scalars(select(Answer.option_index).where(Answer.question_id == "q4")).all()
    assert sorted(i for i in q4 if i is not None) == [0, 5]
    # Viber cannot edit: the "Ваша відповідь: …" echoes were never sent (each costs money).
    assert not any("Ваша відповідь" in t for t in user.texts())
    # Every message went one by one, in order, never twice.
    assert viber.fake.duplicates() == 0
    assert viber.fake.calls("broadcast_message") == []


async def test_question_keyboard_and_multi_choice_toggles(viber: ViberWorld) -> None:
    user = viber.user("u-olena")
    await join(viber, user)
    await user.press("Анкета")
    question = user.last()
    assert "Крок 1 з 7" in question.text  # the intro and question 1 are one message
    assert question.labels == ["Так, завжди", "Переважно так", "Іноді", "Ніколи"]
    assert "1) Так, завжди" in question.text and "4) Ніколи" in question.text
    assert json.loads(question.body["tracking_data"])["p"].endswith(":0")
    await user.press("Так, завжди")
    await user.press("Іноді")
    before = len(user.seen())
    await user.press("з сайту школи")
    # A toggle is a new message with the updated keyboard (Viber cannot edit the old one).
    assert len(user.seen()) == before + 1
    assert "✓ з сайту школи" in user.last().labels
    assert user.last().labels[-2:] == ["Готово ➡️", "⬅️ Назад"]
    assert [b["Columns"] for b in user.last().buttons][-1] == 6


async def test_typed_number_answers_consent_on_an_old_client(viber: ViberWorld) -> None:
    user = viber.user("u-old")
    await user.open(viber.invite())
    await user.send_text("1")  # the welcome's tracking_data says 1 = "~c:y"
    assert "Ви зареєстровані" in " ".join(user.texts())


async def test_duplicate_message_token_is_processed_once(viber: ViberWorld) -> None:
    user = viber.user("u-olena")
    await join(viber, user)
    await user.press("Анкета")
    payload = user.last().buttons[0]["ActionBody"]
    first = await user.send_text(payload, token=777)
    shown = len(user.seen())
    again = await user.send_text(payload, token=777)  # Viber's retry of the same callback
    assert first.status_code == again.status_code == 200
    assert len(user.seen()) == shown
    with viber.db.read() as session:
        keys = session.scalars(select(ProcessedEvent.event_key)).all()
    assert keys.count("v777") == 1


async def test_resume_after_restart(viber: ViberWorld, fake_viber: FakeViber) -> None:
    user = viber.user("u-olena")
    await join(viber, user)
    await user.press("Анкета")
    await user.press("Переважно так")  # q1
    # The process stops: a new client, adapter and sender over the same database.
    await viber.parts.stop()
    viber.parts = build_viber(viber.settings, viber.db, viber.clock)
    viber.sender = OutboxSender(
        viber.db,
        {"viber": viber.parts.transport},
        viber.settings,
        viber.clock,
        sleep=viber.clock.sleep,
    )
    viber.__post_init__()
    await user.send_text("/menu")
    await user.press("Анкета")
    assert user.last().text.startswith("Крок 2 з 7")
    await user.press("⬅️ Назад")
    assert "• Переважно так" in user.last().labels  # the stored answer is marked


async def test_stale_keyboard_press_is_recognised(viber: ViberWorld) -> None:
    user = viber.user("u-olena")
    await join(viber, user)
    await user.press("Анкета")
    old = user.last()
    await user.press("Так, завжди")  # now on question 2
    await user.send_text(old.buttons[2]["ActionBody"], tracking=old.body["tracking_data"])
    assert "Крок 2 з 7" in user.last().text  # shown the current question again
    with viber.db.read() as session:
        draft = session.scalars(select(Draft)).one()
        assert (draft.answers, draft.position) == ({"q1": 0}, 1)  # the old press changed nothing


async def test_a_retried_conversation_started_gets_the_welcome_again(viber: ViberWorld) -> None:
    code = viber.invite()
    body = {
        "event": "conversation_started",
        "timestamp": 1,
        "message_token": 4242,
        "type": "open",
        "context": code,
        "user": {"id": "u-retry", "name": "Іра"},
    }
    first = await viber.post(body)
    again = await viber.post(body)  # our first answer was lost on the way
    assert first.json()["text"] == again.json()["text"]
    assert "запрошує вас" in again.json()["text"]
    assert count(viber, Identity) == 0  # nothing registered before consent
