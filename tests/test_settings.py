from __future__ import annotations

import pytest

from silentpartner.logs import mask
from silentpartner.settings import ConfigError, load_settings


def test_defaults_need_no_keys() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///./silentpartner.db"
    assert settings.calcom_api_url == "https://api.cal.com"
    assert settings.openai_realtime_model == "gpt-realtime-2.1-mini"
    assert settings.calcom_api_key is None and settings.twilio_account_sid is None


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://sp.example.com/")
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db:5432/sp")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings(_env_file=None)
    assert settings.public_url == "https://sp.example.com"
    assert settings.public_ws_base == "wss://sp.example.com"
    assert settings.database_url == "postgresql+asyncpg://app@db:5432/sp"
    assert settings.is_postgres
    assert settings.log_level == "DEBUG"


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("OPENAI_CHAT_MODEL=my-model\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().openai_chat_model == "my-model"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PUBLIC_URL", "not a url", "PUBLIC_URL: expected an http(s) URL"),
        ("DATABASE_URL", "mysql://root@db/x", "DATABASE_URL: expected sqlite+aiosqlite"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: expected one of DEBUG"),
        ("MAX_BODY_BYTES", "-1", "MAX_BODY_BYTES:"),
        ("CALCOM_EVENT_TYPE_ID", "abc", "CALCOM_EVENT_TYPE_ID:"),
        ("TWILIO_API_URL", "ftp://x", "TWILIO_API_URL: expected an http(s) URL"),
        ("CALL_HEARTBEAT_SECONDS", "0", "CALL_HEARTBEAT_SECONDS:"),
        ("SPEECH_WORKERS", "0", "SPEECH_WORKERS:"),
        ("SPEECH_STT_WINDOW", "half", "SPEECH_STT_WINDOW:"),
        (
            "CALL_STALE_AFTER_SECONDS",
            "6",
            "CALL_STALE_AFTER_SECONDS: expected at least twice CALL_HEARTBEAT_SECONDS (5)",
        ),
    ],
)
def test_a_bad_value_fails_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALCOM_API_KEY", "cal_live_supersecret")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-token-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    settings = load_settings(_env_file=None)
    text = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in ("cal_live_supersecret", "twilio-token-secret", "sk-secret"):
        assert secret not in text
    assert settings.secret("calcom_api_key") == "cal_live_supersecret"


def test_logs_mask_phone_numbers_and_addresses() -> None:
    masked = mask("caller +15035551234 at 123 Main Street said (503) 555-9876")
    assert "5551234" not in masked and "555-9876" not in masked and "Main Street" not in masked
    assert "***1234" in masked and "***9876" in masked


@pytest.mark.parametrize(
    ("public_url", "allowed"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("https://sp.example.com", False),
        ("http://10.0.0.5:8000", False),
        ("http://127.0.0.1.example.com", False),
    ],
)
def test_unsigned_twilio_webhooks_are_only_allowed_on_this_machine(
    monkeypatch: pytest.MonkeyPatch, public_url: str, allowed: bool
) -> None:
    monkeypatch.setenv("PUBLIC_URL", public_url)
    monkeypatch.setenv("TWILIO_ALLOW_UNSIGNED", "true")
    if allowed:
        assert load_settings(_env_file=None).twilio_signing == "unsigned-allowed"
        return
    with pytest.raises(ConfigError, match=r"^TWILIO_ALLOW_UNSIGNED: only allowed when PUBLIC_URL is this machine"):
        load_settings(_env_file=None)


def test_without_a_token_twilio_webhooks_are_refused_and_with_one_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(_env_file=None).twilio_signing == "refused"
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok")
    monkeypatch.setenv("TWILIO_ALLOW_UNSIGNED", "true")
    assert load_settings(_env_file=None).twilio_signing == "checked"  # a token always wins


def test_extra_fields_reach_the_json_log_masked() -> None:
    """`log.warning("tool.timeout", extra={...})` used to lose its fields: the tool and the call id."""
    import json
    import logging

    from silentpartner.logs import JsonFormatter, log_event

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tests.extra_fields")
    logger.addHandler(Keep())
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.warning("tool.timeout", extra={"tool": "book", "call_id": "CA1", "caller": "+15035551234"})
    log_event(logger, "call.started", sid="CA2", attempts=2)
    first, second = (json.loads(JsonFormatter().format(r)) for r in records)
    assert (first["event"], first["tool"], first["call_id"], first["caller"]) == (
        "tool.timeout",
        "book",
        "CA1",
        "***1234",
    )
    assert (second["sid"], second["attempts"]) == ("CA2", 2) and "fields" not in second
