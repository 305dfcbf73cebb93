"""Message signing is all or nothing: a partial DIALER_SECURITY_* set fails at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dialer.settings import Settings


def test_signing_is_off_unless_configured() -> None:
    assert not Settings(security_key=None, security_cert=None,
                        security_cert_store=None).signing_enabled


def test_all_three_turn_it_on() -> None:
    settings = Settings(security_key="/k.pem", security_cert="/c.pem", security_cert_store="/s")
    assert settings.signing_enabled


def test_a_partial_configuration_names_what_is_missing() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(security_key="/k.pem", security_cert=None, security_cert_store=None)
    assert "DIALER_SECURITY_CERT, DIALER_SECURITY_CERT_STORE not set" in str(error.value)
