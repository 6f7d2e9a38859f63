"""Every text the bot says, in Ukrainian (default) and English. One catalog, looked up by key."""

from __future__ import annotations

from typing import Any

LANGUAGES = ("uk", "en")

ROLE_NAMES = {
    "uk": {
        "student": "учень / учениця",
        "parent": "батьки",
        "teacher": "вчитель",
        "class_teacher": "класний керівник",
        "director": "директор",
        "admin": "адміністрація",
    },
    "en": {
        "student": "student",
        "parent": "parent",
        "teacher": "teacher",
        "class_teacher": "class teacher",
        "director": "director",
        "admin": "administration",
    },
}

CATALOG: dict[str, dict[str, str]] = {
    "how_to_join": {
        "uk": "Вітаємо! Це шкільний бот «{school}» для опитувань і новин про оцінювання.\n\n"
        "Щоб приєднатися, відкрийте посилання-запрошення або відскануйте QR-код від "
        "класного керівника. Можна також надіслати код запрошення повідомленням.",
        "en": "Hello! This is the «{school}» school bot for surveys and assessment news.\n\n"
        "To join, open the invite link or scan the QR code from your class teacher. "
        "You can also send the invite code as a message.",
    },
    "invite_unknown": {
        "uk": "Такого коду запрошення немає. Перевірте посилання або попросіть нове "
        "у класного керівника.",
        "en": "This invite code does not exist. Check the link or ask your class teacher "
        "for a new one.",
    },
    "invite_expired": {
        "uk": "Термін дії цього запрошення минув. Попросіть нове у класного керівника.",
        "en": "This invite has expired. Ask your class teacher for a new one.",
    },
    "invite_used_up": {
        "uk": "Це запрошення вже використано максимальну кількість разів. Попросіть нове "
        "у класного керівника.",
        "en": "This invite has been used the maximum number of times. Ask your class "
        "teacher for a new one.",
    },
    "data_notice": {
        "uk": "«{school}» запрошує вас як: {role}{klass}.\n\n"
        "Про ваші дані: бот зберігає ваше ім'я в месенджері, клас і роль, щоб надсилати "
        "опитування й повідомлення про критерії оцінювання. Відповіді на опитування "
        "анонімні: вони зберігаються без вашого імені, і школа бачить лише загальні цифри. "
        "Ви можете будь-коли видалити свої дані командою /forget (анонімні відповіді "
        "залишаться у статистиці).\n\nПогоджуєтесь?",
        "en": "«{school}» invites you as: {role}{klass}.\n\n"
        "About your data: the bot keeps your messenger name, class and role to send you "
        "surveys and notices about assessment criteria. Survey answers are anonymous: they "
        "are stored without your name, and the school sees totals only. You can erase your "
        "data at any time with /forget (anonymous answers stay in the statistics).\n\n"
        "Do you agree?",
    },
    "consent_yes": {"uk": "✅ Згоду надано.", "en": "✅ Consent given."},
    "consent_no": {"uk": "Згоди не надано.", "en": "Consent not given."},
    "btn_agree": {"uk": "✅ Погоджуюсь", "en": "✅ I agree"},
    "btn_disagree": {"uk": "Не погоджуюсь", "en": "I do not agree"},
    "consent_declined": {
        "uk": "Гаразд, ми нічого не зберегли. Якщо передумаєте — відкрийте посилання ще раз.",
        "en": "All right, nothing was stored. If you change your mind, open the link again.",
    },
    "registered": {
        "uk": "Готово! Ви зареєстровані як: {role}{klass}.",
        "en": "Done! You are registered as: {role}{klass}.",
    },
    "membership_added": {
        "uk": "Додано: {role}{klass}.",
        "en": "Added: {role}{klass}.",
    },
    "already_member": {
        "uk": "Ви вже зареєстровані як: {role}{klass}.",
        "en": "You are already registered as: {role}{klass}.",
    },
    "menu_title": {"uk": "Головне меню. Оберіть дію:", "en": "Main menu. Choose an action:"},
    "menu_no_surveys": {
        "uk": "Зараз немає відкритих опитувань для вас. Ми напишемо, коли з'явиться нове.",
        "en": "There are no open surveys for you now. We will write when a new one opens.",
    },
    "btn_survey": {"uk": "📝 {title}", "en": "📝 {title}"},
    "btn_survey_resume": {"uk": "📝 {title} (продовжити)", "en": "📝 {title} (continue)"},
    "btn_help": {"uk": "ℹ️ Допомога", "en": "ℹ️ Help"},
    "btn_language": {"uk": "🌐 Мова / Language", "en": "🌐 Мова / Language"},
    "btn_forget": {"uk": "🗑 Видалити мої дані", "en": "🗑 Erase my data"},
    "help": {
        "uk": "Що вміє бот:\n"
        "• /menu — головне меню й відкриті опитування\n"
        "• /criteria — критерії оцінювання ваших класів\n"
        "• /language — мова\n"
        "• /forget — видалити мої дані\n\n"
        "Опитування можна переривати: наступного разу продовжите з того ж питання.",
        "en": "What the bot can do:\n"
        "• /menu — main menu and open surveys\n"
        "• /criteria — assessment criteria for your classes\n"
        "• /language — language\n"
        "• /forget — erase my data\n\n"
        "You can pause a survey: next time you continue from the same question.",
    },
    "choose_language": {"uk": "Оберіть мову:", "en": "Choose a language:"},
    "language_set": {"uk": "Мову змінено: українська.", "en": "Language changed: English."},
    "forget_confirm": {
        "uk": "Видалити ваші дані (ім'я, класи, незавершені відповіді)? Анонімні відповіді "
        "на вже надіслані опитування залишаться у статистиці. Цю дію не можна скасувати.",
        "en": "Erase your data (name, classes, unfinished answers)? Anonymous answers to "
        "surveys you already submitted stay in the statistics. This cannot be undone.",
    },
    "btn_forget_yes": {"uk": "🗑 Так, видалити", "en": "🗑 Yes, erase"},
    "btn_cancel": {"uk": "Скасувати", "en": "Cancel"},
    "forgotten": {
        "uk": "Ваші дані видалено. Щоб повернутися, відкрийте посилання-запрошення ще раз.",
        "en": "Your data has been erased. To come back, open an invite link again.",
    },
    "cancelled": {"uk": "Скасовано.", "en": "Cancelled."},
    "not_registered": {
        "uk": "Спершу приєднайтеся: відкрийте посилання-запрошення від класного керівника "
        "або надішліть код запрошення.",
        "en": "Please join first: open the invite link from your class teacher or send "
        "the invite code.",
    },
    "unknown_command": {
        "uk": "Не знаю команди /{command}. Надішліть /help, щоб побачити, що я вмію.",
        "en": "I do not know the command /{command}. Send /help to see what I can do.",
    },
    "stale_button": {
        "uk": "Ця кнопка вже не діє.",
        "en": "This button is no longer active.",
    },
    "bad_button": {
        "uk": "Не вдалося розпізнати натискання. Ось актуальне меню.",
        "en": "That button press could not be recognised. Here is the current menu.",
    },
    "question_passed": {
        "uk": "Це питання вже пройдено. Продовжимо з поточного:",
        "en": "This question is already done. Let us continue from the current one:",
    },
    "survey_closed": {
        "uk": "Це опитування вже закрите. Дякуємо за увагу!",
        "en": "This survey is closed. Thank you!",
    },
    "survey_done_already": {
        "uk": "Ви вже надіслали відповіді на це опитування. Дякуємо!",
        "en": "You have already submitted this survey. Thank you!",
    },
    "survey_not_for_you": {
        "uk": "Це опитування вам недоступне.",
        "en": "This survey is not available to you.",
    },
    "survey_intro": {
        "uk": "{title}\n\n{intro}\n\nПитань: {count}. Можна перервати й продовжити пізніше.",
        "en": "{title}\n\n{intro}\n\nQuestions: {count}. You can pause and continue later.",
    },
    "which_class": {
        "uk": "«{title}»: у вас діти в кількох класах. Про навчання дитини з якого класу будуть "
        "ці відповіді? (Опитування проходять один раз.)",
        "en": "“{title}”: you have children in several classes. Which child's class are these "
        "answers about? (The survey is answered once.)",
    },
    "progress": {"uk": "Питання {n} з {total}", "en": "Question {n} of {total}"},
    "multi_hint": {
        "uk": "(можна обрати кілька варіантів, потім натисніть «Готово»)",
        "en": "(you can choose several, then press “Done”)",
    },
    "text_hint": {
        "uk": "Напишіть відповідь повідомленням (до {limit} символів).",
        "en": "Type your answer as a message (up to {limit} characters).",
    },
    "btn_done": {"uk": "Готово ➡️", "en": "Done ➡️"},
    "btn_back": {"uk": "⬅️ Назад", "en": "⬅️ Back"},
    "btn_skip": {"uk": "Пропустити ⏭", "en": "Skip ⏭"},
    "btn_submit": {"uk": "✅ Надіслати", "en": "✅ Submit"},
    "btn_edit_q": {"uk": "✏️ {n}", "en": "✏️ {n}"},
    "btn_menu": {"uk": "🏠 Меню", "en": "🏠 Menu"},
    "chosen": {"uk": "Ваша відповідь: {answer}", "en": "Your answer: {answer}"},
    "skipped": {"uk": "(пропущено)", "en": "(skipped)"},
    "choose_with_buttons": {
        "uk": "Будь ласка, оберіть варіант кнопкою або надішліть номер відповіді (1–{max}).",
        "en": "Please choose an option with a button or send the answer number (1–{max}).",
    },
    "multi_need_one": {
        "uk": "Оберіть хоча б один варіант, потім натисніть «Готово».",
        "en": "Choose at least one option, then press “Done”.",
    },
    "required_no_skip": {
        "uk": "Це питання обов'язкове.",
        "en": "This question is required.",
    },
    "text_too_long": {
        "uk": "Відповідь задовга: {length} символів. Максимум — {limit}. Скоротіть, будь ласка.",
        "en": "The answer is too long: {length} characters. The limit is {limit}. "
        "Please shorten it.",
    },
    "text_empty": {
        "uk": "Порожня відповідь. Напишіть текст або натисніть «Пропустити».",
        "en": "Empty answer. Type some text or press “Skip”.",
    },
    "text_expected": {
        "uk": "Тут потрібна відповідь текстом.",
        "en": "A text answer is expected here.",
    },
    "review_title": {
        "uk": "Перевірте відповіді перед надсиланням:",
        "en": "Check your answers before submitting:",
    },
    "review_footer": {
        "uk": "Щоб змінити відповідь, натисніть ✏️ з номером питання.",
        "en": "To change an answer, press ✏️ with the question number.",
    },
    "review_missing": {
        "uk": "Не всі обов'язкові питання мають відповідь. Повертаю до першого з них.",
        "en": "Not all required questions are answered. Back to the first of them.",
    },
    "submitted": {
        "uk": "Дякуємо! Ваші відповіді збережено анонімно.",
        "en": "Thank you! Your answers were saved anonymously.",
    },
    "file_not_expected": {
        "uk": "Файли тут не потрібні. Оберіть дію в меню.",
        "en": "No file is needed here. Choose an action in the menu.",
    },
    "message_too_long": {
        "uk": "Повідомлення задовге ({length} символів). Я розумію повідомлення до {limit} "
        "символів.",
        "en": "The message is too long ({length} characters). I understand messages up to "
        "{limit} characters.",
    },
    "error": {
        "uk": "Вибачте, сталася помилка. Ваші відповіді збережено; спробуйте ще раз за хвилину.",
        "en": "Sorry, something went wrong. Your answers are saved; try again in a minute.",
    },
    "survey_invitation": {
        "uk": "📝 Нове опитування: «{title}». Ваша думка важлива для школи — це займе кілька "
        "хвилин, відповіді анонімні.",
        "en": "📝 New survey: “{title}”. Your opinion matters to the school — it takes a few "
        "minutes, answers are anonymous.",
    },
    "btn_start_survey": {"uk": "Почати опитування", "en": "Start the survey"},
    "survey_reminder": {
        "uk": "⏰ Нагадування: опитування «{title}» ще чекає на вашу відповідь{closes}.",
        "en": "⏰ Reminder: the survey “{title}” is still waiting for your answer{closes}.",
    },
    "closes_on": {"uk": " (до {date})", "en": " (until {date})"},
    "in_class": {"uk": ", клас {klass}", "en": ", class {klass}"},
}


def t(lang: str, key: str, **params: Any) -> str:
    """Look up `key` in `lang` (falling back to Ukrainian) and fill in `params`."""
    entry = CATALOG[key]
    text = entry.get(lang) or entry["uk"]
    return text.format(**params) if params else text


def role_name(lang: str, role: str) -> str:
    return ROLE_NAMES.get(lang, ROLE_NAMES["uk"]).get(role, role)


def add_texts(entries: dict[str, dict[str, str]]) -> None:
    """Flow modules (e.g. criteria notices) add their own texts to the one catalog."""
    clash = set(entries) & set(CATALOG)
    if clash:
        raise ValueError(f"text keys already defined: {sorted(clash)}")
    CATALOG.update(entries)
