"""``citizenbot run``: the whole assistant under one supervisor (``make run``).

Starts, all on 127.0.0.1:

- ``gateway``: ``citizenbot serve`` (this environment), the one entry point, port 8000,
  with ``--gateway-workers`` worker processes (uvicorn restarts a worker that dies);
- ``actions``: the rasa-sdk action server (``.venv-rasa``), port 5055, calling the gateway back;
- ``rasa``: ``rasa run --enable-api`` with the trained model, port 5005; with
  ``--rasa-servers N`` (scale-out settings only, see bot/rasa_endpoints.py) N of them
  on ports 5005…, sharing their conversations through PostgreSQL and Redis;

with the commands and environment of the Makefile's ``rasa-actions`` / ``rasa-serve``
targets. Every child runs in its own process group; its output is printed line by
line with its name in front. Ctrl-C or SIGTERM stops them all (SIGTERM, then
SIGKILL after a grace period), and so does any child exiting on its own. Without
the Rasa environment or model the gateway runs alone and answers without Rasa.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.rasa_endpoints import LOCK_LIFETIME_SECONDS, shares_conversations, write_endpoints
from bot.settings import REPO_ROOT, Settings

RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin"
RASA_MODEL = REPO_ROOT / "var" / "rasa" / "models" / "citizenbot.tar.gz"
GRACE_SECONDS = 20.0


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    health: str
    process: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = field(default=None, repr=False)

    def start(self, out: _Printer) -> None:
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops the children in order
        )
        self.pump = threading.Thread(target=out.pump, args=(self.name, self.process.stdout), daemon=True)
        self.pump.start()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        try:
            return httpx.get(self.health, timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def signal(self, signum: int) -> None:
        if self.running():
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):  # it exited in between
                os.killpg(self.process.pid, signum)


class _Printer:
    """Prefixes each child's lines with its name; one lock so that lines never interleave."""

    def __init__(self, width: int) -> None:
        self.width, self.lock = width, threading.Lock()

    def say(self, name: str, line: str) -> None:
        with self.lock:
            sys.stdout.write(f"{name:<{self.width}} | {line}\n")
            sys.stdout.flush()

    def pump(self, name: str, stream) -> None:  # type: ignore[no-untyped-def]
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode("utf-8", "replace").rstrip())
        stream.close()


def rasa_env(**extra: str) -> dict[str, str]:
    """The Makefile's RASA_ENV."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_MAX_CACHE_SIZE": "0",
        "RASA_CACHE_DIRECTORY": str(REPO_ROOT / "var" / "rasa" / "cache"),
        **extra,
    }


def plan(host: str, port: int, rasa_port: int, actions_port: int, with_rasa: bool,
         gateway_workers: int = 1, rasa_servers: int = 1) -> list[Child]:
    """The children to start; Rasa servers take ports rasa_port, rasa_port + 1, …"""
    gateway_url = f"http://{host}:{port}"
    rasa_urls = [f"http://{host}:{rasa_port + i}" for i in range(rasa_servers if with_rasa else 1)]
    citizenbot = Path(sys.executable).parent / "citizenbot"
    gateway = Child(
        "gateway",
        [str(citizenbot), "serve", "--host", host, "--port", str(port), "--workers", str(gateway_workers)],
        {**os.environ, "CITIZENBOT_RASA_URL": ",".join(rasa_urls), "PYTHONUNBUFFERED": "1"},
        f"{gateway_url}/health",
    )
    if not with_rasa:
        return [gateway]
    settings = Settings.from_env()
    endpoints = write_endpoints(  # one file per run (its first Rasa port): runs side by side keep their own
        settings.var_dir / "rasa" / f"endpoints.run-{rasa_port}.yml", f"http://{host}:{actions_port}/webhook", settings
    )
    actions = Child(
        "actions",
        [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions.dialogue", "--port", str(actions_port)],
        rasa_env(SANIC_HOST=host, CITIZENBOT_API_URL=gateway_url, PYTHONUNBUFFERED="1"),
        f"http://{host}:{actions_port}/health",
    )
    servers = [
        Child(
            "rasa" if rasa_servers == 1 else f"rasa-{i + 1}",
            [str(RASA_BIN / "rasa"), "run", "--enable-api", "--model", str(RASA_MODEL), "--endpoints", str(endpoints),
             "--interface", host, "--port", str(rasa_port + i)],
            rasa_env(PYTHONUNBUFFERED="1", TICKET_LOCK_LIFETIME=str(LOCK_LIFETIME_SECONDS)),
            f"{url}/status",
        )
        for i, url in enumerate(rasa_urls)
    ]
    return [gateway, actions, *servers]


class Supervisor:
    def __init__(self, children: list[Child], ready_url: str) -> None:
        self.children, self.ready_url = children, ready_url
        self.out = _Printer(max(len(c.name) for c in [*children, Child("run", [], {}, "")]))
        self.stopping = threading.Event()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.out.say("run", f"{signal.Signals(signum).name}: stopping every service…")
        self.stopping.set()

    def run(self, ready_message: str) -> int:
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        code = 0
        try:
            for child in self.children:
                self.out.say("run", f"starting {child.name}: {' '.join(child.command)}")
                child.start(self.out)
            announced = False
            while not self.stopping.wait(1.0):
                dead = [c for c in self.children if not c.running()]
                if dead:
                    for child in dead:
                        assert child.process is not None
                        self.out.say("run", f"{child.name} exited with code {child.process.returncode}")
                    code = 1
                    break
                if not announced and all(c.healthy() for c in self.children):
                    # /ready loads the model and the index: the first citizen does not wait for it.
                    try:
                        state = httpx.get(self.ready_url, timeout=300).json().get("status")
                    except (httpx.HTTPError, ValueError) as error:
                        state = repr(error)
                    self.out.say("run", f"{ready_message} — {state}")
                    announced = True
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return code

    def stop(self) -> None:
        for child in reversed(self.children):
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.out.say("run", f"{child.name} did not stop in {GRACE_SECONDS:.0f} s: killing it")
                child.signal(signal.SIGKILL)
                child.process.wait()
            if child.pump is not None:
                child.pump.join(timeout=5)
            self.out.say("run", f"{child.name} stopped")


def run(host: str = "127.0.0.1", port: int = 8000, rasa_port: int = 5005, actions_port: int = 5055,
        with_rasa: bool = True, gateway_workers: int = 1, rasa_servers: int = 1) -> int:
    missing = [str(p) for p in (RASA_BIN / "rasa", RASA_MODEL) if not p.exists()]
    if with_rasa and missing:
        print(
            f"Rasa is not set up ({', '.join(missing)} missing; `make setup` builds it): "
            "the gateway runs alone and answers without the dialogue.",
            file=sys.stderr,
        )
        with_rasa = False
    if rasa_servers > 1 and not shares_conversations(Settings.from_env()):
        print(
            "Several Rasa servers need a shared tracker and lock store: set CITIZENBOT_DATABASE_URL to a "
            "PostgreSQL database and CITIZENBOT_REDIS_URL (see the README's scale-out section).",
            file=sys.stderr,
        )
        return 2
    children = plan(host, port, rasa_port, actions_port, with_rasa, gateway_workers, rasa_servers)
    message = f"Trợ lý đã sẵn sàng tại http://{host}:{port} (Ctrl-C để dừng)"
    return Supervisor(children, f"http://{host}:{port}/ready").run(message)
