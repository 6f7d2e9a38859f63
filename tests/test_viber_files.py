"""Files reach Viber families: a notice's PDF arrives as a `file` message and a photo as a
`picture`, by links on the bot's own server that download the exact bytes; links expire, are
revoked when the notice is superseded, and unknown ones answer 404."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from bot.cli import main
from bot.cli.app import AppContext
from bot.usage.cost import usage_report
from storage.models import StoredFile
from tests.fake_viber import Shown
from tests.viber_support import ViberUser, ViberWorld

pytest_plugins = ("tests.viber_fixtures",)
pytestmark = pytest.mark.anyio

PDF = b"%PDF-1.4\n% criteria\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def png(size: int = 64, noise: bool = False) -> bytes:
    image = Image.new("RGB", (size, size), (200, 30, 30))
    if noise:  # random red and green, no blue (random bytes: a pixel list took a second)
        rng = random.Random(7)
        red, green = (Image.frombytes("L", (size, size), rng.randbytes(size * size)) for _ in "rg")
        image = Image.merge("RGB", (red, green, Image.new("L", (size, size), 0)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def parents(world: ViberWorld, n: int = 2) -> list[ViberUser]:
    users = [world.user(f"u-p{i}", f"Мама {i}") for i in range(n)]
    for user in users:
        await user.open(world.invite("parent"))
        await user.press("Погоджуюсь")
    return users


async def publish(world: ViberWorld, tmp_path: Path, name: str, data: bytes, subject: str) -> None:
    source = tmp_path / name
    source.write_bytes(data)
    app = AppContext(settings=world.settings, clock=world.clock)
    args = ["criteria", "publish", "--class", "7-А", "--subject", subject, "--audience"]
    args += ["parents", "--text", f"Критерії: {subject}", "--file", str(source)]
    result = CliRunner().invoke(main, args, obj=app)
    assert result.exit_code == 0, result.output
    await world.deliver()


def media(user: ViberUser, kind: str) -> list[Shown]:
    return [s for s in user.seen() if s.body.get("type") == kind]


async def test_a_pdf_arrives_as_a_file_message_that_downloads_the_exact_bytes(
    viber: ViberWorld, tmp_path: Path
) -> None:
    family = await parents(viber)
    await publish(viber, tmp_path, "Критерії математика.pdf", PDF, "Математика")
    urls = set()
    for user in family:
        (file,) = media(user, "file")
        assert file.body["file_name"] == "Критерії математика.pdf"
        assert file.body["size"] == len(PDF)
        urls.add(file.body["media"])
        text = user.last()  # the notice text follows with its buttons
        assert "Критерії: Математика" in text.text and "Критерії математика.pdf" in text.text
        assert "попросіть" not in text.text.lower()
        assert [b["Text"] for b in text.buttons][:2] == ["✅ Зрозуміло", "❓ Маю питання"]
    (url,) = urls  # one link for the notice, however many families
    answer = await viber.download(url)
    assert answer.status_code == 200
    assert answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert "attachment" in answer.headers["content-disposition"]
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    with viber.db.read() as session:
        assert session.query(StoredFile).count() == 1
        report = usage_report(session, viber.settings, viber.clock())
    # inside the session the families opened by joining: file + text each, free
    assert report.month_initiated == 0 and report.month_session >= 4


async def test_criteria_opened_again_from_the_list_come_with_their_file(
    viber: ViberWorld, tmp_path: Path
) -> None:
    (parent,) = await parents(viber, 1)
    await publish(viber, tmp_path, "Критерії.pdf", PDF, "Математика")
    first = media(parent, "file")[-1].body["media"]
    # A week later the family looks the criteria up again: /criteria, then the notice.
    viber.clock.advance(7 * 24 * 3600)
    await parent.send_text("/criteria")
    await viber.deliver()
    await parent.press("Математика · 7-А")
    await viber.deliver()
    again = media(parent, "file")[-1].body["media"]
    assert again != first  # a fresh link: links are stored hashed, none is shown twice
    assert (await viber.download(again)).content == PDF
    assert "попросіть" not in parent.last().text.lower()
    assert "Критерії.pdf" in parent.last().text
    with viber.db.read() as session:
        assert session.query(StoredFile).count() == 1  # the same file, linked again


async def test_a_photo_arrives_as_a_picture_and_a_big_one_is_resized(
    viber: ViberWorld, tmp_path: Path
) -> None:
    (parent,) = await parents(viber, 1)
    small = png()
    await publish(viber, tmp_path, "table.png", small, "Фізика")
    (picture,) = media(parent, "picture")
    answer = await viber.download(picture.body["media"])
    assert answer.status_code == 200 and answer.content == small
    assert answer.headers["content-type"] == "image/png"

    big = png(900, noise=True)
    assert len(big) > 1024 * 1024
    await publish(viber, tmp_path, "photo.png", big, "Хімія")
    latest = media(parent, "picture")[-1]
    answer = await viber.download(latest.body["media"])
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert 0 < len(answer.content) <= 1024 * 1024
    assert Image.open(io.BytesIO(answer.content)).format == "JPEG"


async def test_links_expire_are_revoked_with_their_notice_and_list_nothing(
    viber: ViberWorld, tmp_path: Path
) -> None:
    (parent,) = await parents(viber, 1)
    await publish(viber, tmp_path, "v1.pdf", PDF, "Математика")
    first = media(parent, "file")[-1].body["media"]
    assert (await viber.download(first)).status_code == 200

    newer = PDF.replace(b"criteria", b"version2")
    await publish(viber, tmp_path, "v2.pdf", newer, "Математика")
    second = media(parent, "file")[-1].body["media"]
    assert second != first
    assert (await viber.download(first)).status_code == 404  # superseded: stops at once
    assert (await viber.download(second)).content == newer

    token = second.split("/files/", 1)[1].split("/", 1)[0]
    for path in (
        f"/files/{token[:-1]}x/v2.pdf",  # unknown token
        "/files/",  # no listing
        f"/files/{token}",
    ):
        assert (await viber.download(f"https://bot.school.example{path}")).status_code == 404

    viber.clock.advance(31 * 24 * 3600)  # FILE_LINK_DAYS=30 by default
    assert (await viber.download(second)).status_code == 404


async def test_without_a_public_address_families_are_told_to_ask(
    viber: ViberWorld, tmp_path: Path
) -> None:
    (parent,) = await parents(viber, 1)
    viber.settings = viber.settings.model_copy(update={"files_base_url": ""})
    await publish(viber, tmp_path, "v1.pdf", PDF, "Математика")
    assert media(parent, "file") == []
    assert "Критерії: Математика" in parent.last().text
    assert "файл «v1.pdf»; попросіть його у вчителя" in parent.last().text


def test_a_file_viber_refuses_goes_as_a_link_with_an_explanation() -> None:
    from bot.channels.viber.keyboard import render
    from bot.engine.events import OutFile, Reply

    url = "https://bot.school.example/files/t/run.exe"
    refused = (("run.exe", "application/octet-stream", 10), ("big.pdf", "", 60 << 20))
    for name, mime, size in refused:
        reply = Reply(text="Критерії", file=OutFile("/x", name, mime, url=url, size=size))
        rendered = render(reply)
        assert rendered is not None and rendered.media is None
        assert f"Viber не пересилає такий файл, тож ось посилання: {name} — {url}" in rendered.text
    pdf = Reply(text="Criteria", file=OutFile("/x", "c.pdf", "application/pdf", url=url, size=9))
    rendered = render(pdf)
    assert rendered is not None and rendered.media is not None and rendered.media.kind == "file"
