"""`make demo` as a person runs it (here with a broker of its own, so the test touches nothing else on
the machine): it narrates the whole flow and exits 0, leaving nothing running."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def demo(folder, step_timeout: float) -> subprocess.CompletedProcess:
    (folder / "tmp").mkdir()
    return subprocess.run(
        [sys.executable, "-m", "pillpal_tools.demo", "--embedded-broker", "--step-timeout", str(step_timeout)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,  # a fresh folder: no .env, no var/
        env={**os.environ, "TMPDIR": str(folder / "tmp")},  # where the demo makes its own folder
    )


def test_the_demo_narrates_the_dose_from_reminder_to_taken_and_exits_0(tmp_path):
    done = demo(tmp_path, 60)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    steps = [
        "PillPal is up",
        "Ann registers",
        "Ann pairs pillbox",
        "hears SET_PREF_LED_OFF",
        "hears ALERT_START",
        '"should_alert": true',
        "Ann opens the lid",
        "ALERT_STOP",
        "Lisinopril: taken",
        "1 of 1 taken",
        "Done:",
        "Stopping everything",
    ]
    positions = [out.find(step) for step in steps]
    assert all(p >= 0 for p in positions), [s for s, p in zip(steps, positions, strict=True) if p < 0]
    assert positions == sorted(positions), out
    assert "embedded" in out
    assert [p.name for p in tmp_path.iterdir()] == ["tmp"]  # nothing left in the working folder
    assert not list((tmp_path / "tmp").iterdir())  # and its own folder removed


def test_a_failed_step_exits_1_with_a_clear_message(tmp_path):
    done = demo(tmp_path, 0.01)
    assert done.returncode == 1
    assert "The demo FAILED:" in done.stderr and "Logs of every process:" in done.stderr
    (kept,) = (tmp_path / "tmp").iterdir()  # kept for the logs
    assert str(kept / "log") in done.stderr
