"""Which kind of evidence a file is, guessed from its content when the person ingesting it
named none: screenshots and documents by their type, log exports by their timestamped lines,
configuration exports by the statements devices and services write."""

from __future__ import annotations

import re

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"                  # ISO 8601, most exports
    r"|\d{4}/\d{2}/\d{2}[ T]\d{2}:\d{2}"                  # 2026/03/01 12:00
    r"|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}"           # syslog: Mar  1 12:00:00
    r"|\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}"       # web servers: 01/Mar/2026:12:00:00
    r"|\d{2}[./-]\d{2}[./-]\d{4}[ T]\d{2}:\d{2}"          # 01.03.2026 12:00
    r"|\b1[5-9]\d{8}(?:\.\d+)?\b")                        # epoch seconds
_CONFIG = re.compile(
    r"^(?:hostname |interface |ip (?:route|access-list|address) |access-list |"
    r"router (?:bgp|ospf) |line (?:vty|con) |snmp-server |logging |ntp server |aaa |"
    r"username \S+ (?:privilege|secret|password)|enable secret |crypto |service |"
    r"set (?:system|interfaces|firewall|security|policy) |config (?:system|firewall) |"
    r"-A (?:INPUT|OUTPUT|FORWARD) |\*filter$|:INPUT |"
    r"PermitRootLogin |PasswordAuthentication |Protocol |Ciphers |MACs |"
    r"server_name |listen \d|ssl_protocols |ssl_ciphers |<VirtualHost|SSLProtocol |"
    r"\[[A-Za-z0-9_.-]+\]$|!$)")
_LINES = 200


def guess_kind(mime: str, head: bytes = b"") -> str:
    """A kind for a file of this detected type and these first bytes."""
    if mime.startswith("image/"):
        return "screenshot"
    if mime in ("application/pdf", "application/msword") or "officedocument" in mime \
            or "opendocument" in mime:
        return "document"
    if not (mime.startswith("text/") or mime in ("application/json", "application/xml")):
        return "other"
    cut = -1  # the first _LINES lines end before the _LINES-th newline byte: decode no more
    for _ in range(_LINES):
        cut = head.find(b"\n", cut + 1)
        if cut < 0:
            break
    text = head[:cut] if cut >= 0 else head
    lines = [line.strip("\r") for line in
             text.decode("utf-8", errors="replace").splitlines()[:_LINES] if line.strip()]
    if len(lines) >= 3:
        stamped = sum(1 for line in lines if _TIMESTAMP.search(line[:48]))
        if stamped * 10 >= len(lines) * 6:
            return "log_export"
        statements = sum(1 for line in lines if _CONFIG.match(line.strip()))
        if statements >= 3 and statements * 10 >= len(lines) * 2:
            return "config_export"
    return "other"
