"""`citizenbot run` restarts a service that dies, and gives up on one that keeps dying.

The restarts are watched on the real supervisor (`citizenbot run`, its own process) with real
children killed by SIGKILL, as on a crash.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from conftest import REAL_SETTINGS
from processes import CITIZENBOT, ROOT, chat, free_port, knowledge_copy, require_rasa, wait_for

from bot.supervisor import Child, RestartPolicy, Supervisor

READY = "Trợ lý đã sẵn sàng"
DOSSIER, CHECK = "000.00.21.H48-261117-0005", "8908"  # from tests/fixtures/dossiers.json


class Supervised:
    """`citizenbot run …` in its own session, its output kept line by line."""

    def __init__(self, arguments: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(CITIZENBOT), "run", *arguments], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            self.lines.append(raw.decode("utf-8", "replace").rstrip())

    def wait_for(self, pattern: str, seconds: float, after: int = 0) -> re.Match[str]:
        """The first line from number `after` on matching `pattern`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if found := re.search(pattern, line):
                    return found
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"no line matching {pattern!r} after {seconds:.0f} s:\n" + "\n".join(self.lines[-60:]))

    def pid(self, name: str, after: int = 0) -> int:
        return int(self.wait_for(rf"(?:started|restarted) {re.escape(name)} \(pid (\d+)\)", 30, after)[1])

    def stop(self) -> int:
        """SIGTERM, as systemd or Ctrl-C would: every service stops and the supervisor exits."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise
        finally:
            self.reader.join(10)


@contextmanager
def supervised(arguments: list[str], env: dict[str, str]) -> Iterator[Supervised]:
    run = Supervised(arguments, env)
    try:
        yield run
    finally:
        code = run.stop()
    assert code == 0, "\n".join(run.lines[-40:])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def answered(gateway: str) -> bool:
    try:
        response = httpx.post(f"{gateway}/api/ask", json={"question": "làm tạm trú cần giấy tờ gì"}, timeout=60)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json()["kind"] == "answer"


def gateway_processes(master: int) -> list[int]:
    """The uvicorn master and its workers (every process of its group)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == master and fields[0] != "Z":  # the process group, not zombies
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_a_gateway_killed_with_sigkill_is_restarted_and_answers_again(tmp_path: Path) -> None:
    env = {**knowledge_copy(tmp_path), "CITIZENBOT_RATE_LIMIT_CLIENT": "100000/60"}
    port = free_port()
    gateway = f"http://127.0.0.1:{port}"
    # Two workers: killing the uvicorn master orphans them, and they would keep the port taken.
    arguments = ["--no-rasa", "--port", str(port), "--rasa-port", str(free_port()), "--gateway-workers", "2"]
    with supervised(arguments, env) as run:
        run.wait_for(READY, 300)
        first = run.pid("gateway")
        workers = [p for p in gateway_processes(first) if p != first]  # and multiprocessing's resource tracker
        assert len(workers) >= 2 and answered(gateway)

        seen = len(run.lines)
        os.kill(first, signal.SIGKILL)
        run.wait_for(r"gateway died unexpectedly \(killed by SIGKILL\): restarting it in 1 s", 10, seen)
        second = run.pid("gateway", seen)
        run.wait_for("gateway is serving again", 120, seen)
        wait_for(lambda: answered(gateway), 120, "an answer from the restarted gateway")
        assert second != first and not any(alive(p) for p in [first, *workers])
    assert run.lines[-1].endswith("gateway stopped")
    assert not gateway_processes(second), "a gateway process outlived the supervisor"


@pytest.mark.slow
def test_the_action_server_and_the_rasa_server_killed_come_back_and_dossier_lookups_work_again(
    tmp_path: Path,
) -> None:
    require_rasa()
    # Its own var folder: the run's Rasa endpoints file goes there, not into the project's var/.
    env = {
        **knowledge_copy(tmp_path), "CITIZENBOT_VAR_DIR": str(tmp_path), "CITIZENBOT_RATE_LIMIT_CLIENT": "100000/60",
        "CITIZENBOT_INDEX_DIR": str(REAL_SETTINGS.index_dir), "CITIZENBOT_MODEL_DIR": str(REAL_SETTINGS.model_dir),
    }
    port, rasa_port, actions_port = free_port(), free_port(), free_port()
    gateway = f"http://127.0.0.1:{port}"
    arguments = ["--port", str(port), "--rasa-port", str(rasa_port), "--actions-port", str(actions_port)]
    with supervised(arguments, env) as run:
        run.wait_for(READY, 600)
        killed = {name: run.pid(name) for name in ("actions", "rasa")}
        seen = len(run.lines)
        for pid in killed.values():
            os.kill(pid, signal.SIGKILL)
        for name, pid in killed.items():
            run.wait_for(rf"{name} died unexpectedly \(killed by SIGKILL\): restarting it in 1 s", 10, seen)
            run.wait_for(f"{name} is serving again", 300, seen)
            assert run.pid(name, seen) != pid and not alive(pid)

        first = chat(gateway, "cho mình hỏi hồ sơ của mình đến đâu rồi")
        assert first["kind"] == "dossier_form" and first["route"] == "rasa", first
        chat(gateway, DOSSIER, first["conversation_id"])
        status = chat(gateway, CHECK, first["conversation_id"])  # the action server looks the dossier up
        assert status["kind"] == "dossier" and DOSSIER in status["text"], status


def test_a_service_that_keeps_dying_stops_everything_with_a_clear_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    python = sys.executable
    closed = f"http://127.0.0.1:{free_port()}"  # nothing answers: never ready
    broken = Child("broken", [python, "-c", "print('port 8000 taken'); raise SystemExit(3)"], {**os.environ}, closed)
    steady = Child("steady", [python, "-c", "import time; time.sleep(600)"], {**os.environ}, closed)
    assert [RestartPolicy().delay(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 8]  # what `citizenbot run` waits
    policy = replace(RestartPolicy(), first_delay=0.1, max_delay=0.4)  # 5 deaths within 60 s, quicker
    started = time.monotonic()
    code = Supervisor([steady, broken], f"{closed}/ready", policy).run("ready")

    out = capsys.readouterr().out
    assert code == 1 and time.monotonic() - started < 30
    assert out.count("broken | port 8000 taken") == 5  # its own output, five times
    assert "broken died unexpectedly (exit code 3): restarting it in 0.1 s" in out
    assert "restarting it in 0.4 s" in out
    assert "broken died 5 times within 60 s (last: exit code 3)" in out and "stopping every service" in out
    assert steady.process is not None and steady.process.returncode == -signal.SIGTERM
    assert "steady stopped" in out
