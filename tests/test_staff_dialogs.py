"""Staff work in chat (memory channel, real engine and database): /rates and the nudge with its
24 h limit, /report, /invite, /survey, /staff and the audit log."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.engine.buttons import ButtonKind, encode
from bot.settings import Settings
from bot.texts import t
from storage.db import Database
from storage.models import Invite, Membership, ReportRequest, StaffAudit, Wave
from storage.repositories import school
from tests.criteria_fixtures import CriteriaSchool
from tests.dialog import assert_dialog, press
from tests.staff_fixtures import build_staff_school, open_survey, person_id, submit


@pytest.fixture
def cs(db: Database, settings: Settings, now: datetime) -> CriteriaSchool:
    return build_staff_school(db, settings.model_copy(update={"min_group_size": 1}), now)


def texts(user: object) -> str:
    return "\n---\n".join(r.text for r in user.inbox)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- /rates and the nudge
def test_rates_show_counts_and_the_nudge_reaches_exactly_the_non_respondents(
    cs: CriteriaSchool,
) -> None:
    teacher = cs.join("iryna", "7-А", "class_teacher")
    parents = [cs.join(f"parent{i}", "7-А", "parent") for i in range(3)]
    other = cs.join("ivan", "7-Б", "parent")
    wave = open_survey(cs, "assessment-parents", ["7-А", "7-Б"])
    cs.deliver()  # the invitations
    submit(cs, wave, "parent0", "7-А")
    for user in [*parents, other]:
        user.inbox.clear()

    assert_dialog(
        teacher,
        [("/rates", ["«Анкета для батьків»", "7-А · батьки: 1 з 3 ▓▓▓░░░░░░░"])],
    )
    assert "7-Б" not in teacher.last_text()  # a class teacher sees their own class only
    assert "parent" not in teacher.last_text()  # numbers, never names
    assert_dialog(teacher, [(press("Нагадати"), ["поставлено в чергу", "03.03.2026 12:00"])])
    cs.deliver()
    reminded = [u.user_id for u in [*parents, other] if u.inbox]
    assert reminded == ["parent1", "parent2"]
    assert "Анкета для батьків" in parents[1].last_text()

    # At most once per 24 h per class and wave, saying when the next one is allowed.
    teacher.send("/rates")
    assert_dialog(teacher, [(press("Нагадати"), ["вже надсилали", "після 03.03.2026 12:00"])])
    cs.advance(hours=25)
    assert_dialog(teacher, [(press("Нагадати"), ["поставлено в чергу"])])
    with cs.db.read() as session:
        nudges = session.scalars(select(StaffAudit).where(StaffAudit.action == "nudge")).all()
    assert len(nudges) == 2


def test_rates_hide_small_groups(db: Database, settings: Settings, now: datetime) -> None:
    cs = build_staff_school(db, settings, now)  # min_group_size 5
    director = cs.join("director", None, "director")
    for i in range(3):
        cs.join(f"p{i}", "7-А", "parent")
    wave = open_survey(cs, "assessment-parents", ["7-А"])
    submit(cs, wave, "p0", "7-А")
    assert_dialog(director, [("/rates", ["7-А · батьки: група менша за мінімальну"])])
    assert "1 з 3" not in director.last_text()


# ---------------------------------------------------------------- /report
def test_report_says_preparing_at_once_then_sends_the_report(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    for i in range(3):
        cs.join(f"p{i}", "7-А", "parent")
    wave = open_survey(cs, "assessment-parents", ["7-А"])
    for i in range(3):
        submit(cs, wave, f"p{i}", "7-А")
    assert_dialog(
        director,
        [
            ("/report", ["Звіт за яким опитуванням"]),
            (
                press("остання"),
                ["Готую звіт «Анкета для батьків»", "📊 Звіт: «Анкета для батьків»"],
            ),
        ],
    )
    said = texts(director)
    assert "Анкета для батьків (2026-03): 3 відповіді" in said
    assert "батьки: 3 з 3 осіб (100 %)" in said
    with cs.db.read() as session:
        done_at = session.scalars(select(ReportRequest.done_at)).one()
    assert done_at is not None


def test_the_director_gets_every_questionnaire_at_once_with_the_gaps(cs: CriteriaSchool) -> None:
    """/report's first button: the school's whole review (`report --all`), every
    questionnaire's latest wave in one summary, with the gaps between the roles."""
    director = cs.join("director", None, "director")
    for i in range(3):
        cs.join(f"p{i}", "7-А", "parent")
        cs.join(f"t{i}", None, "teacher")
    parents = open_survey(cs, "assessment-parents", ["7-А"])
    teachers = open_survey(cs, "assessment-teachers", ["7-А"])
    for i in range(3):
        submit(cs, parents, f"p{i}", "7-А", option=2)  # parents: criteria not understood
        submit(cs, teachers, f"t{i}", "7-А", option=0)
    director.send("/report")
    assert next(b.label for b in director.buttons()) == "📋 Усі анкети разом (довідка)"
    replies = director.press("Усі анкети разом")
    said = "\n".join(r.text for r in replies)
    assert "⏳ Готую довідку за всіма анкетами" in said
    assert "📋 Довідка: усі анкети" in said
    assert "Анкета для батьків (2026-03): 3 відповіді" in said
    assert "Анкета для вчителів (2026-03): 3 відповіді" in said
    # The teacher-parent gap, found by the report itself (the chart goes to file channels).
    assert "1. Розуміння критеріїв оцінювання: 100 в. п.\n   вчителі 100 % · батьки 0 %" in said
    with cs.db.read() as session:
        stored = session.execute(select(ReportRequest.wave_id, ReportRequest.done_at)).one()
    assert (stored.wave_id, stored.done_at is not None) == (None, True)


def test_a_class_teacher_is_not_offered_the_whole_school(cs: CriteriaSchool) -> None:
    teacher = cs.join("iryna", "7-А", "class_teacher")
    open_survey(cs, "assessment-parents", ["7-А"])
    open_survey(cs, "assessment-teachers", ["7-А"])
    teacher.send("/report")
    assert all("Усі анкети" not in b.label for b in teacher.buttons())
    # A forged press of the whole-school button is refused and stores nothing.
    said = "\n".join(r.text for r in teacher.press_payload(encode(ButtonKind.REPORT, 0, 0)))
    assert "Готую" not in said
    with cs.db.read() as session:
        assert session.scalars(select(ReportRequest)).all() == []


def test_a_class_teacher_reports_on_their_own_class_only(cs: CriteriaSchool) -> None:
    teacher = cs.join("iryna", "7-А", "class_teacher")
    open_survey(cs, "assessment-parents", ["7-А", "7-Б"])
    teacher.send("/report")
    labels = [b.label for b in teacher.buttons()]
    assert labels and all("7-А" in label for label in labels)


# ---------------------------------------------------------------- /invite
def test_class_teacher_gets_links_qr_and_a_text_to_forward(cs: CriteriaSchool) -> None:
    teacher = cs.join("iryna", "7-А", "class_teacher")
    teacher.send("/invite")
    labels = [b.label for b in teacher.buttons()]
    assert labels == ["7-А · учень / учениця", "7-А · батьки"]
    replies = teacher.press("7-А · батьки")
    said = "\n".join(r.text for r in replies)
    assert "https://t.me/classpulse_test_bot?start=" in said
    assert "Шановні батьки й учні!" in said
    qr = next(r.file for r in replies if r.file is not None)
    assert qr.mime == "image/png"
    assert Path(qr.path).read_bytes().startswith(b"\x89PNG")
    with cs.db.read() as session:
        invite = session.execute(
            select(Invite.role, Invite.class_id).where(Invite.role == "parent")
        ).one()
    assert tuple(invite) == ("parent", cs.class_ids["7-А"])


def test_director_invites_a_teacher_to_any_class(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    director.send("/invite")
    director.press("8-В")
    director.press("вчитель")
    with cs.db.read() as session:
        class_id = session.scalars(select(Invite.class_id).where(Invite.role == "teacher")).one()
    assert class_id == cs.class_ids["8-В"]


# ---------------------------------------------------------------- /survey
def test_director_opens_a_survey_for_chosen_classes_and_closes_it(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    cs.join("p0", "7-А", "parent")
    assert_dialog(
        director,
        [
            ("/survey", ["Опитування школи", "немає відкритих"]),
            (press("Відкрити «Анкета для батьків»"), ["оберіть класи"]),
        ],
    )
    director.press("7-А")
    director.press("7-Б")
    assert [b.label for b in director.buttons()][:3] == ["✓ 7-А", "✓ 7-Б", "8-В"]
    assert_dialog(
        director,
        [
            (press("+7"), ["Класи: 7-А, 7-Б", "Закриється: 09.03.2026 12:00", "Запрошень: 0"]),
            (press("✅ Відкрити"), ["Відкриваю", "відкрито"]),
            (
                "/survey",
                ["«Анкета для батьків»", "відкрите до 09.03.2026 12:00", "відповіли 0 з 1"],
            ),
            (press("Закрити"), ["Закрити «Анкета для батьків»"]),
            (press("Так, закрити"), ["закрито"]),
        ],
    )
    with cs.db.read() as session:
        status = session.scalars(select(Wave.status)).one()
        actions = list(session.scalars(select(StaffAudit.action).order_by(StaffAudit.id)))
    assert status == "closed"
    assert actions == ["open_wave", "close_wave"]


# ---------------------------------------------------------------- /staff
def test_director_makes_a_teacher_class_teacher_and_it_is_logged(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    cs.join("olena", "7-А", "teacher")
    assert_dialog(
        director,
        [
            ("/staff", ["Працівники школи", "Olena: вчитель 7-А"]),
            (press("Olena"), ["Olena: вчитель 7-А"]),
            (press("Призначити класним"), ["якого класу"]),
            (press("7-Б"), ["Olena — класний керівник 7-Б"]),
        ],
    )
    olena = person_id(cs, "olena")
    with cs.db.read() as session:
        roles = set(
            session.execute(
                select(Membership.role, Membership.class_id).where(Membership.person_id == olena)
            ).all()
        )
        audit = session.execute(
            select(StaffAudit.action, StaffAudit.actor_name, StaffAudit.target_name)
        ).one()
    assert ("class_teacher", cs.class_ids["7-Б"]) in roles
    assert tuple(audit) == (
        "assign_class_teacher",
        "Director",
        "Olena",
    )
    assert_dialog(
        director,
        [
            ("/staff", ["Olena: класний керівник 7-Б, вчитель 7-А"]),
            (press("Olena"), ["Olena: класний керівник 7-Б"]),
            (press("«вчитель» 7-А"), ["Роль «вчитель» 7-А знято"]),
        ],
    )


def test_a_report_request_left_by_a_crash_is_sent_once(cs: CriteriaSchool) -> None:
    """The request row outlives a crash between "готую звіт…" and the rendering: the
    scheduler's `staff-reports` job sends it, and a second run sends nothing more."""
    from datetime import timedelta

    from bot.staff.reports import finish_pending_reports
    from storage.repositories import staff

    director = cs.join("director", None, "director")
    for i in range(2):
        cs.join(f"p{i}", "7-А", "parent")
    wave = open_survey(cs, "assessment-parents", ["7-А"])
    for i in range(2):
        submit(cs, wave, f"p{i}", "7-А")
    with cs.db.write() as session:
        staff.add_report_request(
            session,
            person_id=person_id(cs, director.user_id),
            channel="telegram",  # delivered through the outbox
            external_id="1001",
            language="uk",
            wave_id=wave,
            class_id=None,
            now=cs.now,
        )
    assert finish_pending_reports(cs.db, cs.settings, cs.now) == 0  # maybe still in the works
    later = cs.now + timedelta(minutes=10)
    assert finish_pending_reports(cs.db, cs.settings, later) == 1
    rows = cs.outbox("report")
    assert [r.recipient for r in rows] == ["1001"] * len(rows)
    assert "📊 Звіт: «Анкета для батьків»" in rows[0].reply.text
    files = [r.reply.file for r in rows if r.reply.file is not None]
    assert [f.name.rsplit(".", 1)[1] for f in files] == ["png", "xlsx", "docx"]
    assert finish_pending_reports(cs.db, cs.settings, later) == 0
    assert len(cs.outbox("report")) == len(rows)


def test_a_stored_report_request_of_someone_no_longer_allowed_is_refused(
    cs: CriteriaSchool,
) -> None:
    """Taken up after a restart, a request is checked again: the director who asked was made
    a plain teacher meanwhile, so no report is made and they are told why."""
    from datetime import timedelta

    from bot.staff.reports import finish_pending_reports
    from storage.repositories import staff

    cs.join("director", None, "director")
    cs.join("p0", "7-А", "parent")
    wave = open_survey(cs, "assessment-parents", ["7-А"])
    submit(cs, wave, "p0", "7-А")
    director_id = person_id(cs, "director")
    with cs.db.write() as session:
        staff.add_report_request(
            session,
            person_id=director_id,
            channel="telegram",
            external_id="1001",
            language="uk",
            wave_id=None,  # every questionnaire: whole-school staff only
            class_id=None,
            now=cs.now,
        )
        session.execute(
            update(Membership).where(Membership.person_id == director_id).values(role="teacher")
        )
    assert finish_pending_reports(cs.db, cs.settings, cs.now + timedelta(minutes=10)) == 1
    rows = cs.outbox("report")
    assert [r.reply.text for r in rows] == [t("uk", "st_forbidden_now")]
    assert [r.reply.file for r in rows] == [None]


def test_director_adds_classes_in_chat_and_it_is_logged(cs: CriteriaSchool) -> None:
    director = cs.join("director", None, "director")
    teacher = cs.join("iryna", "7-А", "class_teacher")
    assert_dialog(
        director,
        [
            ("/staff", ["Працівники школи"]),
            (press("Класи школи"), ["🏫 Класи школи: 7-А, 7-Б, 8-В"]),
            (press("Додати класи"), ["через кому"]),
            ("5 а; 10-Б,, --", ["не схоже на назви класів", "Нічого не змінено"]),
        ],
    )
    with cs.db.read() as session:
        assert set(school.class_names(session).values()) == {"7-А", "7-Б", "8-В"}
    assert_dialog(
        director,
        [
            (press("Додати класи"), ["через кому"]),
            (
                "5 а; 10-Б, 7-А",
                ["✅ Додано класи: 5-А, 10-Б", "Класи школи: 5-А, 7-А, 7-Б, 8-В, 10-Б"],
            ),
            (press("Додати класи"), ["через кому"]),
            ("7-а", ["Ці класи вже є"]),
        ],
    )
    with cs.db.read() as session:
        assert set(school.class_names(session).values()) == {"5-А", "7-А", "7-Б", "8-В", "10-Б"}
        audit = session.execute(select(StaffAudit.action, StaffAudit.detail)).all()
    assert [tuple(a) for a in audit] == [("add_classes", "5-А, 10-Б")]
    # The change log in chat, as `classpulse staff log` (school time: UTC+2 in March).
    assert_dialog(
        director,
        [
            ("/staff", ["Працівники школи"]),
            (
                press("Журнал змін"),
                ["Останні зміни", "02.03 12:00 · Director · додано класи · 5-А, 10-Б"],
            ),
        ],
    )
    # The new class is there at once for invites and surveys; a class teacher cannot add any.
    assert_dialog(teacher, [("/staff", ["лише для таких ролей: адміністрація, директор"])])
    assert "Класи школи" not in teacher.last_text()
