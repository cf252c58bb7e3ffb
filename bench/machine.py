"""How busy the machine was with work other than the benchmark's own, during a measurement.

The benchmark machine is shared; a figure taken while something else ran is lower for reasons that
are not the code's. `OtherLoad` measures the CPU the whole machine spent, minus what this process,
its descendants (the system under test, wrk) and MariaDB spent; MariaDB is counted as the
benchmark's even when others query it, so the figure errs low."""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICK


def _stats() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds) for every process alive."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICK)
    return table


def _ours() -> float:
    table = _stats()
    me = os.getpid()
    children = {pid: parent for pid, (parent, _, _) in table.items()}
    mine, total = {me}, 0.0
    for pid in table:
        chain, seen = pid, set()
        while chain in children and chain not in mine and chain not in seen and chain > 1:
            seen.add(chain)
            chain = children[chain]
        if chain in mine:
            mine.add(pid)
    for pid, (_, name, cpu) in table.items():
        if pid in mine or name == "mariadbd":
            total += cpu
    fields = Path(f"/proc/{me}/stat").read_text().rsplit(")", 1)[1].split()
    return total + (int(fields[13]) + int(fields[14])) / TICK  # children already waited for (wrk)


class OtherLoad:
    """`with OtherLoad() as load: ...` then `load.cores`: the cores' worth of CPU others used."""

    def __enter__(self) -> OtherLoad:
        self.cores = 0.0
        self._start = (os.times().elapsed, _machine_busy(), _ours())
        return self

    def __exit__(self, *_exc: object) -> None:
        elapsed, busy, ours = os.times().elapsed, _machine_busy(), _ours()
        seconds = elapsed - self._start[0]
        if seconds > 0:
            self.cores = max(0.0, ((busy - self._start[1]) - (ours - self._start[2])) / seconds)
