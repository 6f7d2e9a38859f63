"""TelegramTransport alone: how replies become Telegram calls, and what answers mean."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.engine.events import Button, OutFile, Reply
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import (
    Delivery,
    Outcome,
    Result,
    TelegramTransport,
    split_text,
    transport_bot,
)

CHAT = 777


def delivery(reply: Reply, n: int = 1) -> Delivery:
    return Delivery(n, "telegram", str(CHAT), {"reply": reply.to_json()}, "reply", True, 1)


def test_long_texts_are_split_at_line_breaks() -> None:
    text = "\n".join(f"Рядок {i} " + "х" * 90 for i in range(100))
    pieces = split_text(text)
    assert all(len(p) <= 4096 for p in pieces) and len(pieces) == 3
    assert "".join(p.replace("\n", "") for p in pieces) == text.replace("\n", "")


def test_replies_edits_files_and_answers(tmp_path: Path) -> None:
    async def scenario() -> None:
        fake = FakeTelegram()
        async with transport_bot(fake) as bot:
            transport = TelegramTransport(bot)

            async def send(reply: Reply) -> Result:
                (result,) = await transport.send_batch([delivery(reply)])
                return result

            buttons = ((Button("Так", "~a:1:0:0"),), (Button("Сайт", url="https://x.ua"),))
            sent = await send(Reply("Питання 1", buttons))
            assert sent.outcome is Outcome.SENT and sent.message_id == "1"
            assert fake.last(CHAT).buttons == [
                [{"text": "Так", "callback_data": "~a:1:0:0"}],
                [{"text": "Сайт", "url": "https://x.ua"}],
            ]
            # Keyboard-only edit, then an echo edit that removes the keyboard.
            toggled = ((Button("✓ Так", "~a:1:0:0"),),)
            await send(Reply("Питання 1", toggled, edit_ref=f"{CHAT}:1", keyboard_only=True))
            assert fake.last(CHAT).labels() == ["✓ Так"]
            echo = await send(Reply("Ваша відповідь: Так", edit_ref=f"{CHAT}:1"))
            assert echo.outcome is Outcome.SENT
            assert (fake.last(CHAT).text, fake.last(CHAT).buttons) == (
                "Ваша відповідь: Так",
                [],
            )
            # The same edit again: "message is not modified" is harmless.
            again = await send(Reply("Ваша відповідь: Так", edit_ref=f"{CHAT}:1"))
            assert again.outcome is Outcome.SENT
            # A message that cannot be edited any more: sent anew.
            gone = await send(Reply("Нове", edit_ref=f"{CHAT}:99"))
            assert gone.message_id == "2" and fake.last(CHAT).text == "Нове"
            # Over 4096 characters: several messages, one result.
            long = await send(Reply("а" * 5000))
            assert long.outcome is Outcome.SENT and len(fake.view(CHAT)) == 4
            # A document with its caption.
            path = tmp_path / "criteria.pdf"
            path.write_bytes(b"%PDF-1.4 test")
            doc = await send(
                Reply("Критерії з математики", file=OutFile(str(path), "criteria.pdf", "x"))
            )
            assert doc.outcome is Outcome.SENT
            assert fake.last(CHAT).document == "criteria.pdf"
            assert fake.last(CHAT).text == "Критерії з математики"
            # A file a teacher sent in Telegram goes out again by its file_id.
            by_id = await send(
                Reply("Критерії", file=OutFile("telegram-file:BQACAgI", "c.pdf", "x"))
            )
            assert by_id.outcome is Outcome.SENT
            assert fake.last(CHAT).document == "BQACAgI"
            # A chart goes as a picture in the chat, caption and all.
            chart = tmp_path / "chart.png"
            chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
            pic = await send(
                Reply("📊 Діаграма", file=OutFile(str(chart), "chart.png", "image/png"))
            )
            assert pic.outcome is Outcome.SENT
            assert (fake.last(CHAT).photo, fake.last(CHAT).document) == ("chart.png", "")
            assert fake.last(CHAT).text == "📊 Діаграма"
            # A photo a teacher sent goes out again as a photo by its file_id...
            photo_id = "telegram-file:AgACAgIAAx"
            again_pic = await send(Reply("Фото", file=OutFile(photo_id, "photo.jpg", "image/jpeg")))
            assert again_pic.outcome is Outcome.SENT and fake.last(CHAT).photo == "AgACAgIAAx"
            # ...and an image sent as a file stays a file, whatever its mime says.
            doc_id = "telegram-file:BQACAgIpng"
            png_doc = await send(Reply("Скан", file=OutFile(doc_id, "scan.png", "image/png")))
            assert png_doc.outcome is Outcome.SENT and fake.last(CHAT).document == "BQACAgIpng"
            # A missing file and an unusable payload fail with a reason, no crash.
            missing = await send(Reply("x", file=OutFile(str(tmp_path / "no.pdf"), "n", "x")))
            assert missing.outcome is Outcome.FAILED and "file" in missing.error
            (bad,) = await transport.send_batch(
                [Delivery(9, "telegram", "abc", {"nope": 1}, "reply", True, 1)]
            )
            assert bad.outcome is Outcome.FAILED

    asyncio.run(scenario())
