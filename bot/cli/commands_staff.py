"""Staff commands: `classpulse staff list|log|assign|remove`, `classpulse survey rates|nudge`
(what the director and class teachers do in chat with /staff and /rates)."""

from __future__ import annotations

import click

from bot.cli.app import AppContext, fail, main, pass_app
from bot.cli.commands_core import survey
from bot.staff.reader import DbStaffView
from bot.staff.service import StaffError, assign_class_teacher, queue_nudge, remove_role
from bot.texts import t
from storage.models import ROLES
from storage.repositories import school, staff, waves

CLI_ACTOR = "classpulse (CLI)"


@main.group("staff")
def staff_group() -> None:
    """The school's staff, their roles, and the audit log of changes."""


@staff_group.command("list")
@pass_app
def staff_list(app: AppContext) -> None:
    """Staff with their roles and classes (the id is for `assign` and `remove`)."""
    app.migrate()
    with app.db.read() as session:
        members = staff.staff_members(session)
    if not members:
        click.echo("no staff registered yet")
    for m in members:
        roles = ", ".join(f"{r}{' ' + c if c else ''}" for r, _, c in m.roles)
        click.echo(f"{m.person_id:>5}  {m.name or '-'}: {roles}")


@staff_group.command("log")
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="How many of the newest records.",
)
@pass_app
def staff_log(app: AppContext, limit: int) -> None:
    """Who changed what, and when (newest first): roles, nudges, invites, waves."""
    from bot.staff.service import audit_lines

    app.migrate()
    with app.db.read() as session:
        entries = staff.audit_log(session, limit)
    if not entries:
        click.echo("the audit log is empty")
    for line in audit_lines(entries, app.settings.tz):
        click.echo(line)


def _class_id(app: AppContext, name: str | None) -> int | None:
    if not name:
        return None
    with app.db.read() as session:
        row = school.class_by_name(session, name)
        class_id = row.id if row is not None else None
    if class_id is None:
        fail(f"no class '{name}' (see `classpulse class list`)")
    return class_id


def _why(key: str) -> str:
    return t("en", key)


@staff_group.command("assign")
@click.argument("person_id", type=int)
@click.option("--class", "class_name", required=True, help="The class, e.g. 7-А.")
@pass_app
def staff_assign(app: AppContext, person_id: int, class_name: str) -> None:
    """Make a registered teacher the class teacher of a class."""
    app.migrate()
    class_id = _class_id(app, class_name)
    assert class_id is not None
    try:
        with app.db.write() as session:
            added = assign_class_teacher(
                session, person_id, class_id, app.clock(), actor_id=None, actor_name=CLI_ACTOR
            )
    except StaffError as exc:
        fail(_why(exc.key))
    click.echo(
        f"person {person_id} is {'now' if added else 'already'} class teacher of {class_name}"
    )


@staff_group.command("remove")
@click.argument("person_id", type=int)
@click.option("--role", required=True, type=click.Choice(ROLES), help="The role to remove.")
@click.option("--class", "class_name", default=None, help="The class of a class role.")
@pass_app
def staff_remove(app: AppContext, person_id: int, role: str, class_name: str | None) -> None:
    """Remove one role of a person (logged)."""
    app.migrate()
    class_id = _class_id(app, class_name)
    try:
        with app.db.write() as session:
            removed = remove_role(
                session, person_id, class_id, role, app.clock(), actor_id=None, actor_name=CLI_ACTOR
            )
    except StaffError as exc:
        fail(_why(exc.key))
    if not removed:
        fail(f"person {person_id} has no role {role}" + (f" in {class_name}" if class_name else ""))
    click.echo(f"removed {role}" + (f" {class_name}" if class_name else "") + f" of {person_id}")


@survey.command("rates")
@click.option("--class", "class_name", default=None, help="Only this class.")
@pass_app
def survey_rates(app: AppContext, class_name: str | None) -> None:
    """Respondents against members per class and role, for every open wave."""
    app.migrate()
    class_id = _class_id(app, class_name)
    with app.db.read() as session:
        blocks = DbStaffView(session, app.settings.min_group_size, app.settings.tz).rates(
            [class_id] if class_id else None
        )
    if not blocks:
        click.echo("no open waves")
    for block in blocks:
        click.echo(f"{block.wave.slug} {block.wave.label}:")
        for line in block.lines:
            group = t("en", f"st_group_{line.role}")
            done = "hidden (small group)" if line.respondents is None else line.respondents
            click.echo(f"  {line.class_name} {group}: {done} of {line.members}")


@survey.command("nudge")
@click.argument("survey_id")
@click.option("--class", "class_name", required=True, help="The class to remind.")
@click.option("--wave", "label", default=None, help="Wave label (default: the newest).")
@pass_app
def survey_nudge(app: AppContext, survey_id: str, class_name: str, label: str | None) -> None:
    """Remind the class's members who have not answered (once per 24 h per class and wave)."""
    app.migrate()
    class_id = _class_id(app, class_name)
    assert class_id is not None
    now = app.clock()
    with app.db.write() as session:
        wave = waves.find_wave(session, survey_id, label)
        if wave is None or wave.status != "open":
            fail(f"no open wave of '{survey_id}'" + (f" labelled '{label}'" if label else ""))
        if class_id not in wave.class_ids:
            fail(f"wave {wave.label} of {survey_id} is not for {class_name}")
        try:
            count = queue_nudge(session, wave, class_id, app.settings, now, CLI_ACTOR)
        except StaffError as exc:
            fail(_why(exc.key))
    click.echo(f"reminders queued for {count} people of {class_name}")
