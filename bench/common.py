"""Helpers every benchmark shares: percentiles, machine facts, RSS, result files.

The machine is shared (2 cores, other people's tests running), so every
figure is stored with the load average seen while it was measured.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0-100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(p / 100.0 * len(ordered) + 0.5))))
    return ordered[rank - 1]


def summary_ms(seconds: Iterable[float]) -> dict[str, Any]:
    """count, p50, p95, p99, max and mean in milliseconds of latencies given in seconds."""
    values = [s * 1000.0 for s in seconds]
    out: dict[str, Any] = {"count": len(values)}
    for name, p in (("p50", 50), ("p95", 95), ("p99", 99)):
        value = percentile(values, p)
        out[name] = round(value, 1) if value is not None else None
    out["max"] = round(max(values), 1) if values else None
    out["mean"] = round(sum(values) / len(values), 1) if values else None
    return out


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages, as `uptime` prints them."""
    return [round(x, 2) for x in os.getloadavg()]


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process in MiB (VmRSS from /proc; psutil is not installed)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        return None
    return None


def machine() -> dict[str, Any]:
    """The facts a reader needs to compare figures: cores, memory, CPU model, load."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_mb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory_mb": memory_mb,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average": load_average(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "code": code_version(),
    }


def code_version() -> dict[str, Any]:
    """Which code was measured: the commit and the product files changed since it.

    The checkout is shared, so uncommitted work of others would otherwise be
    measured silently. A snapshot outside git (``git archive``) names its source
    in KEFU_BENCH_SOURCE.
    """
    import subprocess

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30)
        except OSError:
            return None
        return done.stdout.rstrip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    changed = git("status", "--porcelain", "--", "handoff", "bot", "actions", "tests/services.py", "bench")
    return {"commit": commit, "changed_files": changed.splitlines() if changed else [],
            "source": os.environ.get("KEFU_BENCH_SOURCE")}


def file_sha256(path: Path) -> str:
    """sha256 of a file (the model archive: which model was measured)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_result(name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>.json (overwritten: the latest run is what the doc quotes)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """A plain aligned text table on stdout."""
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


# ------------------------------------------------------------------ profiling (py-spy)

def py_spy() -> str | None:
    """Path of the py-spy binary in the venv (pinned in requirements.in), if installed."""
    import shutil
    import sys

    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def start_profile(pid: int, seconds: float, out: Path, rate: int = 50):
    """Sample a running process for ``seconds`` (py-spy record --pid; needs ptrace, we run as root).

    Writes collapsed stacks (``--format raw``) to ``out``; returns the Popen or None without py-spy.
    """
    import subprocess

    binary = py_spy()
    if binary is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([binary, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate",
                             str(rate), "--format", "raw", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _frame_name(frame: str) -> str:
    """'run (rasa/core/agent.py:123)' -> 'run (rasa/core/agent.py)': one name per function."""
    if " (" in frame and frame.endswith(")"):
        name, where = frame[:-1].split(" (", 1)
        where = where.rsplit(":", 1)[0]
        for marker in ("site-packages/", "/work/main/"):
            if marker in where:
                where = where.split(marker, 1)[1]
        return f"{name} ({where})"
    return frame


GENERIC = ("asyncio/", "runpy", "threading", "concurrent/", "selectors", "sanic/", "aiohttp/web", "uvloop",
           "<module>", "main (", "run (", "_bootstrap")


def _package(frame: str) -> str:
    """Top-level package of a frame's file: 'tensorflow', 'sqlalchemy', 'rasa', 'python stdlib' ..."""
    if " (" not in frame:
        return "other"
    where = frame.rsplit(" (", 1)[1].rstrip(")")
    top = where.split("/", 1)[0]
    return top if "/" in where else ("python stdlib" if where.endswith(".py") else top)


# Leaves of threads that wait for work: py-spy does not see them as idle (a blocking
# SimpleQueue.get in C), so with ``skip_idle`` they are counted apart, not as costs.
IDLE_LEAVES = ("_connection_worker_thread (aiosqlite/core.py:59)",)  # aiosqlite 0.22: tx.get()


def summarize_profile(path: Path, top: int = 15, skip_idle: bool = False) -> dict[str, Any]:
    """Share of samples per function (self, inclusive) and per package of the leaf frame.

    ``inclusive`` leaves out event-loop and thread plumbing (GENERIC) so the
    functions that do the work come first. ``skip_idle`` leaves out samples of
    threads waiting for work (IDLE_LEAVES; e.g. aiosqlite's one thread per open
    connection) and reports their number as ``idle_samples``.
    """
    total = 0
    idle = 0
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    packages: dict[str, int] = {}
    if not path.exists():
        return {"samples": 0, "self": [], "inclusive": []}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        if skip_idle and stack.endswith(IDLE_LEAVES):
            idle += count
            continue
        frames = [_frame_name(f) for f in stack.split(";") if f]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        package = _package(frames[-1])
        packages[package] = packages.get(package, 0) + count
        for name in set(frames):
            if not any(marker in name for marker in GENERIC):
                inclusive[name] = inclusive.get(name, 0) + count

    def ranked(table: dict[str, int]) -> list[dict[str, Any]]:
        return [{"function": name, "share": round(n / total, 3), "samples": n}
                for name, n in sorted(table.items(), key=lambda kv: -kv[1])[:top]]

    out = {"samples": total, "by_package": ranked(packages), "self": ranked(own), "inclusive": ranked(inclusive)}
    if skip_idle:
        out["idle_samples"] = idle
    return out
