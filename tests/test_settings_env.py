"""Where settings come from: the caller, then the environment, then `.env`, then defaults;
variable names in any case; a wrong value is one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings, reveal


def test_the_caller_wins_over_the_environment_which_wins_over_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "timezone=Europe/Warsaw\nMIN_GROUP_SIZE=7\nSCHOOL_NAME=Ліцей\n"
        "TELEGRAM_BOT_TOKEN=123:from-dotenv\nNOT_A_SETTING=1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MIN_GROUP_SIZE", "9")
    monkeypatch.setenv("school_name", "Гімназія №3")
    settings = Settings(school_name="Школа")
    assert settings.timezone == "Europe/Warsaw"  # from .env, lower-case name
    assert settings.min_group_size == 9  # the environment over .env
    assert settings.school_name == "Школа"  # the caller over both
    assert settings.telegram_enabled and reveal(settings.telegram_bot_token) == "123:from-dotenv"
    assert "from-dotenv" not in repr(settings)


def test_no_env_file_reads_only_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Europe/Warsaw\n", encoding="utf-8")
    monkeypatch.setenv("QUIET_HOURS", "")
    settings = Settings(_env_file=None)
    assert settings.timezone == "Europe/Kyiv" and settings.quiet_window is None


def test_a_wrong_value_in_dotenv_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MIN_GROUP_SIZE=0\nLOG_LEVEL=debug\n", encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value) == (
        "Invalid setting MIN_GROUP_SIZE: expected greater than or equal to 1, got '0'"
    )
