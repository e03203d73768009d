"""The demo engagement: a handful of synthetic evidence files so a newcomer sees ingest, lists
and retrieval working at once. Nothing here is real data; the card number in the log is the
well-known Luhn-valid test number 4111 1111 1111 1111. Delete it like any engagement."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from vault.errors import VaultError
from vault.evidence.sources import Source
from vault.service import IngestOptions, Vault

DEMO_NAME = "demo"

CONFIG = b"""! core-fw-01 running configuration (synthetic demo)
hostname core-fw-01
logging host 10.20.0.15 transport tcp port 6514
ntp server 10.20.0.5 key 1
access-list CDE-IN extended permit tcp 10.30.0.0 255.255.255.0 host 10.40.0.10 eq 443
access-list CDE-IN extended deny ip any any log
ssh version 2
"""

NOTE = b"""# Interview note (synthetic demo)

Interviewee: network administrator (role only)
Date: 2026-10-02
Requirements: 1.2.1, 1.2.7

The firewall rule set is reviewed every six months; the last review was minuted and the
change tickets for removed rules were shown. Inbound traffic to the cardholder data
environment is limited to HTTPS from the web tier.
"""

LOG = b"""2026-10-01T09:14:02Z gw-02 INFO  auth request id=8f31 amount=12.50 currency=EUR
2026-10-01T09:14:03Z gw-02 DEBUG raw request pan=4111 1111 1111 1111 exp=12/29 (test card)
2026-10-01T09:14:03Z gw-02 INFO  auth response id=8f31 code=00 masked=411111******1111
"""


def _screenshot() -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (960, 300), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=22)
    lines = ["Password policy (synthetic demo)", "Minimum length: 12 characters",
             "Lockout after 10 failed attempts for 30 minutes", "MFA required for CDE access"]
    for n, line in enumerate(lines):
        draw.text((30, 30 + 55 * n), line, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _src(name: str, data: bytes | Callable[[], bytes]) -> Source:
    def opener() -> BinaryIO:
        return io.BytesIO(data() if callable(data) else data)
    return Source(name=name, size=None, open=opener)


FILES: list[tuple[str, bytes | Callable[[], bytes], IngestOptions]] = [
    ("core-fw-01-running-config.txt", CONFIG,
     IngestOptions(kind="config_export", requirements=("1.2.1", "1.2.7"), system="core-fw-01",
                   description="firewall configuration export")),
    ("interview-network-admin.md", NOTE,
     IngestOptions(kind="interview_note", requirements=("1.2.1", "1.2.7"))),
    ("gw-02-debug.log", LOG,
     IngestOptions(kind="log_export", requirements=("3.3.1", "10.2.1"), system="gw-02",
                   description="payment gateway debug log (holds a test card number)")),
    ("password-policy.png", _screenshot,
     IngestOptions(kind="screenshot", requirements=("8.3.6",), system="idp",
                   description="identity provider password settings")),
]


def ensure(vault: Vault) -> bool:
    """Create the demo engagement with its files when the vault has no engagement at all."""
    if vault.list_engagements():
        return False
    vault.create_engagement(DEMO_NAME, client="Example Payments Ltd (demo)",
                            standard="pci-dss-4.0.1")
    for name, data, opts in FILES:
        for result in vault.ingest(DEMO_NAME, [_src(name, data)], opts):
            if isinstance(result, VaultError):
                raise result
    return True
