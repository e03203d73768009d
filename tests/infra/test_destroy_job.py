"""The destruction job's deployment files (infra/systemd, infra/cron, infra/kubernetes): they
are valid for their tools, run `vault destroy --due`, and confine the job as the issue asks (its
own user, read-only file system but its state, no network but the store and the database, no
privileges, never two runs at once on one machine)."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

INFRA = Path(__file__).resolve().parents[2] / "infra"
SERVICE = INFRA / "systemd" / "evidence-vault-destroy.service"
TIMER = INFRA / "systemd" / "evidence-vault-destroy.timer"
CRON = INFRA / "cron" / "evidence-vault-destroy"
CRONJOB = INFRA / "kubernetes" / "destroy-cronjob.yaml"
VAULT_BIN = "/opt/evidence-vault/bin/vault"


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as section -> key -> every value given (keys may repeat)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out.setdefault(section, {})
            continue
        key, _, value = line.partition("=")
        out[section].setdefault(key, []).append(value)
    return out


def one(u: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    [value] = u[section][key]
    return value


# -- systemd -----------------------------------------------------------------------------------

@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """The unit pair with ExecStart pointing at this checkout's `vault` (verify checks that the
    command exists)."""
    vault = Path(sys.executable).with_name("vault")
    assert vault.exists(), f"{vault} missing: install the package (make test does)"
    (tmp_path / SERVICE.name).write_text(
        SERVICE.read_text(encoding="utf-8").replace(VAULT_BIN, str(vault)), encoding="utf-8")
    shutil.copy(TIMER, tmp_path / TIMER.name)
    return tmp_path


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed (Debian: the systemd package); the unit "
                    "files' contents are still checked by the other tests")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_systemd_analyze_verifies_both_units_without_a_warning(installed: Path) -> None:
    done = _analyze("verify", str(installed / SERVICE.name), str(installed / TIMER.name))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr   # unknown keys are only warnings: none


def test_systemd_rates_the_service_well_confined(installed: Path) -> None:
    done = _analyze("security", "--offline=yes", str(installed / SERVICE.name))
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert m, done.stdout + done.stderr
    assert float(m.group(1)) <= 2.0, done.stdout     # "OK" is below 2.0 on systemd's scale


def test_service_runs_the_job_confined() -> None:
    s = unit(SERVICE)["Service"]
    assert one({"S": s}, "S", "Type") == "oneshot"   # a timer never starts a second run
    assert shlex.split(one({"S": s}, "S", "ExecStart")) == [VAULT_BIN, "destroy", "--due",
                                                           "--json"]
    flags = {k: v[-1] for k, v in s.items()}
    assert flags["DynamicUser"] == "yes" and "User" not in flags
    for key in ("NoNewPrivileges", "PrivateTmp", "PrivateDevices", "ProtectHome",
                "RestrictSUIDSGID", "ProtectKernelTunables", "ProtectKernelModules",
                "ProtectControlGroups", "LockPersonality"):
        assert flags[key] == "yes", key
    assert flags["ProtectSystem"] == "strict"
    assert s["ReadWritePaths"] == ["%S/evidence-vault-destroy"]
    assert flags["StateDirectory"] == "evidence-vault-destroy"
    assert flags["CapabilityBoundingSet"] == "" and flags["AmbientCapabilities"] == ""
    assert s["SystemCallFilter"][0] == "@system-service"
    assert s["IPAddressDeny"] == ["any"]
    allowed = s["IPAddressAllow"]
    assert allowed and all(a.startswith("192.0.2.") for a in allowed)  # documented placeholders
    assert "placeholder" in SERVICE.read_text(encoding="utf-8").lower()
    # secrets never in the unit: the identity is a credential, the rest an environment file
    assert flags["LoadCredential"].startswith("identity.age:/etc/evidence-vault/")
    assert flags["EnvironmentFile"] == "/etc/evidence-vault/destroy.env"
    assert "VAULT_PASSPHRASE" not in "".join(v for vs in s.values() for v in vs)


def test_timer_runs_daily_and_catches_up() -> None:
    t = unit(TIMER)
    assert one(t, "Timer", "OnCalendar").startswith("*-*-* ")
    assert one(t, "Timer", "Persistent") == "true"
    assert one(t, "Timer", "Unit") == SERVICE.name
    assert one(t, "Install", "WantedBy") == "timers.target"


# -- cron --------------------------------------------------------------------------------------

def test_cron_line_runs_the_job_once_at_a_time_as_its_own_user() -> None:
    lines = [ln for ln in CRON.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    env = dict(ln.split("=", 1) for ln in lines if re.match(r"^[A-Z_]+=", ln))
    assert env["CRON_TZ"] == "UTC" and env["SHELL"] == "/bin/sh"
    [job] = [ln for ln in lines if not re.match(r"^[A-Z_]+=", ln)]
    fields = job.split(None, 6)
    minute, hour, dom, month, dow, user, command = fields
    assert minute.isdigit() and hour.isdigit() and (dom, month, dow) == ("*", "*", "*")
    assert user == "evidence-vault"                    # /etc/cron.d format: a user, not root
    argv = shlex.split(command.split(">>")[0])
    assert argv[:3] == ["/usr/bin/flock", "-n", "/var/lib/evidence-vault/destroy.lock"]
    inner = argv[argv.index("-c") + 1]
    assert f"exec {VAULT_BIN} destroy --due --json" in inner
    assert ". /etc/evidence-vault/destroy.env" in inner


# -- Kubernetes --------------------------------------------------------------------------------

def _docs() -> dict[str, dict[str, Any]]:
    docs = list(yaml.safe_load_all(CRONJOB.read_text(encoding="utf-8")))
    return {d["kind"]: d for d in docs}


def test_cronjob_forbids_overlap_and_runs_the_job() -> None:
    cj = _docs()["CronJob"]
    assert cj["apiVersion"] == "batch/v1"
    spec = cj["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert len(spec["schedule"].split()) == 5 and spec["timeZone"] == "Etc/UTC"
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] >= 1                    # a killed run is continued
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    [c] = pod["containers"]
    assert c["command"] + c["args"] == ["vault", "destroy", "--due", "--json"]
    env = {e["name"]: e for e in c["env"]}
    for secret in ("VAULT_PASSPHRASE", "VAULT_DB_URL"):
        assert "value" not in env[secret] and env[secret]["valueFrom"]["secretKeyRef"]


def test_cronjob_pod_is_non_root_read_only_and_without_privileges() -> None:
    pod = _docs()["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    [c] = pod["containers"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    home = {e["name"]: e.get("value") for e in c["env"]}["VAULT_HOME"]
    assert home in mounts and "/tmp" in mounts       # the only writable places
    identity = {e["name"]: e.get("value") for e in c["env"]}["VAULT_IDENTITY"]
    assert any(identity.startswith(p) and m.get("readOnly") for p, m in mounts.items())


def test_network_policy_allows_only_dns_database_and_store() -> None:
    np = _docs()["NetworkPolicy"]["spec"]
    cj = _docs()["CronJob"]
    labels = cj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert np["podSelector"]["matchLabels"].items() <= labels.items()
    assert set(np["policyTypes"]) == {"Ingress", "Egress"} and np["ingress"] == []
    ports = sorted(p["port"] for rule in np["egress"] for p in rule["ports"])
    assert ports == [53, 53, 443, 5432]
    blocks = [t["ipBlock"]["cidr"] for rule in np["egress"] for t in rule["to"]
              if "ipBlock" in t]
    assert blocks and all(b.startswith("192.0.2.") for b in blocks)   # placeholders


def test_configparser_reads_the_units() -> None:
    """Also well-formed INI for tools that read units so (no stray lines)."""
    for path in (SERVICE, TIMER):
        cp = configparser.RawConfigParser(strict=False)
        cp.optionxform = str  # type: ignore[assignment,method-assign]
        cp.read(path, encoding="utf-8")
        assert cp.sections()
