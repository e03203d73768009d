"""Kinds guessed from content, as the README promises (log exports, configuration exports)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ingest_one
from vault.evidence.kinds import guess_kind
from vault.service import Vault

LOGS = {
    "iso": "2026-03-01T12:00:01Z auth ok terminal=T1\n2026-03-01T12:00:02Z settle batch=7\n"
           "2026-03-01T12:00:03Z auth declined\n2026-03-01T12:00:04Z heartbeat\n",
    "syslog": "Mar  1 12:00:01 fw01 kernel: DROP IN=eth0 SRC=10.0.0.5\n"
              "Mar  1 12:00:02 fw01 sshd[201]: Accepted publickey for ops\n"
              "Mar  1 12:00:05 fw01 sshd[201]: session opened\n",
    "apache": '10.0.0.9 - - [01/Mar/2026:12:00:01 +0000] "GET / HTTP/1.1" 200 512\n'
              '10.0.0.9 - - [01/Mar/2026:12:00:02 +0000] "GET /pay HTTP/1.1" 302 0\n'
              '10.0.0.7 - - [01/Mar/2026:12:00:03 +0000] "POST /api HTTP/1.1" 201 88\n',
    "csv with time": "time,terminal,result\n2026-03-01 12:00:01,T1,ok\n"
                     "2026-03-01 12:00:02,T2,ok\n2026-03-01 12:00:03,T1,declined\n",
}
CONFIGS = {
    "cisco": "!\nhostname core-fw\n!\ninterface GigabitEthernet0/1\n ip address 10.0.0.1 "
             "255.255.255.0\n!\naccess-list 101 permit tcp any host 10.0.0.5 eq 443\n"
             "snmp-server community s3cret RO\nline vty 0 4\n transport input ssh\n",
    "junos": "set system host-name edge1\nset interfaces ge-0/0/0 unit 0 family inet address "
             "10.1.1.1/24\nset security policies from-zone trust to-zone untrust\n"
             "set system services ssh\n",
    "iptables": "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n-A INPUT -p tcp --dport 22 "
                "-j ACCEPT\n-A INPUT -m state --state ESTABLISHED -j ACCEPT\nCOMMIT\n",
    "sshd": "Port 22\nProtocol 2\nPermitRootLogin no\nPasswordAuthentication no\n"
            "Ciphers aes256-gcm@openssh.com\nMACs hmac-sha2-512\n",
}
OTHERS = {
    "note": "# Interview note\n\nThe admin reviews the firewall rules twice a year.\n"
            "Changes go through the CAB.\n",
    "list": "sampled systems:\nweb01\nweb02\ndb01\n",
}


@pytest.mark.parametrize("name", list(LOGS))
def test_timestamped_lines_are_a_log_export(name: str) -> None:
    assert guess_kind("text/plain", LOGS[name].encode()) == "log_export"


@pytest.mark.parametrize("name", list(CONFIGS))
def test_device_and_service_configurations_are_a_config_export(name: str) -> None:
    assert guess_kind("text/plain", CONFIGS[name].encode()) == "config_export"


@pytest.mark.parametrize("name", list(OTHERS))
def test_prose_and_lists_stay_other(name: str) -> None:
    assert guess_kind("text/plain", OTHERS[name].encode()) == "other"


def test_types_decide_first() -> None:
    assert guess_kind("image/png", b"") == "screenshot"
    assert guess_kind("application/pdf", LOGS["iso"].encode()) == "document"
    assert guess_kind("application/octet-stream", LOGS["iso"].encode()) == "other"


def test_ingest_guesses_when_no_kind_is_given(vault: Vault, engagement: str) -> None:
    log = ingest_one(vault, engagement, "gw.txt", LOGS["syslog"].encode())
    cfg = ingest_one(vault, engagement, "core-fw.txt", CONFIGS["cisco"].encode())
    named = ingest_one(vault, engagement, "x.txt", LOGS["iso"].encode(), kind="other")
    assert (log.view.item.kind, cfg.view.item.kind, named.view.item.kind) == (
        "log_export", "config_export", "other")


def _kind_by_definition(mime: str, head: bytes) -> str:
    """guess_kind as first written: every line of the head decoded, the first 200 judged."""
    from vault.evidence import kinds
    if not mime.startswith("text/"):
        return guess_kind(mime, head)
    lines = [line.strip("\r") for line in head.decode("utf-8", errors="replace").splitlines()
             [:kinds._LINES] if line.strip()]
    if len(lines) >= 3:
        stamped = sum(1 for line in lines if kinds._TIMESTAMP.search(line[:48]))
        if stamped * 10 >= len(lines) * 6:
            return "log_export"
        statements = sum(1 for line in lines if kinds._CONFIG.match(line.strip()))
        if statements >= 3 and statements * 10 >= len(lines) * 2:
            return "config_export"
    return "other"


_MIXED = st.lists(st.sampled_from([
    "2026-12-07T10:00:00Z sw-01 login accepted", "hostname core-sw-1", "interface vlan10",
    "plain words", "", "  ", "Mar  1 12:00:00 fw1 deny", "!", "caf\u00e9 \u2028 sep",
    "\r", "x\x0bvertical tab", "\x85next line"]), max_size=450)


@settings(max_examples=200, deadline=None)
@given(_MIXED, st.sampled_from(["\n", "\r\n"]))
def test_only_the_first_200_lines_are_read_with_the_same_answer(lines: list[str],
                                                                 eol: str) -> None:
    head = eol.join(lines).encode()
    assert guess_kind("text/plain", head) == _kind_by_definition("text/plain", head)
