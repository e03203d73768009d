"""Crash safety: a destruction run killed at any step and run again ends in the same state as
a run that was never interrupted (rows, store, events, certificates, a verifying audit log)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import StepClock
from tests.retention.destroykit import open_firm, scenario, snapshot
from vault.service import destruction as destroying


class Crash(Exception):
    """Stands for the process dying at a fault point (nothing after it runs)."""


def _reference(tmp_path: Path) -> dict[str, object]:
    f = open_firm(tmp_path / "ref", StepClock())
    f.clock.now = scenario(f)
    destroying.destroy_due(f.job, batch=2)
    return snapshot(f.admin)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return _reference(tmp_path_factory.mktemp("reference"))


def test_reference_run_did_every_kind_of_work(reference: dict[str, object]) -> None:
    steps = sorted({d[1] for d in reference["destruction"]})  # type: ignore[attr-defined]
    assert steps == ["done", "shredded"]                        # purged, and one locked
    assert ("engagement.destroy", "destroyed:4") in reference["events"]  # type: ignore[operator]
    assert reference["audit_ok"] is True


@pytest.mark.parametrize("occurrence", [1, 2])
@pytest.mark.parametrize("point", destroying.FAULT_POINTS)
def test_a_run_killed_at_any_step_is_continued(tmp_path: Path, reference: dict[str, object],
                                              point: str, occurrence: int) -> None:
    f = open_firm(tmp_path / "v", StepClock())
    f.clock.now = scenario(f)
    seen = 0

    def fault(at: str) -> None:
        nonlocal seen
        if at == point:
            seen += 1
            if seen == occurrence:
                raise Crash(at)
    try:
        destroying.destroy_due(f.job, batch=2, fault=fault)
    except Crash:
        pass
    else:
        assert occurrence > 1, f"the fault point {point} was never reached"
    destroying.destroy_due(f.job, batch=2)
    assert snapshot(f.admin) == reference


KILLER = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime, timedelta
    from storage_backends import LocalStore
    from vault.age import X25519Identity
    from vault.metadata.db import open_database
    from vault.service import Vault
    from vault.service import destruction

    home, now, point = sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3]
    tick = [now]
    def clock():
        tick[0] += timedelta(microseconds=1)
        return tick[0]
    engine = open_database(f"sqlite:///{home}/vault.db")
    job = X25519Identity.from_str(open(f"{home}/job.key").read())
    v = Vault(engine, LocalStore(f"{home}/objects", clock=clock), job,
              tmp_dir=__import__("pathlib").Path(home) / "tmp", clock=clock)
    def fault(at):
        if at == point:
            os.kill(os.getpid(), signal.SIGKILL)
    destruction.destroy_due(v, batch=2, fault=fault)
""")


@pytest.mark.parametrize("point", ["deleted", "tombstoned"])
def test_sigkill_mid_run_then_rerun(tmp_path: Path, reference: dict[str, object],
                                    point: str) -> None:
    """A real SIGKILL of a process between the store's deletes and their record, and between
    tombstone and the audit event: the next run (another process) finishes the job."""
    f = open_firm(tmp_path / "v", StepClock())
    now = scenario(f)
    f.admin.engine.dispose()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run([sys.executable, "-c", KILLER, str(f.home), now.isoformat(), point],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    f.clock.now = now
    destroying.destroy_due(f.job, batch=2)
    assert snapshot(f.admin) == reference
