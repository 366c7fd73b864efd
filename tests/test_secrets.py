"""A password given for the credential check never comes back out."""

from __future__ import annotations

import base64
import json
import logging

import pytest

import smtplab
from smtplab.cli import result_to_json
from smtplab.lab import Lab
from smtplab.protocol.sasl import plain_initial_response


def _forms(username: str, password: str) -> list[str]:
    return [
        password,
        base64.b64encode(password.encode()).decode(),
        plain_initial_response(username, password),
    ]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_password_in_no_channel(
    lab: Lab, lab_config: smtplab.ProbeConfig, caplog: pytest.LogCaptureFixture,
    tmp_path, mechanism: str,
) -> None:
    server = lab.servers["healthy"]
    assert server.username and server.password
    credentials = smtplab.Credentials(server.username, smtplab.Secret(server.password), mechanism)
    caplog.set_level(logging.DEBUG)

    result = smtplab.probe(server.host, ports=server.endpoints, config=lab_config,
                           credentials=credentials)

    assert (result.endpoints["auth_result"] == "accepted").all()
    channels = {
        "frames": "".join(frame.to_csv() for frame in result.frames().values()),
        "report": result.to_markdown(),
        "summary": result.summary(),
        "saved": result.save(tmp_path / "run.jsonl").read_text(),
        "json": json.dumps(result_to_json(result)),
        "logs": caplog.text,
        "reprs": repr(result) + repr(credentials) + str(credentials.password),
    }
    for form in _forms(server.username, server.password):
        for name, text in channels.items():
            assert form not in text, f"secret form found in {name}"
    assert "********" in channels["frames"]


def test_wrong_password_is_rejected_and_masked(lab: Lab, lab_config: smtplab.ProbeConfig) -> None:
    server = lab.servers["healthy"]
    assert server.username
    wrong = "not-the-password-42"
    credentials = smtplab.Credentials(server.username, smtplab.Secret(wrong), "LOGIN")

    result = smtplab.probe(server.host, ports=server.endpoints, config=lab_config,
                           credentials=credentials)

    assert (result.endpoints["auth_result"] == "rejected").all()
    assert "auth.rejected" in set(result.findings["code"])
    text = "".join(frame.to_csv() for frame in result.frames().values())
    for form in _forms(server.username, wrong):
        assert form not in text


def test_secret_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(smtplab.Secret("hunter2"))


def test_password_env_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTPLAB_TEST_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="SMTPLAB_TEST_PASSWORD is not set"):
        smtplab.Credentials.from_env("user@example.com", "SMTPLAB_TEST_PASSWORD")
