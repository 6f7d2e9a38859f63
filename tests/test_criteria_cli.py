"""`classpulse criteria publish|import|list`: the school's bulk start of a semester."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.cli import main
from bot.cli.app import AppContext
from bot.settings import Settings
from storage.models import Notice, OutboxMessage
from tests.criteria_fixtures import CriteriaSchool, Families, module_fixtures

PDF = b"%PDF-1.4\n% criteria\n"
DOCX = b"PK\x03\x04 a docx is a zip"


filled, db_url, cs, fam = module_fixtures()


def run(cs: CriteriaSchool, *args: str, settings: Settings | None = None) -> Result:
    app = AppContext(settings=settings or cs.settings, clock=cs.clock)
    return CliRunner().invoke(main, ["criteria", *args], obj=app)


def count(cs: CriteriaSchool, model: type) -> int:
    with cs.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_publish_from_the_cli(cs: CriteriaSchool, fam: Families, tmp_path: Path) -> None:
    attachment = tmp_path / "Математика 7 клас.pdf"
    attachment.write_bytes(PDF)
    result = run(
        cs,
        "publish",
        "--class",
        "7-а",
        "--class",
        "7-Б",
        "--subject",
        "математика",
        "--text",
        "Критерії в доданому файлі.",
        "--file",
        str(attachment),
    )
    assert result.exit_code == 0, result.output
    assert "published #1: 7-А · Математика → 4 recipients, 4 messages" in result.output
    assert "published #2: 7-Б · Математика → 1 recipient, 1 message" in result.output
    cs.deliver()
    received = fam.parents[0].inbox[-1]
    assert received.file is not None and received.file.name == "Математика 7 клас.pdf"
    stored = Path(received.file.path)
    assert stored.parent == cs.settings.data_dir.resolve() / "notices"
    assert stored.read_bytes() == PDF
    again = run(cs, "publish", "--class", "7-А", "--subject", "Математика", "--text", "Інше.")
    assert "replaces #1" in again.output
    listed = run(cs, "list", "--all").output
    assert "#1 7-А · Математика · both" in listed and "replaced by #3" in listed


def test_publish_refuses_bad_input_and_sends_nothing(
    cs: CriteriaSchool, fam: Families, tmp_path: Path, settings: Settings
) -> None:
    base = ("publish", "--class", "7-А", "--subject", "Фізика")
    exe = tmp_path / "criteria.pdf"
    exe.write_bytes(b"MZ\x90\x00 not a pdf")
    big = tmp_path / "big.pdf"
    big.write_bytes(PDF + b"0" * (2 * 1024 * 1024))
    xlsx = tmp_path / "table.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    long_text = tmp_path / "long.txt"
    long_text.write_text("А" * 20_000, encoding="utf-8")
    small = settings.model_copy(update={"criteria_max_file_mb": 1})
    cases = [
        ((*base, "--text", "   "), "text is empty"),
        ((*base, "--text-file", str(long_text)), "too long: 20000 characters"),
        ((*base, "--text", "x", "--file", str(exe)), "unsupported type"),
        ((*base, "--text", "x", "--file", str(xlsx)), "unsupported type"),
        ((*base, "--text", "x", "--file", str(big)), "too large: 2.0 MB"),
        (("publish", "--class", "8-В", "--subject", "Фізика", "--text", "x"), "has joined"),
        (("publish", "--class", "11-Ж", "--subject", "Фізика", "--text", "x"), "unknown class"),
        ((*base,), "exactly one of --text or --text-file"),
    ]
    for args, expected in cases:
        result = run(cs, *args, settings=small)
        assert result.exit_code == 1, (args, result.output)
        assert expected in result.output, (args, result.output)
    assert count(cs, Notice) == 0 and count(cs, OutboxMessage) == 0


def test_publishing_the_same_again_sends_nothing(cs: CriteriaSchool, fam: Families) -> None:
    args = ("publish", "--class", "7-А", "--subject", "Фізика", "--text", "Критерії.")
    assert run(cs, *args).exit_code == 0
    assert "unchanged" in run(cs, *args).output
    assert count(cs, Notice) == 1
    assert "published" in run(cs, *args, "--force").output
    assert count(cs, Notice) == 2


def _semester(root: Path) -> Path:
    a = root / "7-А"
    a.mkdir(parents=True)
    (a / "Математика.txt").write_text("Критерії з математики.", encoding="utf-8")
    (a / "Фізика.pdf").write_bytes(PDF)
    (a / "Хімія.txt").write_text("Критерії з хімії, деталі у файлі.", encoding="utf-8")
    (a / "Хімія.docx").write_bytes(DOCX)
    (a / "Порожній.txt").write_text("  \n", encoding="utf-8")
    (a / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (root / "8-В").mkdir()
    (root / "8-В" / "Біологія.txt").write_text("Критерії з біології.", encoding="utf-8")
    (root / "Їжак").mkdir()
    return root


def test_import_reports_and_is_idempotent(
    cs: CriteriaSchool, fam: Families, tmp_path: Path
) -> None:
    root = _semester(tmp_path / "semester")
    first = run(cs, "import", str(root))
    assert first.exit_code == 0, first.output
    out = first.output
    assert "published 7-А · Математика: #" in out
    assert "published 7-А · Фізика: #" in out
    assert "published 7-А · Хімія: #" in out
    assert "skipped 7-А/notes.xlsx: unsupported file type" in out
    assert "skipped 7-А · Порожній: The text is empty" in out
    assert "skipped 8-В · Біологія: Nobody among the recipients" in out
    assert "skipped Їжак/: unknown class" in out
    assert out.strip().endswith("3 published, 4 skipped")
    queued = count(cs, OutboxMessage)
    assert queued == 12  # 3 notices × 4 family members

    second = run(cs, "import", str(root))
    assert "0 published, 7 skipped" in second.output
    assert "skipped 7-А · Математика: unchanged since #" in second.output
    assert count(cs, OutboxMessage) == queued and count(cs, Notice) == 3

    (root / "7-А" / "Математика.txt").write_text("Оновлені критерії.", encoding="utf-8")
    third = run(cs, "import", str(root))
    assert "published 7-А · Математика: #4 → 4 recipients, replaces #" in third.output
    assert "1 published, 6 skipped" in third.output
    cs.deliver()
    physics = next(r for r in fam.students[0].inbox if "Фізика" in r.text)
    assert "у вкладеному файлі" in physics.text and physics.file is not None
