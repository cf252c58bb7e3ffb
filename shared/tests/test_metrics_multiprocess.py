"""/metrics under PROMETHEUS_MULTIPROC_DIR: what one process of a service counts (the MQTT worker) shows
in another's exposition (a gunicorn worker), and each process writes files named by host and pid."""

import socket
import subprocess
import sys

WORKER = """
from pillpal_shared.metrics import EVENTS_IN, OUTBOX_LAG
EVENTS_IN.labels("meds").inc(3)
OUTBOX_LAG.set(0.5)
"""
WEB = """
import sys
from pillpal_shared.metrics import exposition
sys.stdout.write(exposition()[0].decode())
"""


def run(code: str, directory) -> str:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout


def test_a_workers_counters_show_in_another_process_exposition(tmp_path):
    run(WORKER, tmp_path)
    run(WORKER, tmp_path)
    text = run(WEB, tmp_path)
    assert 'pillpal_events_in_total{kind="meds"} 6.0' in text
    assert "pillpal_outbox_lag_seconds 0.5" in text
    host = socket.gethostname().replace("_", "-")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names and all(f"_{host}-" in name for name in names), names
    assert len({name.rsplit("-", 1)[1] for name in names if name.startswith("counter_")}) == 2  # one per process
