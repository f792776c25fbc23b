"""Where a worker's time goes under two of issue 21's loads: uncached one-day slots and booking.

One ``creneau serve`` process on a fresh database seeded as ``bench/targets.py`` seeds it; wrk
(64 connections) runs each load while py-spy samples the worker (``--format raw``), then
``bench/profile_summary.py`` prints where the samples went. Extra runs for reading, not measures.

Usage: ``.venv/bin/python bench/profile_targets.py [sqlite|postgresql] [--seconds 8] [--top 40]``
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import profile_summary, targets
from bench.run import RESULTS, demo_database, run_booking
from bench.scale import wait_idle
from bench.wrkrun import run_wrk
from scheduler.api.auth import new_key
from tests.support.server import start_server


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", nargs="?", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("py-spy not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return 1
    seeding = targets.parse_args([])
    wrk = {"seconds": args.seconds, "connections": seeding.connections, "threads": seeding.threads}
    RESULTS.mkdir(exist_ok=True)
    with demo_database(args.kind, "profile-targets") as (handle, folder):
        with start_server(handle, folder, admin_key=new_key(), extra_env=targets.SERVER_ENV,
                          startup_seconds=targets.STARTUP_SECONDS) as server:
            work = targets.prepare(server, handle, seeding)
        days = folder / "days.txt"
        days.write_text("".join(path + "\n" for path in work.day_paths))
        with targets.serving(handle, folder, 1) as server:
            auth = {"Authorization": f"Bearer {server.admin_key}"}
            bookable = work.bookable[0]
            run_booking(server, work.data, bookable[:200], folder, {**wrk, "seconds": 1.0})
            for phase in ("slots", "booking"):
                wait_idle(server.process.pid)
                out = RESULTS / f"profile-targets-{args.kind}-{phase}.txt"
                spy = subprocess.Popen(
                    [py_spy, "record", "--pid", str(server.process.pid), "--duration", str(int(args.seconds)),
                     "--rate", "200", "--format", "raw", "-o", str(out)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if phase == "slots":
                    run_wrk(server.base_url + work.day_paths[0], headers=auth, script=targets.LUA_PATHS,
                            script_args=[str(days), str(seeding.threads)], **wrk)
                else:
                    run_booking(server, work.data, bookable[200:], folder, wrk)
                spy.wait(timeout=120)
                print(f"\n===== {args.kind}: {phase} ({out.relative_to(ROOT)})", flush=True)
                print(profile_summary.summarize(out, args.top), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
