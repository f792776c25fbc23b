"""Settings: defaults, the TOML file, the environment, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.settings import Settings, SettingsError


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///./creneau.db"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert (settings.sms_backend, settings.quiet_hours, settings.retention_days) == (
        "console",
        "20:00-08:00",
        90,
    )


def test_environment_wins_over_the_settings_file(tmp_path: Path) -> None:
    file = tmp_path / "creneau.toml"
    file.write_text('port = 9000\nworkers = 3\nquiet_hours = "21:00-07:30"\n')
    settings = Settings.from_env({"CRENEAU_SETTINGS_FILE": str(file), "CRENEAU_PORT": "9100"})
    assert (settings.port, settings.workers, settings.quiet_hours) == (9100, 3, "21:00-07:30")


def test_twilio_names_are_read_as_twilio_names_them() -> None:
    settings = Settings.from_env({
        "CRENEAU_SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "secret-token",
        "CRENEAU_TWILIO_SENDER": "CRENEAU", "CRENEAU_TWILIO_API_BASE": "http://127.0.0.1:9999",
        "CRENEAU_SECRET_KEY": "s" * 40, "CRENEAU_PUBLIC_URL": "https://rdv.example.org"})
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == "secret-token"
    assert "secret-token" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CRENEAU_PORT": "eighty"}, "CRENEAU_PORT"),
        ({"CRENEAU_PORT": "70000"}, "CRENEAU_PORT"),
        ({"CRENEAU_WORKERS": "0"}, "CRENEAU_WORKERS"),
        ({"CRENEAU_DATABASE_URL": "mysql://x"}, "CRENEAU_DATABASE_URL"),
        ({"CRENEAU_QUIET_HOURS": "8pm-8am"}, "CRENEAU_QUIET_HOURS"),
        ({"CRENEAU_SMS_BACKEND": "pigeon"}, "CRENEAU_SMS_BACKEND"),
        ({"CRENEAU_PUBLIC_URL": "creneau.fr"}, "CRENEAU_PUBLIC_URL"),
        ({"CRENEAU_SMS_BACKEND": "twilio"}, "TWILIO_ACCOUNT_SID"),
        ({"CRENEAU_REDIS_URL": "127.0.0.1:6379"}, "CRENEAU_REDIS_URL"),
    ],
    ids=["port_not_a_number", "port_out_of_range", "no_workers", "not_an_async_driver", "quiet_hours_shape",
         "unknown_backend", "public_url_without_scheme", "twilio_without_credentials",
         "redis_url_without_scheme"],
)
def test_bad_settings_are_refused_naming_the_setting(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert named in str(refused.value)


def test_twilio_needs_the_public_address_that_families_and_twilio_reach() -> None:
    environ = {"CRENEAU_SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "token",
               "CRENEAU_TWILIO_SENDER": "CRENEAU", "CRENEAU_SECRET_KEY": "s" * 40, "CRENEAU_PORT": "9000"}
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value).startswith("CRENEAU_SMS_BACKEND=twilio needs CRENEAU_PUBLIC_URL")
    assert "TWILIO_ACCOUNT_SID" not in str(refused.value)
    given = Settings.from_env({**environ, "CRENEAU_PUBLIC_URL": "https://rdv.example.org/"})
    assert given.public_url == "https://rdv.example.org"
    # The console backend sends nothing out: the address it listens on does for its links.
    assert Settings.from_env({"CRENEAU_PORT": "9000"}).public_url == "http://127.0.0.1:9000"


def test_a_refusal_never_echoes_a_secret() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"CRENEAU_ADMIN_API_KEY": "crn_very_secret", "CRENEAU_PORT": "crn_very_secret"})
    assert "crn_very_secret" not in str(refused.value)


def test_an_unreadable_settings_file_is_named(tmp_path: Path) -> None:
    file = tmp_path / "broken.toml"
    file.write_text("port = = 1")
    with pytest.raises(SettingsError, match="broken.toml"):
        Settings.from_env({"CRENEAU_SETTINGS_FILE": str(file)})


def test_a_misspelt_setting_is_refused_with_the_name_it_resembles() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"CRENEAU_QUIET_HOUR": "21:00-07:00"})
    assert "CRENEAU_QUIET_HOUR: not a setting (did you mean CRENEAU_QUIET_HOURS?)" in str(refused.value)


def test_an_unknown_key_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "creneau.toml"
    file.write_text("retention_day = 30\n")
    with pytest.raises(
        SettingsError, match=r"retention_day: not a setting \(did you mean retention_days\?\)"
    ):
        Settings.from_env({"CRENEAU_SETTINGS_FILE": str(file)})


def test_the_test_suites_own_variables_are_not_settings() -> None:
    settings = Settings.from_env({"CRENEAU_TEST_POSTGRES_URL": "postgresql+asyncpg://postgres@127.0.0.1/test"})
    assert settings.database_url == "sqlite+aiosqlite:///./creneau.db"


def test_the_public_url_follows_the_host_and_port_unless_given(tmp_path: Path) -> None:
    file = tmp_path / "creneau.toml"
    file.write_text("port = 9000\n")
    assert Settings.from_env({"CRENEAU_PORT": "8200"}).public_url == "http://127.0.0.1:8200"
    assert Settings.from_env({"CRENEAU_HOST": "0.0.0.0", "CRENEAU_PORT": "8200"}).public_url == (
        "http://127.0.0.1:8200")
    assert Settings.from_env({"CRENEAU_SETTINGS_FILE": str(file)}).public_url == "http://127.0.0.1:9000"
    given = {"CRENEAU_PORT": "8200", "CRENEAU_PUBLIC_URL": "https://rdv.exemple.fr/"}
    assert Settings.from_env(given).public_url == "https://rdv.exemple.fr"
