"""Where everything goes: the one table a newcomer opens first.

An event reaches `ChatService.handle` (bot/conversation/service.py), which calls the engine
(`bot.engine.step`) with `ROUTES`:

- a `/command` goes to `ROUTES.commands[name]`;
- a button press is decoded (bot/engine/buttons.py) into a `ButtonKind` and goes to
  `ROUTES.buttons[kind]` (a main-menu item: `ROUTES.menu_items[item]`);
- typed text or a file goes to the handler of the conversation's mode, `ROUTES.modes[mode]`;
- a messenger "reply" to a relayed question goes to `ROUTES.reply_handlers` first.

Every handler is a pure function `Ctx -> Step` (new state, replies, effects). The service then
applies each effect with `APPLIERS[type(effect)]`, inside the event's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation.effects import Applier, Resumer, send
from bot.criteria import effects as criteria_effects
from bot.criteria import flows as criteria
from bot.engine.buttons import ButtonKind
from bot.engine.core import (
    AddMembership,
    Forget,
    Register,
    Routes,
    SaveDraft,
    Send,
    SetLanguage,
    Submit,
)
from bot.members import effects as member_effects
from bot.members import menu, registration
from bot.staff import effects as staff_effects
from bot.staff import flows as staff
from bot.staff import forms_effects
from bot.staff import forms_flow as forms
from bot.surveys import effects as survey_effects
from bot.surveys import flows as surveys

ROUTES = Routes(
    commands={
        "start": registration.start,
        "menu": menu.menu,
        "surveys": menu.menu,
        "help": menu.help_command,
        "language": menu.language,
        "forget": menu.forget,
        "cancel": menu.cancel,
        "criteria_new": criteria.start_wizard,
        "criteria": criteria.list_criteria,
        "coverage": criteria.coverage,
        "report": staff.report,
        "rates": staff.rates,
        "survey": staff.survey,
        "invite": staff.invite,
        "staff": staff.staff,
    },
    buttons={
        ButtonKind.CONSENT: registration.consent,
        ButtonKind.MENU: menu.menu_press,
        ButtonKind.LANGUAGE: menu.set_language,
        ButtonKind.FORGET: menu.forget_answer,
        ButtonKind.START_SURVEY: surveys.start_survey,
        ButtonKind.CHOOSE_CLASS: surveys.start_for_class,
        ButtonKind.ANSWER: surveys.answer_single,
        ButtonKind.TOGGLE: surveys.toggle_multi,
        ButtonKind.DONE: surveys.done_multi,
        ButtonKind.SKIP: surveys.skip,
        ButtonKind.BACK: surveys.back,
        ButtonKind.EDIT: surveys.edit_from_review,
        ButtonKind.SUBMIT: surveys.submit,
        ButtonKind.CRITERIA_CLASS: criteria.toggle_class,
        ButtonKind.CRITERIA_STEP: criteria.wizard_step,
        ButtonKind.CRITERIA_SUBJECT: criteria.choose_subject,
        ButtonKind.ACKNOWLEDGE: criteria.acknowledge,
        ButtonKind.ASK: criteria.ask,
        ButtonKind.REPLY_QUESTION: criteria.reply_pressed,
        ButtonKind.VIEW_NOTICE: criteria.view_notice,
        ButtonKind.REPORT: staff.report_pressed,
        ButtonKind.NUDGE: staff.nudge,
        ButtonKind.INVITE: staff.invite_pressed,
        ButtonKind.SURVEY_PICK: staff.survey_pick,
        ButtonKind.SURVEY_CLASS: staff.survey_class,
        ButtonKind.SURVEY_STEP: staff.survey_step,
        ButtonKind.SURVEY_CLOSE: staff.survey_close,
        ButtonKind.STAFF: staff.staff_pressed,
        ButtonKind.FORMS: forms.pressed,
    },
    modes={
        "consent": registration.consent_input,
        "forget": menu.forget_input,
        "survey": surveys.typed_input,
        criteria.WIZARD: criteria.wizard_input,
        criteria.ASKING: criteria.question_input,
        criteria.ANSWERING: criteria.answer_input,
        staff.SURVEY_MODE: staff.survey_input,
        staff.CLASSES_MODE: staff.classes_input,
        forms.MODE: forms.typed,
    },
    menu_items={
        "help": menu.help_item,
        "lang": menu.language_item,
        "forget": menu.forget_item,
        "cr_new": criteria.start_wizard_item,
        "cr_list": criteria.list_criteria_item,
        "cr_cov": criteria.coverage_item,
        "st_report": staff.report_item,
        "st_rates": staff.rates_item,
        "st_survey": staff.survey_item,
        "st_invite": staff.invite_item,
        "st_staff": staff.staff_item,
    },
    menu=menu.menu_step,
    menu_providers=(criteria.menu_buttons, staff.menu_buttons),
    reply_handlers=(criteria.reply_to_relay,),
    fallbacks={
        "not_registered": registration.not_registered,
        "bad_button": menu.bad_button,
        "stale": menu.stale,
        "idle_input": menu.idle_input,
    },
    # What someone who has not joined yet may do.
    public_commands=frozenset({"start", "help", "language", "menu", "cancel"}),
    public_buttons=frozenset({ButtonKind.CONSENT, ButtonKind.LANGUAGE, ButtonKind.MENU}),
)

APPLIERS: Mapping[type, Applier] = {
    Register: member_effects.register,
    AddMembership: member_effects.add_membership,
    Forget: member_effects.forget,
    SetLanguage: member_effects.set_language,
    SaveDraft: survey_effects.save_draft,
    Submit: survey_effects.submit,
    Send: send,
    criteria.PublishCriteria: criteria_effects.publish,
    criteria.Acknowledge: criteria_effects.acknowledge,
    criteria.AskQuestion: criteria_effects.ask,
    criteria.AnswerQuestion: criteria_effects.answer,
    staff.RequestReport: staff_effects.request_report,
    staff.AddClasses: staff_effects.add_classes,
    staff.Nudge: staff_effects.nudge,
    staff.MakeInvite: staff_effects.make_invite,
    staff.OpenSurvey: staff_effects.open_survey,
    staff.CloseSurvey: staff_effects.close_survey,
    staff.AssignClassTeacher: staff_effects.assign,
    staff.RemoveRole: staff_effects.remove,
    forms.ImportForms: forms_effects.import_forms,
}

# What each channel takes up when its files can be fetched again (a restarted bot).
RESUMERS: tuple[Resumer, ...] = (forms_effects.resume_forms_imports,)
