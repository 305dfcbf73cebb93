"""Opt-in message signing: with DIALER_SECURITY_* set, a worker runs only signed tasks.

A real worker with signing on is sent three ``enqueue_campaign`` messages on
the same queue, in order: an unsigned one (plain JSON, as any process on the
broker can send), one signed by a key whose certificate the worker does not
trust, and one signed by the deployment's key. Only the last creates a
campaign; the other two are refused and gone from the queue (not retried).
That campaign then runs to completion on signed ticks, dials and results.
The senders are separate processes: Celery's signing setup is process-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.support.broker import message_counts
from tests.support.scenario import MONDAY_9AM_NY, campaign_spec, ny_contacts, status_of
from tests.support.stack import ROOT, wait_for

pytestmark = pytest.mark.integration

# What another service does to sign its tasks (docs/deployment.md, "Message signing").
SIGNED_SENDER = """
import json, sys
from celery import Celery
broker, key, cert, store, task, task_id, kwargs = sys.argv[1:]
app = Celery(broker=broker, set_as_current=False)
app.conf.update(task_serializer="auth", accept_content=["auth"], security_key=key,
                security_certificate=cert, security_cert_store=store)
app.setup_security(allowed_serializers=["json"])
app.send_task(task, kwargs=json.loads(kwargs), queue="dialer.control", task_id=task_id)
app.close()
"""


def throwaway_identity(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA key and a self-signed certificate valid for a day: (key, cert).

    The certificate goes in ``directory/name/`` alone: that directory is a
    certificate store (Celery reads every file of it as a certificate)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (directory / name).mkdir()
    key_path, cert_path = directory / f"{name}.key", directory / name / f"{name}.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def request(name: str) -> dict:
    spec = campaign_spec(None, name=name)
    spec.pop("audience_id")
    return {"spec": spec, "contacts": ny_contacts([["answered"]])}


def send_signed(broker: str, key: Path, cert: Path, store: Path, task_id: str,
                kwargs: dict, task: str = "dialer.enqueue_campaign") -> None:
    subprocess.run([sys.executable, "-c", SIGNED_SENDER, broker, str(key), str(cert),
                    str(store), task, task_id, json.dumps(kwargs)],
                   cwd=ROOT, check=True, timeout=60)


def test_a_signing_worker_refuses_unsigned_and_untrusted_tasks(make_stack, redis_url, tmp_path):
    key, cert = throwaway_identity(tmp_path, "dialer")
    store = cert.parent
    stranger_key, stranger_cert = throwaway_identity(tmp_path, "stranger")
    stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=60, extra_env={
        "DIALER_SECURITY_KEY": str(key), "DIALER_SECURITY_CERT": str(cert),
        "DIALER_SECURITY_CERT_STORE": str(store)})
    worker = stack.start_worker(concurrency=1)
    broker = stack.env["DIALER_BROKER_URL"]

    plain = Celery(broker=broker, set_as_current=False)
    plain.send_task("dialer.enqueue_campaign", kwargs=request("unsigned"),
                    queue="dialer.control", task_id="unsigned-request")
    plain.close()
    send_signed(broker, stranger_key, stranger_cert, stranger_cert.parent, "untrusted-request",
                request("untrusted"))
    send_signed(broker, key, cert, store, "signed-request", request("signed"))

    client = stack.client()
    # One queue, one process: the signed request, sent last, is taken last.
    wait_for(lambda: client.list(), timeout_s=30, what="the signed request served")
    assert [c.name for c in client.list()] == ["signed"]
    assert message_counts(broker)["dialer.control"] == 0
    # Refused before decoding, by Celery's own checks (the unsigned body names
    # no certificate; the stranger's certificate is not in the store).
    log = Path(worker.log_path).read_text()
    assert "Refusing to deserialize untrusted content of type json" in log, log[-3000:]
    assert any("Unknown certificate" in line and "'untrusted-request'" in line
               for line in log.splitlines()), log[-3000:]
    assert "enqueue_campaign[unsigned-request]" not in log
    assert "enqueue_campaign[untrusted-request]" not in log

    # The dialer's own traffic is signed too: beat's ticks, the dials and the
    # provider's results all pass the worker's check, and the campaign runs.
    [campaign] = client.list()
    stack.start_beat()
    send_signed(broker, key, cert, store, "signed-start",
                {"campaign_id": campaign.id, "command": "start"}, task="dialer.campaign_command")
    wait_for(lambda: status_of(client, campaign.id) == "completed", timeout_s=60,
             what="the signed campaign completed")
    assert client.get(campaign.id).metrics.outcomes == {"answered": 1}
