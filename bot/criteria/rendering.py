"""What criteria notices look like: texts (uk + en), button payload kinds, message rendering.

Pure: no storage. Used by the chat flow (bot/criteria/flows.py) and by the publish service
(bot/criteria/service.py), which renders each notice in the recipient's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.capabilities import resendable_by
from bot.engine.buttons import ButtonKind, encode
from bot.engine.events import Button, OutFile, Reply
from bot.texts import add_texts, role_name, t
from storage.records import NoticeInfo

AUDIENCES = ("students", "parents", "both")
AUDIENCE_ROLES = {"students": ("student",), "parents": ("parent",), "both": ("student", "parent")}

# One notice must fit one message everywhere: Telegram allows 4096 characters, Viber ~7000;
# the header (subject, class, author) and footer take the rest. Longer texts are refused with
# advice to attach the full criteria as a file, rather than split: a notice in several parts
# would have its buttons on the last part only and read badly in a class group.
MAX_NOTICE_TEXT = 3500
MAX_QUESTION = 1000
MAX_SUBJECT = 120
# A file a teacher sent in chat stays in that messenger ("telegram-file:<file_id>"): it is
# attached for recipients on the same channel once its transport can send such a reference
# (Telegram: send_document(document=file_id); `resends_own_files` in bot/channels/). Everyone
# else is told to ask the teacher for the file. Files published from the CLI are local
# paths under data_dir/notices and go to every channel that sends files.
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class NoticeView:
    """The parts of a notice a message shows."""

    id: int
    subject: str
    class_name: str
    author_name: str
    text: str
    file_name: str | None = None
    file_path: str | None = None
    file_mime: str = ""


@dataclass(frozen=True)
class CriteriaConfig:
    """The school's criteria settings the chat flow needs (read through the world)."""

    subjects: tuple[str, ...]
    max_file_mb: int
    show_names: bool


@dataclass(frozen=True)
class Plan:
    """What a publish would do, for the preview: people per class, and what it replaces."""

    recipients: dict[str, int]  # class name -> people
    replaces: tuple[str, ...]  # class names where an older notice of the subject exists

    @property
    def total(self) -> int:
        return sum(self.recipients.values())

    @property
    def empty(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, n in self.recipients.items() if n == 0))


def file_mime(name: str, mime: str = "") -> str | None:
    """The accepted MIME type for a file name (or the MIME a channel reported), else None."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if f".{suffix}" in FILE_TYPES:
        return FILE_TYPES[f".{suffix}"]
    return mime if mime in FILE_TYPES.values() else None


def file_too_big(size: int, max_mb: int) -> bool:
    return size > max_mb * 1024 * 1024


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"


def match_subject(typed: str, subjects: tuple[str, ...] | list[str]) -> str:
    """The school's spelling when the subject is on its list, else the typed name, tidied."""
    cleaned = " ".join(typed.split())
    for known in subjects:
        if known.casefold() == cleaned.casefold():
            return known
    return cleaned


def notice_view(notice: NoticeInfo) -> NoticeView:
    return NoticeView(
        id=notice.id,
        subject=notice.subject,
        class_name=notice.class_name,
        author_name=notice.author_name,
        text=notice.text,
        file_name=notice.file_name,
        file_path=notice.file_path,
        file_mime=file_mime(notice.file_name or "") or "",
    )


def audience_name(lang: str, audience: str) -> str:
    return t(lang, f"cr_aud_{audience}")


def out_file(notice: NoticeView, channel: str) -> OutFile | None:
    """The attachment for a recipient on `channel`, if that channel can send it."""
    if not notice.file_path or not notice.file_name:
        return None
    if not resendable_by(channel, notice.file_path):
        return None
    return OutFile(path=notice.file_path, name=notice.file_name, mime=notice.file_mime)


def notice_body(lang: str, notice: NoticeView, updated: bool = False, channel: str = "") -> str:
    lines = []
    if updated:
        lines.append(t(lang, "cr_notice_updated"))
    lines.append(
        t(
            lang,
            "cr_notice_head",
            subject=notice.subject,
            klass=notice.class_name,
            author=notice.author_name or t(lang, "cr_school"),
        )
    )
    text = f"{chr(10).join(lines)}\n\n{notice.text}"
    if notice.file_name:
        attached = out_file(notice, channel) is not None or not channel
        key = "cr_notice_file" if attached else "cr_notice_file_elsewhere"
        text += "\n\n" + t(lang, key, name=notice.file_name)
    return text


def notice_buttons(lang: str, notice_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(t(lang, "btn_cr_understood"), encode(ButtonKind.ACKNOWLEDGE, notice_id)),
            Button(t(lang, "btn_cr_question"), encode(ButtonKind.ASK, notice_id)),
        ),
    )


def notice_reply(
    lang: str,
    notice: NoticeView,
    channel: str,
    updated: bool = False,
    reminder: bool = False,
) -> Reply:
    """The notice as a family member on `channel` receives it: text, file, two buttons."""
    body = notice_body(lang, notice, updated, channel)
    if reminder:
        body = f"{t(lang, 'cr_reminder')}\n\n{body}"
    body += "\n\n" + t(lang, "cr_notice_footer")
    file = out_file(notice, channel)
    return Reply(text=body, buttons=notice_buttons(lang, notice.id), file=file)


def group_reply(
    lang: str, notice: NoticeView, channel: str, bot_url: str, updated: bool = False
) -> Reply:
    """The notice in a class group: no personal buttons, a link to the private chat instead."""
    body = notice_body(lang, notice, updated, channel) + "\n\n" + t(lang, "cr_group_footer")
    buttons = ((Button(t(lang, "btn_cr_open_bot"), url=bot_url),),) if bot_url else ()
    return Reply(text=body, buttons=buttons, file=out_file(notice, channel))


def relay_reply(
    lang: str,
    question_id: int,
    subject: str,
    class_name: str,
    asker_name: str,
    asker_role: str,
    text: str,
) -> Reply:
    """A family member's question as the teacher receives it."""
    body = t(
        lang,
        "cr_relay",
        subject=subject,
        klass=class_name,
        name=asker_name or t(lang, "cr_unnamed"),
        role=role_name(lang, asker_role),
        text=text,
    )
    return Reply(
        text=body,
        buttons=(
            (Button(t(lang, "btn_cr_reply"), encode(ButtonKind.REPLY_QUESTION, question_id)),),
        ),
    )


def answer_reply(
    lang: str,
    notice_id: int,
    subject: str,
    class_name: str,
    teacher: str,
    question: str,
    answer: str,
) -> Reply:
    """The teacher's answer as the asker receives it, with the notice's buttons again."""
    body = t(
        lang,
        "cr_answer_relay",
        subject=subject,
        klass=class_name,
        teacher=teacher or t(lang, "cr_school"),
        question=question,
        answer=answer,
    )
    return Reply(text=body, buttons=notice_buttons(lang, notice_id))


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


add_texts(
    {
        "btn_cr_new": {"uk": "📢 Критерії оцінювання", "en": "📢 Assessment criteria"},
        "btn_cr_list": {"uk": "📚 Критерії", "en": "📚 Criteria"},
        "btn_cr_coverage": {"uk": "📊 Охоплення", "en": "📊 Coverage"},
        "btn_cr_next": {"uk": "Далі ➡️", "en": "Next ➡️"},
        "btn_cr_students": {"uk": "🧑‍🎓 Учням", "en": "🧑‍🎓 Students"},
        "btn_cr_parents": {"uk": "👪 Батькам", "en": "👪 Parents"},
        "btn_cr_both": {"uk": "👥 Учням і батькам", "en": "👥 Students and parents"},
        "btn_cr_no_file": {"uk": "Без файлу ➡️", "en": "No file ➡️"},
        "btn_cr_send": {"uk": "📤 Надіслати", "en": "📤 Send"},
        "btn_cr_edit_text": {"uk": "✏️ Змінити текст", "en": "✏️ Change the text"},
        "btn_cr_understood": {"uk": "✅ Зрозуміло", "en": "✅ Understood"},
        "btn_cr_question": {"uk": "❓ Маю питання", "en": "❓ I have a question"},
        "btn_cr_reply": {"uk": "↩️ Відповісти", "en": "↩️ Reply"},
        "btn_cr_open_bot": {"uk": "Відкрити бота", "en": "Open the bot"},
        "btn_cr_notice": {"uk": "{mark}{subject} · {klass}", "en": "{mark}{subject} · {klass}"},
        "cr_aud_students": {"uk": "учні", "en": "students"},
        "cr_aud_parents": {"uk": "батьки", "en": "parents"},
        "cr_aud_both": {"uk": "учні та батьки", "en": "students and parents"},
        "cr_school": {"uk": "адміністрація школи", "en": "the school"},
        "cr_unnamed": {"uk": "без імені", "en": "no name"},
        # -------------------------------------------------- publishing
        "cr_not_staff": {
            "uk": "Публікувати критерії оцінювання можуть лише вчителі та адміністрація школи. "
            "Критерії ваших класів можна переглянути командою /criteria.",
            "en": "Only teachers and the school administration can publish assessment "
            "criteria. You can read the criteria for your classes with /criteria.",
        },
        "cr_no_classes": {
            "uk": "Ви ще не прив'язані до жодного класу як вчитель. Попросіть в адміністрації "
            "запрошення вчителя для потрібного класу.",
            "en": "You are not linked to any class as a teacher yet. Ask the administration "
            "for a teacher invite for the class.",
        },
        "cr_choose_classes": {
            "uk": "📢 Нові критерії оцінювання.\n\nКрок 1 з 4. Оберіть клас (можна кілька), "
            "потім натисніть «Далі».",
            "en": "📢 New assessment criteria.\n\nStep 1 of 4. Choose the class (several are "
            "possible), then press “Next”.",
        },
        "cr_need_class": {
            "uk": "Оберіть хоча б один клас, потім натисніть «Далі».",
            "en": "Choose at least one class, then press “Next”.",
        },
        "cr_choose_subject": {
            "uk": "Крок 2 з 4. Оберіть предмет або напишіть його назву повідомленням.",
            "en": "Step 2 of 4. Choose the subject or type its name.",
        },
        "cr_subject_bad": {
            "uk": "Назва предмета має містити від 2 до {limit} символів. Напишіть її ще раз "
            "або оберіть кнопкою.",
            "en": "A subject name has 2 to {limit} characters. Type it again or choose a button.",
        },
        "cr_choose_audience": {
            "uk": "Крок 3 з 4. Предмет: {subject}.\nКому надіслати критерії?",
            "en": "Step 3 of 4. Subject: {subject}.\nWho should receive the criteria?",
        },
        "cr_ask_text": {
            "uk": "Крок 4 з 4. Надішліть текст критеріїв одним повідомленням (до {limit} "
            "символів). Потім можна додати файл: PDF, JPG, PNG або DOCX до {mb} МБ.",
            "en": "Step 4 of 4. Send the text of the criteria in one message (up to {limit} "
            "characters). Then you can attach a file: PDF, JPG, PNG or DOCX up to {mb} MB.",
        },
        "cr_text_empty": {
            "uk": "Текст порожній. Напишіть критерії оцінювання повідомленням.",
            "en": "The text is empty. Type the assessment criteria as a message.",
        },
        "cr_text_too_long": {
            "uk": "Текст задовгий: {length} символів, а повідомлення з критеріями вміщує до "
            "{limit}. Скоротіть його: напишіть головне текстом, а повні критерії додайте "
            "файлом (PDF чи DOCX).",
            "en": "The text is too long: {length} characters, and a criteria message holds up "
            "to {limit}. Shorten it: write the essentials as text and attach the full "
            "criteria as a file (PDF or DOCX).",
        },
        "cr_ask_file": {
            "uk": "Текст отримано. Додайте файл (PDF, JPG, PNG або DOCX до {mb} МБ) або "
            "натисніть «Без файлу».",
            "en": "Text received. Attach a file (PDF, JPG, PNG or DOCX up to {mb} MB) or "
            "press “No file”.",
        },
        "cr_file_type": {
            "uk": "Файл «{name}» має непідтримуваний тип. Надішліть PDF, JPG, PNG або DOCX.",
            "en": "The file “{name}” has an unsupported type. Send a PDF, JPG, PNG or DOCX.",
        },
        "cr_file_too_big": {
            "uk": "Файл «{name}» завеликий: {size} МБ, а можна до {mb} МБ. Стисніть його або "
            "розділіть.",
            "en": "The file “{name}” is too large: {size} MB, the limit is {mb} MB. Compress "
            "or split it.",
        },
        "cr_text_first": {
            "uk": "Файл «{name}» додано. Тепер надішліть текст критеріїв повідомленням "
            "(до {limit} символів).",
            "en": "The file “{name}” is attached. Now send the text of the criteria "
            "(up to {limit} characters).",
        },
        "cr_preview": {
            "uk": "Попередній перегляд — так повідомлення побачать отримувачі:",
            "en": "Preview — this is what the recipients will see:",
        },
        "cr_preview_summary": {
            "uk": "Отримувачів: {count} ({audience}; клас {classes}).",
            "en": "Recipients: {count} ({audience}; class {classes}).",
        },
        "cr_preview_replaces": {
            "uk": "Ці критерії замінять попередні з цього предмета для: {classes}.",
            "en": "These criteria replace the earlier ones for this subject in: {classes}.",
        },
        "cr_preview_confirm": {"uk": "Надіслати?", "en": "Send?"},
        "cr_no_recipients": {
            "uk": "У класі {classes} ще ніхто з отримувачів ({audience}) не приєднався до "
            "бота, тож надсилати нікому. Нічого не надіслано. Зніміть цей клас або спершу "
            "роздайте запрошення.",
            "en": "Nobody among the recipients ({audience}) in class {classes} has joined the "
            "bot yet, so there is no one to send to. Nothing was sent. Deselect that class "
            "or hand out invites first.",
        },
        "cr_file_only": {
            "uk": "Критерії оцінювання з предмета «{subject}» — у вкладеному файлі.",
            "en": "The assessment criteria for “{subject}” are in the attached file.",
        },
        "cr_unknown_class": {
            "uk": "Такого класу немає. Нічого не надіслано.",
            "en": "There is no such class. Nothing was sent.",
        },
        "cr_bad_audience": {
            "uk": "Отримувачі мають бути: учні, батьки або учні та батьки.",
            "en": "The audience must be students, parents, or both.",
        },
        "cr_no_recipients_now": {
            "uk": "Отримувачів не знайдено, тож нічого не надіслано.",
            "en": "No recipients were found, so nothing was sent.",
        },
        "cr_sent": {
            "uk": "✅ Критерії з предмета «{subject}» надіслано (клас {classes}). "
            "Отримувачів: {count}. Питання учнів і батьків надходитимуть сюди.",
            "en": "✅ The criteria for “{subject}” were sent (class {classes}). "
            "Recipients: {count}. Questions from students and parents will come here.",
        },
        "cr_forbidden_class": {
            "uk": "Ви не можете публікувати критерії для класу {klass}: ви в ньому не "
            "викладаєте. Нічого не надіслано.",
            "en": "You cannot publish criteria for class {klass}: you do not teach there. "
            "Nothing was sent.",
        },
        "cr_publish_failed": {
            "uk": "Не вдалося надіслати критерії; нічого не надіслано. Спробуйте ще раз.",
            "en": "The criteria could not be sent; nothing was sent. Please try again.",
        },
        # -------------------------------------------------- receiving
        "cr_notice_head": {
            "uk": "📢 Критерії оцінювання\nПредмет: {subject}\nКлас: {klass}\nВід: {author}",
            "en": "📢 Assessment criteria\nSubject: {subject}\nClass: {klass}\nFrom: {author}",
        },
        "cr_notice_updated": {
            "uk": "🔄 Оновлено: ці критерії замінюють попередні.",
            "en": "🔄 Updated: these criteria replace the earlier ones.",
        },
        "cr_notice_file": {"uk": "📎 Файл: {name}", "en": "📎 File: {name}"},
        "cr_notice_file_elsewhere": {
            "uk": "📎 До критеріїв додано файл «{name}»; попросіть його у вчителя.",
            "en": "📎 The file “{name}” comes with these criteria; ask the teacher for it.",
        },
        "cr_notice_footer": {
            "uk": "Чи зрозумілі вам ці критерії? Якщо ні — поставте питання вчителю.",
            "en": "Are these criteria clear to you? If not, ask the teacher a question.",
        },
        "cr_reminder": {
            "uk": "⏰ Нагадування: ознайомтеся, будь ласка, з критеріями оцінювання й натисніть "
            "«Зрозуміло» або поставте питання.",
            "en": "⏰ Reminder: please read the assessment criteria and press “Understood” or "
            "ask a question.",
        },
        "cr_group_footer": {
            "uk": "Позначити «Зрозуміло» чи поставити питання вчителю можна в особистому чаті "
            "з ботом.",
            "en": "You can mark “Understood” or ask the teacher a question in a private chat "
            "with the bot.",
        },
        "cr_replaced": {
            "uk": "Ці критерії вже замінено новими. Ось актуальні:",
            "en": "These criteria have been replaced. Here are the current ones:",
        },
        "cr_not_for_you": {
            "uk": "Ці критерії стосуються іншого класу.",
            "en": "These criteria belong to another class.",
        },
        "cr_ack_thanks": {
            "uk": "Дякуємо! Вчитель побачить, що критерії з предмета «{subject}» вам зрозумілі.",
            "en": "Thank you! The teacher will see that the criteria for “{subject}” are "
            "clear to you.",
        },
        "cr_ack_already": {
            "uk": "Ви вже позначили, що ці критерії зрозумілі. Дякуємо!",
            "en": "You have already marked these criteria as clear. Thank you!",
        },
        "cr_ask_question": {
            "uk": "Напишіть питання щодо критеріїв з предмета «{subject}» одним повідомленням. "
            "Вчитель отримає його разом з вашим ім'ям, роллю та класом.\n\nСкасувати: /cancel",
            "en": "Type your question about the criteria for “{subject}” in one message. The "
            "teacher receives it with your name, role and class.\n\nCancel: /cancel",
        },
        "cr_question_empty": {
            "uk": "Питання порожнє. Напишіть його текстом або надішліть /cancel.",
            "en": "The question is empty. Type it as text or send /cancel.",
        },
        "cr_too_long": {
            "uk": "Задовге повідомлення: {length} символів, максимум — {limit}. Скоротіть, "
            "будь ласка.",
            "en": "The message is too long: {length} characters, the limit is {limit}. Please "
            "shorten it.",
        },
        "cr_question_sent": {
            "uk": "Ваше питання передано вчителю. Відповідь надійде в цей чат.",
            "en": "Your question was passed to the teacher. The answer will come to this chat.",
        },
        "cr_no_one_to_ask": {
            "uk": "На жаль, зараз у боті немає вчителя, якому можна передати питання. "
            "Зверніться, будь ласка, до класного керівника.",
            "en": "Sorry, no teacher is available in the bot to receive the question now. "
            "Please contact the class teacher.",
        },
        "cr_relay": {
            "uk": "❓ Питання щодо критеріїв оцінювання\nПредмет: {subject}, клас {klass}\n"
            "Від: {name} ({role})\n\n{text}\n\nЩоб відповісти, натисніть «Відповісти» або "
            "дайте відповідь (reply) на це повідомлення.",
            "en": "❓ A question about the assessment criteria\nSubject: {subject}, class "
            "{klass}\nFrom: {name} ({role})\n\n{text}\n\nTo answer, press “Reply” or reply "
            "to this message.",
        },
        "cr_answer_prompt": {
            "uk": "Напишіть відповідь одним повідомленням; її отримає {name} ({role}, "
            "клас {klass}).\n\nПитання: {text}\n\nСкасувати: /cancel",
            "en": "Type the answer in one message; it goes to {name} ({role}, class {klass})."
            "\n\nQuestion: {text}\n\nCancel: /cancel",
        },
        "cr_answer_empty": {
            "uk": "Відповідь порожня. Напишіть її текстом або надішліть /cancel.",
            "en": "The answer is empty. Type it as text or send /cancel.",
        },
        "cr_answer_sent": {"uk": "✅ Відповідь надіслано.", "en": "✅ The answer was sent."},
        "cr_answer_not_yours": {
            "uk": "Відповісти на це питання може вчитель, який надіслав критерії, класний "
            "керівник або адміністрація.",
            "en": "This question can be answered by the teacher who sent the criteria, the "
            "class teacher or the administration.",
        },
        "cr_asker_gone": {
            "uk": "Автор питання видалив свої дані з бота, тож відповідь доставити не вийде.",
            "en": "The person who asked has erased their data, so the answer cannot be delivered.",
        },
        "cr_answer_relay": {
            "uk": "💬 Відповідь щодо критеріїв з предмета «{subject}» (клас {klass})\n"
            "Від: {teacher}\n\nВаше питання: {question}\n\nВідповідь: {answer}",
            "en": "💬 An answer about the criteria for “{subject}” (class {klass})\n"
            "From: {teacher}\n\nYour question: {question}\n\nAnswer: {answer}",
        },
        "cr_text_expected": {
            "uk": "Тут потрібен текст. Напишіть повідомлення або надішліть /cancel.",
            "en": "Text is expected here. Type a message or send /cancel.",
        },
        # -------------------------------------------------- reading and coverage
        "cr_list_title": {
            "uk": "📚 Критерії оцінювання ваших класів. Оберіть предмет, щоб прочитати:",
            "en": "📚 Assessment criteria for your classes. Choose a subject to read:",
        },
        "cr_list_empty": {
            "uk": "Для ваших класів ще не опубліковано критеріїв оцінювання. Ми надішлемо їх, "
            "щойно вчителі опублікують.",
            "en": "No assessment criteria have been published for your classes yet. We will "
            "send them as soon as the teachers publish them.",
        },
        "cr_cov_forbidden": {
            "uk": "Охоплення бачать класні керівники (для свого класу) та адміністрація школи.",
            "en": "Coverage is shown to class teachers (for their class) and the school "
            "administration.",
        },
        "cr_cov_empty": {
            "uk": "Для ваших класів ще немає опублікованих критеріїв.",
            "en": "No criteria have been published for your classes yet.",
        },
        "cr_cov_title": {
            "uk": "📊 Охоплення критеріями оцінювання",
            "en": "📊 Assessment criteria coverage",
        },
        "cr_cov_class": {"uk": "Клас {klass}:", "en": "Class {klass}:"},
        "cr_cov_row": {
            "uk": "• {subject}: отримали {delivered} з {recipients}; «Зрозуміло» — {ack_pct}; "
            "питань {questions}, з відповіддю {answered}",
            "en": "• {subject}: received {delivered} of {recipients}; “Understood” — {ack_pct}; "
            "questions {questions}, answered {answered}",
        },
        "cr_cov_seen": {"uk": "; переглянули {seen}", "en": "; seen {seen}"},
        "cr_cov_names": {
            "uk": "   Ще не позначили «Зрозуміло»: {names}",
            "en": "   Not yet marked “Understood”: {names}",
        },
    }
)
