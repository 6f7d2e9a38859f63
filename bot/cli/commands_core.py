"""Core commands: db, classes, invites, surveys, chat, demo, run."""

from __future__ import annotations

import sys
from datetime import datetime, time
from pathlib import Path

import click

from bot.cli.app import AppContext, echo_json, fail, main, pass_app
from bot.demo.data import TEACHERS
from bot.members.identity import bot_identity
from bot.members.invites import InviteError, create_invite
from bot.surveys.admin import (
    WaveAlreadyClosed,
    WaveError,
    create_wave,
    local_time,
    open_wave,
    sync_surveys,
    wave_to_close,
)
from bot.texts import t
from storage.models import ROLES
from storage.records import WaveInfo
from storage.repositories import school, surveys, waves
from storage.repositories.school import ClassNameError
from storage.survey_schema import SurveyError, load_survey_file


# ---------------------------------------------------------------- db
@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: AppContext) -> None:
    """Apply all migrations (`make run` and `classpulse run` do this too)."""
    app.migrate()
    click.echo("database is up to date")


# ---------------------------------------------------------------- classes
@main.group("class")
def class_group() -> None:
    """The school's classes."""


@class_group.command("add")
@click.argument("names", nargs=-1, required=True)
@pass_app
def class_add(app: AppContext, names: tuple[str, ...]) -> None:
    """Add the school's classes (for example `classpulse class add 7-А 7-Б`)."""
    app.migrate()
    try:
        with app.db.write() as session:
            rows = school.add_classes(session, app.settings.school_name, list(names))
            added = [r.name for r in rows]
    except ClassNameError as exc:
        fail(str(exc))
    click.echo("classes: " + ", ".join(added))


@class_group.command("list")
@pass_app
def class_list(app: AppContext) -> None:
    """List the classes."""
    app.migrate()
    with app.db.read() as session:
        names = [row.name for row in school.list_classes(session)]
    if not names:
        click.echo("no classes yet: add them with `classpulse class add 7-А 7-Б`")
    for name in names:
        click.echo(name)


# ---------------------------------------------------------------- invites
@main.group()
def invite() -> None:
    """Invite codes, deep links and QR codes."""


@invite.command("create")
@click.option("--class", "class_name", help="Class, e.g. 7-А (not for director/admin).")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The role the invite gives.")
@click.option("--uses", type=click.IntRange(1, 10_000), default=None, help="Maximum uses.")
@click.option("--expires", type=click.IntRange(1, 3650), default=None, help="Days valid.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def invite_create(
    app: AppContext,
    class_name: str | None,
    role: str,
    uses: int | None,
    expires: int | None,
    as_json: bool,
) -> None:
    """Create an invite: prints the code, Telegram and Viber links, and writes a QR code."""
    app.migrate()
    try:
        created = create_invite(app.db, app.settings, class_name, role, uses, expires, app.clock())
    except InviteError as exc:
        fail(str(exc))
    if as_json:
        echo_json(
            {
                "code": created.code,
                "telegram_link": created.telegram_link or None,
                "viber_link": created.viber_link or None,
                "qr_path": str(created.qr_path) if created.qr_path else None,
                "notes": created.notes,
            }
        )
        return
    click.echo(f"code:     {created.code}")
    if created.telegram_link:
        click.echo(f"telegram: {created.telegram_link}")
    if created.viber_link:
        click.echo(f"viber:    {created.viber_link}")
    if created.qr_path:
        click.echo(f"QR code:  {created.qr_path}")
    else:
        click.echo("QR code:  not written: no link works yet (see the notes)")
    for note in created.notes:
        click.echo(f"note: {note}")


# ---------------------------------------------------------------- surveys
@main.group()
def survey() -> None:
    """Questionnaires and their waves."""


def _survey_files(args: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """Files named by PATH arguments: files, directories (their *.yaml, *.yml) and globs
    (quoted, or on a shell that does not expand them). Returns the files and the problems."""
    import glob

    files: list[Path] = []
    problems: list[str] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                problems.append(f"{arg}: no .yaml files in this directory")
            files += found
        elif path.exists():
            files.append(path)
        elif glob.has_magic(arg):
            matched = sorted(Path(p) for p in glob.glob(arg) if Path(p).is_file())
            if not matched:
                problems.append(f"{arg}: no file matches")
            files += matched
        else:
            problems.append(f"{arg}: no such file or directory")
    return list(dict.fromkeys(files)), problems


@survey.command("check")
@click.argument("paths", nargs=-1, required=True)
def survey_check(paths: tuple[str, ...]) -> None:
    """Validate questionnaire files (files, directories or globs such as 'surveys/*.yaml');
    prints `file:line: message` for every problem."""
    files, missing = _survey_files(paths)
    for line in missing:
        click.echo(f"error: {line}", err=True)
    problems = len(missing)
    for path in files:
        try:
            definition = load_survey_file(path)
        except SurveyError as exc:
            for problem in exc.problems:
                click.echo(str(problem))
            problems += len(exc.problems)
            continue
        questions = t("en", "count_questions", count=len(definition.questions))
        click.echo(f"{path}: ok ({definition.id}, {questions})")
    if problems:
        sys.exit(1)


@survey.command("list")
@pass_app
def survey_list(app: AppContext) -> None:
    """List the questionnaires and their waves."""
    app.migrate()
    try:
        with app.db.write() as session:
            sync_surveys(session)
    except WaveError as exc:
        fail(str(exc))
    with app.db.read() as session:
        all_waves = waves.list_waves(session)
        for row in surveys.list_surveys(session):
            questions = t("en", "count_questions", count=len(row.definition.get("questions", [])))
            click.echo(f"{row.slug}  v{row.version}  {questions}  «{row.title}»")
            for wave in (w for w in all_waves if w.slug == row.slug):
                click.echo(f"    wave {wave.label}: {_wave_state(wave, app)}")


def _wave_state(wave: WaveInfo, app: AppContext) -> str:
    """`open, closes 2026-12-20 23:59 EET`: times in TIMEZONE, the zone shown."""
    tz = app.settings.tz
    if wave.source == "import":
        return "imported (history)"
    parts = [wave.status]
    if wave.status == "scheduled" and wave.opens_at:
        parts.append(f"opens {local_time(wave.opens_at, tz)}")
    if wave.closes_at:
        verb = "closed" if wave.status == "closed" else "closes"
        parts.append(f"{verb} {local_time(wave.closes_at, tz)}")
    return ", ".join(parts)


def _parse_when(value: str | None, app: AppContext, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"'{value}' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    if len(value) <= 10:  # a bare date: the end (or start) of that day in the school's zone
        parsed = datetime.combine(parsed.date(), time(23, 59) if end_of_day else time(8, 0))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=app.settings.tz)
    return parsed


@survey.command("open")
@click.argument("survey_id")
@click.option("--class", "class_names", multiple=True, required=True, help="Repeatable.")
@click.option("--opens", default=None, help="When to open (default now), YYYY-MM-DD[THH:MM].")
@click.option("--closes", default=None, help="When to close, YYYY-MM-DD[THH:MM].")
@click.option("--label", default=None, help="Wave label (default: year-month).")
@click.option(
    "--new-wave",
    is_flag=True,
    help="Start another wave even if one is open or scheduled for these classes.",
)
@pass_app
def survey_open(
    app: AppContext,
    survey_id: str,
    class_names: tuple[str, ...],
    opens: str | None,
    closes: str | None,
    label: str | None,
    new_wave: bool,
) -> None:
    """Open a wave of a survey for classes now, or schedule it (times in TIMEZONE).

    A survey that already has an open or scheduled wave for one of the classes is left as it is,
    unless --new-wave is given.
    """
    app.migrate()
    now = app.clock()
    opens_at = _parse_when(opens, app, end_of_day=False)
    closes_at = _parse_when(closes, app, end_of_day=True)
    try:
        with app.db.write() as session:
            sync_surveys(session)
            class_ids = []
            for name in class_names:
                row = school.class_by_name(session, name)
                if row is None:
                    raise WaveError(f"no class '{name}' (add it with `classpulse class add`)")
                class_ids.append(row.id)
            wave = create_wave(
                session,
                survey_id,
                class_ids,
                now,
                opens_at=opens_at,
                closes_at=closes_at,
                label=label,
                allow_overlap=new_wave,
                tz=app.settings.tz,
            )
            if opens_at is None or opens_at <= now:
                me = bot_identity(session, app.settings)
                opened = open_wave(session, wave.id, now, me)
                invitations = t("en", "count_invitations", count=opened.invitations)
                click.echo(f"wave {wave.label} of {survey_id} is open; {invitations} queued")
                if opened.groups_waiting:
                    groups = t("en", "count_class_groups", count=opened.groups_waiting)
                    click.echo(
                        f"note: {groups} not invited yet: the bot's Telegram username is "
                        "unknown; they are invited when `classpulse run` starts"
                    )
                if opened.cost is not None and (opened.cost.paid or opened.cost.free):
                    click.echo(opened.cost.summary())
            else:
                when = local_time(opens_at, app.settings.tz)
                click.echo(f"wave {wave.label} of {survey_id} opens {when}")
    except WaveError as exc:
        fail(str(exc))


@survey.command("close")
@click.argument("survey_id")
@click.option(
    "--wave", "label", default=None, help="Wave label (default: the survey's one open wave)."
)
@pass_app
def survey_close(app: AppContext, survey_id: str, label: str | None) -> None:
    """Close a survey's open wave now (with several open, name one with --wave)."""
    from bot.schedule.jobs import close_wave_and_report

    app.migrate()
    try:
        with app.db.read() as session:
            wave = wave_to_close(session, survey_id, label)
    except WaveAlreadyClosed as exc:
        click.echo(str(exc))
        return
    except WaveError as exc:
        fail(str(exc))
    queued = close_wave_and_report(app.db, app.settings, wave.id, app.clock())
    messages = t("en", "count_messages", count=queued)
    click.echo(
        f"wave {wave.label} of {survey_id} closed; final report queued ({messages} "
        "to the director and administration)"
    )


# ---------------------------------------------------------------- chat, demo, run
@main.command()
@click.option("--as", "role", type=click.Choice(ROLES), default=None, help="Join as this role.")
@click.option("--class", "class_name", default=None, help="Class for --as.")
@click.option("--user", default="console", help="A name for this console account.")
@pass_app
def chat(app: AppContext, role: str | None, class_name: str | None, user: str) -> None:
    """Talk to the bot in the terminal (buttons are numbered; type the number)."""
    from bot.app import chat_service
    from bot.channels.console import run_console
    from bot.members.invites import InviteError, one_time_code

    app.migrate()
    code = None
    if role:
        try:
            code = one_time_code(app.db, class_name, role, app.clock())
        except InviteError as exc:
            fail(str(exc))
    run_console(chat_service(app, outbox_channels=frozenset()), user, code)


@main.command()
@click.option(
    "--families",
    type=click.IntRange(1, 5000),
    default=80,
    show_default=True,
    help="How many simulated families answer.",
)
@click.option(
    "--teachers",
    type=click.IntRange(1, 500),
    default=TEACHERS,
    show_default=True,
    help="How many simulated teachers answer (the school's own staff by default).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Directory for the demo's database and report files.",
)
@click.option("--seed", type=int, default=2025, help="Random seed (same seed, same answers).")
@pass_app
def demo(app: AppContext, families: int, teachers: int, out: Path, seed: int) -> None:
    """A whole survey wave on your machine: simulated families answer through the engine."""
    from bot.demo.run import run_demo

    run_demo(app.settings, families=families, teachers=teachers, out=out, seed=seed)


@main.command()
@pass_app
def run(app: AppContext) -> None:
    """Migrate and start the bot; with no messenger tokens, run the demo instead."""
    settings = app.settings
    if not settings.telegram_enabled and not settings.viber_enabled:
        click.echo("No TELEGRAM_BOT_TOKEN or VIBER_AUTH_TOKEN in .env: running the demo.\n")
        from bot.demo.run import run_demo

        run_demo(settings, families=80, out=Path("demo-output"), seed=2025)
        return
    app.migrate()
    from bot.app import run as run_bot

    run_bot(app)
