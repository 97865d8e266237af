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
line with its name in front. A child that dies on its own is restarted after a
short pause (1 s, then 2, 4, 8 s while it keeps dying), with a line naming it;
one that dies 5 times within a minute is not going to start, and the supervisor
then stops everything and says which one. Ctrl-C or SIGTERM stops them all
(SIGTERM, then SIGKILL after a grace period). Without the Rasa environment or
model the gateway runs alone and answers without Rasa.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.rasa_endpoints import LOCK_LIFETIME_SECONDS, shares_conversations, write_endpoints
from bot.settings import REPO_ROOT, Settings

RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin"
RASA_MODEL = REPO_ROOT / "var" / "rasa" / "models" / "citizenbot.tar.gz"
GRACE_SECONDS = 20.0
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class RestartPolicy:
    """A child that exits on its own is started again after `first_delay` seconds, doubled at each
    exit within `window` seconds up to `max_delay`; at `max_exits` exits within `window` it cannot
    start (a missing file, a port taken, a broken model) and the supervisor gives up."""

    max_exits: int = 5
    window: float = 60.0
    first_delay: float = 1.0
    max_delay: float = 8.0

    def delay(self, recent_exits: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** (recent_exits - 1))


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    health: str
    process: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = field(default=None, repr=False)
    exits: deque[float] = field(default_factory=deque, repr=False)  # when it exited on its own, recent ones
    restart_at: float | None = None  # set while it waits to be started again
    recovering: bool = False  # started again, not answering its health check yet

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

    def kill_leftovers(self) -> None:
        """After the child itself died: what it started (uvicorn's workers) would keep its port taken."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):  # none left
                os.killpg(self.process.pid, signal.SIGKILL)


def exit_reason(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


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
    def __init__(self, children: list[Child], ready_url: str, policy: RestartPolicy = RestartPolicy()) -> None:
        self.children, self.ready_url, self.policy = children, ready_url, policy
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
                self._start(child, "started")
            announced = False
            while not self.stopping.wait(POLL_SECONDS):
                if not self._restart_dead():
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
                for child in self.children:
                    if child.recovering and child.running() and child.healthy():
                        self.out.say("run", f"{child.name} is serving again")
                        child.recovering = False
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return code

    def _start(self, child: Child, verb: str) -> None:
        child.start(self.out)
        assert child.process is not None
        self.out.say("run", f"{verb} {child.name} (pid {child.process.pid}): {' '.join(child.command)}")

    def _restart_dead(self) -> bool:
        """Schedules the restart of each child that died, starts those whose pause is over;
        False when one keeps dying."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at and not self.stopping.is_set():
                    child.restart_at = None
                    child.recovering = True
                    self._start(child, "restarted")
                continue
            if child.running():
                continue
            assert child.process is not None
            child.kill_leftovers()
            child.exits.append(now)
            while now - child.exits[0] > self.policy.window:
                child.exits.popleft()
            reason = exit_reason(child.process.returncode)
            if len(child.exits) >= self.policy.max_exits:
                self.out.say(
                    "run",
                    f"{child.name} died {len(child.exits)} times within {self.policy.window:.0f} s (last: {reason}) "
                    "and does not stay up (its own lines above say why): giving up, stopping every service.",
                )
                return False
            delay = self.policy.delay(len(child.exits))
            self.out.say("run", f"{child.name} died unexpectedly ({reason}): restarting it in {delay:g} s")
            child.restart_at = now + delay
        return True

    def stop(self) -> None:
        for child in reversed(self.children):
            child.signal(signal.SIGTERM)
            if not child.running():
                child.kill_leftovers()  # died just before the stop, its leftovers not yet seen to
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
