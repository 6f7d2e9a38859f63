"""`classpulse criteria publish|import|coverage|list`: assessment-criteria notices."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.orm import Session

from bot.cli.app import AppContext, echo_json, fail, main, pass_app
from bot.criteria.rendering import AUDIENCES, FILE_TYPES, audience_name, percent
from bot.criteria.service import (
    NoticeFile,
    PublishError,
    PublishResult,
    check_subject,
    content_hash,
    coverage,
    publish_notice,
    same_subject,
    store_file,
)
from bot.texts import t
from storage.repositories import criteria as repo
from storage.repositories import school

TEXT_SUFFIXES = (".txt", ".md")


def _reason(exc: PublishError) -> str:
    params = dict(exc.params)
    if "audience" in params:
        params["audience"] = audience_name("en", params["audience"])
    return t("en", exc.key, **params)


def _echo_result(result: PublishResult) -> None:
    if result.skipped:
        who = audience_name("en", result.audience)
        click.echo(
            f"not sent to {', '.join(result.skipped)}: nobody of the audience ({who}) has "
            "joined the bot there yet; hand out invites, then publish again"
        )
    if result.cost is not None and (result.cost.paid or result.cost.free):
        click.echo(result.cost.summary())
    for n in result.notices:
        replaced = f" (replaces #{', #'.join(map(str, n.replaced))})" if n.replaced else ""
        groups = f", {t('en', 'count_class_groups', count=n.groups)}" if n.groups else ""
        recipients = t("en", "count_recipients", count=n.recipients)
        messages = t("en", "count_messages", count=n.messages)
        click.echo(
            f"published #{n.notice_id}: {n.class_name} · {result.subject} → "
            f"{recipients}, {messages}{groups}{replaced}"
        )


@main.group()
def criteria() -> None:
    """Assessment-criteria notices for students and parents."""


# ---------------------------------------------------------------- publish
@criteria.command("publish")
@click.option("--class", "classes", multiple=True, required=True, help="Class, e.g. 7-А.")
@click.option("--subject", required=True, help="Subject, e.g. Математика.")
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    default="both",
    show_default=True,
    help="Who receives the notice: students, parents or both.",
)
@click.option("--text", help="The criteria text (up to 3500 characters).")
@click.option(
    "--text-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the criteria text from this UTF-8 file (instead of --text).",
)
@click.option(
    "--file",
    "attachment",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PDF, JPG, PNG or DOCX to attach.",
)
@click.option("--force", is_flag=True, help="Send again even if the same notice is current.")
@click.option(
    "--require-all",
    is_flag=True,
    help="Send nothing unless every class has someone of the audience who has joined.",
)
@pass_app
def publish(
    app: AppContext,
    classes: tuple[str, ...],
    subject: str,
    audience: str,
    text: str | None,
    text_file: Path | None,
    attachment: Path | None,
    force: bool,
    require_all: bool,
) -> None:
    """Publish criteria to one or more classes; a newer notice replaces the older one.

    Classes where nobody of the audience has joined yet are listed and left out (all of them
    with --require-all).
    """
    if (text is None) == (text_file is None):
        fail("give exactly one of --text or --text-file")
    body = text if text is not None else _read_text(text_file)  # type: ignore[arg-type]
    app.migrate()
    try:
        file = store_file(attachment, app.settings) if attachment else None
        with app.db.write() as session:
            class_ids = []
            for name in classes:
                row = school.class_by_name(session, name)
                if row is None:
                    fail(f"unknown class {name!r} (see `classpulse class list`)")
                class_ids.append(row.id)
            result = _publish_if_new(
                session, app, class_ids, subject, audience, body, file, force, not require_all
            )
    except PublishError as exc:
        fail(f"nothing sent: {_reason(exc)}")
    if isinstance(result, list):
        click.echo("unchanged: the same notice is already current; nothing sent")
        return
    _echo_result(result)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{path.name}: not UTF-8 text")


def _publish_if_new(
    session: Session,
    app: AppContext,
    class_ids: list[int],
    subject: str,
    audience: str,
    text: str,
    file: NoticeFile | None,
    force: bool = False,
    skip_empty: bool = False,
) -> PublishResult | list[int]:
    """Publish, unless every class already has this very notice as its current one: then the
    ids of those notices (re-running an import or a publish sends nothing twice)."""
    name = check_subject(subject, app.settings)
    digest = content_hash(name, audience, text.strip(), file)
    current_ids = []
    for class_id in class_ids:
        current = same_subject(session, class_id, name)
        if current and current[-1].content_hash == digest:
            current_ids.append(current[-1].id)
    if current_ids and len(current_ids) == len(class_ids) and not force:
        return current_ids
    return publish_notice(
        session,
        class_ids=class_ids,
        subject=name,
        audience=audience,
        text=text,
        file=file,
        author_id=None,
        now=app.clock(),
        settings=app.settings,
        skip_empty=skip_empty,
    )


# ---------------------------------------------------------------- import
@dataclass(frozen=True)
class ImportItem:
    class_name: str
    subject: str
    text_path: Path | None
    file_path: Path | None


def _scan(class_dir: Path) -> tuple[list[ImportItem], list[tuple[str, str]]]:
    """Group a class folder's files by subject (file stem); (items, skipped file reasons)."""
    texts: dict[str, Path] = {}
    files: dict[str, list[Path]] = {}
    skipped = []
    for path in sorted(class_dir.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        subject = path.stem.replace("_", " ").strip()
        suffix = path.suffix.lower()
        if suffix in TEXT_SUFFIXES:
            texts[subject] = path
        elif suffix in FILE_TYPES:
            files.setdefault(subject, []).append(path)
        else:
            skipped.append((path.name, "unsupported file type (PDF, JPG, PNG, DOCX, TXT, MD)"))
    items = []
    for subject in sorted(set(texts) | set(files)):
        attached = files.get(subject, [])
        if len(attached) > 1:
            names = ", ".join(p.name for p in attached)
            skipped.append((names, "several files for one subject; keep one"))
            continue
        attachment = attached[0] if attached else None
        items.append(ImportItem(class_dir.name, subject, texts.get(subject), attachment))
    return items, skipped


@criteria.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    default="both",
    show_default=True,
    help="Who receives the notice: students, parents or both.",
)
@pass_app
def import_dir(app: AppContext, directory: Path, audience: str) -> None:
    """Publish DIR/<class>/<subject>.<txt|md|pdf|docx|jpg|png>; unchanged ones are skipped.

    A subject may have a text file, an attachment, or both (same name). Each class and subject
    is published in its own transaction, so one bad file does not stop the others.
    """
    app.migrate()
    published = skipped = 0
    for class_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
        with app.db.read() as session:
            row = school.class_by_name(session, class_dir.name)
            found = (row.id, row.name) if row is not None else None
        if found is None:
            click.echo(f"skipped {class_dir.name}/: unknown class")
            skipped += 1
            continue
        items, bad = _scan(class_dir)
        for name, reason in bad:
            click.echo(f"skipped {class_dir.name}/{name}: {reason}")
            skipped += 1
        for item in items:
            outcome = _import_one(app, *found, item, audience)
            click.echo(outcome)
            if outcome.startswith("published"):
                published += 1
            else:
                skipped += 1
    click.echo(f"{published} published, {skipped} skipped")


def _import_one(
    app: AppContext, class_id: int, class_name: str, item: ImportItem, audience: str
) -> str:
    where = f"{class_name} · {item.subject}"
    try:
        file = store_file(item.file_path, app.settings) if item.file_path else None
        text = _read_text(item.text_path) if item.text_path else ""
        if not text.strip() and file is not None:
            text = t(app.settings.bot_language, "cr_file_only", subject=item.subject)
        with app.db.write() as session:
            result = _publish_if_new(session, app, [class_id], item.subject, audience, text, file)
    except PublishError as exc:
        return f"skipped {where}: {_reason(exc)}"
    if isinstance(result, list):
        return f"skipped {where}: unchanged since #{result[0]}"
    n = result.notices[0]
    replaced = f", replaces #{n.replaced[0]}" if n.replaced else ""
    recipients = t("en", "count_recipients", count=n.recipients)
    return f"published {where}: #{n.notice_id} → {recipients}{replaced}"


# ---------------------------------------------------------------- coverage and list
def _class_id(app: AppContext, name: str | None) -> int | None:
    if name is None:
        return None
    with app.db.read() as session:
        row = school.class_by_name(session, name)
        class_id = row.id if row is not None else None
    if class_id is None:
        fail(f"unknown class {name!r}")
    return class_id


@criteria.command("coverage")
@click.option("--class", "class_name", help="Only this class.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def coverage_command(app: AppContext, class_name: str | None, as_json: bool) -> None:
    """Per class and subject: recipients, delivered, seen, acknowledged, questions."""
    app.migrate()
    class_id = _class_id(app, class_name)
    with app.db.read() as session:
        rows = coverage(session, class_id)
    if as_json:
        echo_json([r.to_json() for r in rows])
        return
    if not rows:
        click.echo("no criteria published yet")
        return
    header = ("class", "subject", "recipients", "delivered", "seen", "understood", "questions")
    click.echo("{:<6} {:<24} {:>10} {:>9} {:>5} {:>16} {:>11}".format(*header))
    for r in rows:
        understood = f"{r.acknowledged} ({percent(r.acknowledged, r.recipients)})"
        asked = f"{r.answered}/{r.questions}"
        click.echo(
            f"{r.class_name:<6} {r.subject[:24]:<24} {r.recipients:>10} {r.delivered:>9} "
            f"{r.seen:>5} {understood:>16} {asked:>11}"
        )


@criteria.command("list")
@click.option("--class", "class_name", help="Only this class.")
@click.option("--all", "include_old", is_flag=True, help="Include replaced notices.")
@pass_app
def list_command(app: AppContext, class_name: str | None, include_old: bool) -> None:
    """The notices, current ones (or all with --all)."""
    app.migrate()
    class_id = _class_id(app, class_name)
    with app.db.read() as session:
        notices = repo.current_notices(
            session, [class_id] if class_id is not None else None, include_superseded=include_old
        )
    if not notices:
        click.echo("no criteria published yet")
        return
    for n in notices:
        state = f"replaced by #{n.superseded_by}" if n.superseded_by else "current"
        attached = f", file {n.file_name}" if n.file_name else ""
        click.echo(
            f"#{n.id} {n.class_name} · {n.subject} · {n.audience} · "
            f"{n.created_at:%Y-%m-%d} · {state}{attached}"
        )
