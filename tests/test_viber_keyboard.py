"""How a neutral Reply looks in Viber, and reading tracking_data back (hostile input)."""

from __future__ import annotations

import json

from bot.channels.capabilities import telegram_deep_link, viber_deep_link
from bot.channels.viber.keyboard import MAX_TEXT, merge, parse_tracking, render
from bot.engine.events import Button, Reply


def test_an_echo_edit_is_skipped_but_a_keyboard_only_edit_is_sent() -> None:
    assert render(Reply("Ваша відповідь: Так", edit_ref="m1")) is None
    toggle = Reply(
        "Питання", buttons=((Button("✓ A", "~t:1:2:0"),),), edit_ref="m1", keyboard_only=True
    )
    rendered = render(toggle)
    assert rendered is not None and rendered.keyboard is not None


def test_long_labels_are_cut_to_two_lines_and_escaped() -> None:
    label = "Оцінювання <навчальних> досягнень Вашої дитини розвиває впевненість у власних силах"
    rendered = render(Reply("Q", buttons=((Button(label, "~a:1:0:0"),),)))
    assert rendered is not None and rendered.keyboard is not None
    (button,) = rendered.keyboard["Buttons"]
    assert button["Rows"] == 2 and button["Columns"] == 6
    assert len(button["Text"].replace("&lt;", "<").replace("&gt;", ">")) <= 64
    assert button["Text"].endswith("…") and "&lt;навчальних&gt;" in button["Text"]


def test_rows_share_the_six_columns() -> None:
    reply = Reply(
        "Q",
        buttons=(
            (Button("Назад", "~b:1:2"), Button("Пропустити", "~k:1:2")),
            tuple(Button(f"✏️ {n}", f"~e:1:{n}") for n in range(4)),
        ),
    )
    rendered = render(reply)
    assert rendered is not None and rendered.keyboard is not None
    assert [b["Columns"] for b in rendered.keyboard["Buttons"]] == [3, 3, 3, 3, 3, 3]


def test_url_buttons_open_the_link_and_bad_ones_are_dropped() -> None:
    reply = Reply(
        "Файл",
        buttons=(
            (Button("Відкрити", url="https://school.example/c.pdf"),),
            (Button("Погано", url="javascript:alert(1)"),),
        ),
    )
    rendered = render(reply)
    assert rendered is not None and rendered.keyboard is not None
    (button,) = rendered.keyboard["Buttons"]
    assert button["ActionType"] == "open-url"
    assert "Відкрити: https://school.example/c.pdf" in rendered.text


def test_numbered_fallback_for_options_leaves_numbers_to_the_engine() -> None:
    reply = Reply(
        "Question",
        buttons=(
            (Button("Yes", "~a:1:0:0"),),
            (Button("No", "~a:1:0:1"),),
            (Button("Back", "~b:1:0"),),
        ),
        position="1:0",
    )
    rendered = render(reply)
    assert rendered is not None
    assert rendered.text.endswith("1) Yes\n2) No\nOr send the number of your answer.")
    assert json.loads(rendered.tracking_data) == {"p": "1:0"}  # no number map


def test_text_is_cut_to_vibers_limit() -> None:
    rendered = render(Reply("я" * 9000))
    assert rendered is not None and len(rendered.text) == MAX_TEXT


def test_merge_keeps_one_message_with_the_last_keyboard() -> None:
    merged = merge([Reply("Додано роль."), Reply("Меню", buttons=((Button("A", "~m:a"),),))])
    assert merged is not None
    assert merged.text == "Додано роль.\n\nМеню" and merged.flat_buttons()[0].payload == "~m:a"


def test_hostile_tracking_data_is_ignored() -> None:
    assert parse_tracking(None).numbered == ()
    assert parse_tracking("{").numbered == ()
    assert parse_tracking("[1,2]").position == ""
    assert parse_tracking("x" * 5000).numbered == ()
    assert parse_tracking(json.dumps({"n": ["~c:y", "rm -rf"]})).numbered == ()
    assert parse_tracking(json.dumps({"n": ["~c:y"] * 31})).numbered == ()
    good = parse_tracking(json.dumps({"p": "3:1", "n": ["~c:y", "~c:n"]}))
    assert good.payload_for(" 2 ") == "~c:n"
    assert good.payload_for("3") is None and good.payload_for("0") is None
    assert good.payload_for("99999999999") is None and good.payload_for("так") is None


def test_deep_links() -> None:
    assert viber_deep_link("classpulse-school", "AbC23") == (
        "viber://pa?chatURI=classpulse-school&context=AbC23"
    )
    assert telegram_deep_link("@school_bot", "AbC23") == "https://t.me/school_bot?start=AbC23"
