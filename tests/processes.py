"""Real processes for end-to-end tests: the gateway, the rasa-sdk action server and the Rasa server.

Started on free local ports with the commands and environment of ``make run``
(:mod:`bot.supervisor`) and stopped with their process group. The gateway runs
on a copy of the knowledge store with the dossier fixture imported
(``citizenbot dossiers import``) and its clock fixed at ``DOSSIER_NOW``.

Fixtures (re-exported by conftest.py, session-wide, started on first use):

- ``live_stack``: gateway + action server + Rasa server → :class:`Stack`;
- :func:`scaled_stack`: the scale-out configuration (PostgreSQL, Redis, N gateway
  workers, N Rasa servers sharing their conversations) → :class:`ScaledStack`;
- ``browser``: headless Debian chromium driven by Selenium through chromium-driver,
  for any test that opens the widget or another page of a live gateway.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.rasa_endpoints import LOCK_LIFETIME_SECONDS, write_endpoints
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin"
RASA_MODEL = ROOT / "var" / "rasa" / "models" / "citizenbot.tar.gz"
CITIZENBOT = Path(sys.executable).parent / "citizenbot"
ARTIFACTS = ROOT / "var" / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rasa_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The Makefile's RASA_ENV, with a cache of the test's own."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_MAX_CACHE_SIZE": "0",
        "RASA_CACHE_DIRECTORY": str(tmp / "rasa-cache"),
        "SANIC_HOST": "127.0.0.1",
        **extra,
    }


def run(command: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


class Server:
    """A process started by a test, ready once `health` answers 200, stopped with its process group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path, health: str) -> None:
        self.name, self.command, self.env, self.log, self.health = name, command, env, log, health
        self.url = health.rsplit("/", 1)[0]
        log.write_text("")
        self.start()

    def start(self) -> None:
        """Starts the process (again, after `stop` or a kill), appending to its log."""
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}", pytrace=False)
            try:
                if httpx.get(self.health, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.stop()
        pytest.fail(f"{self.name} was not ready after {timeout:.0f} s:\n{self.tail()}", pytrace=False)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """Dies at once, as on a crash: no clean shutdown."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {seconds:.0f} s"
        time.sleep(0.25)


def chat(gateway: str, message: str, conversation_id: str | None = None, **extra: object) -> dict:
    """One chat turn on a fresh connection (as through a load balancer); the reply must be a 200."""
    body = {"message": message, "conversation_id": conversation_id, **extra}
    response = httpx.post(f"{gateway}/api/chat", json=body, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def require_rasa() -> None:
    missing = [str(p) for p in (RASA_BIN / "rasa", RASA_MODEL) if not p.exists()]
    if missing:
        pytest.fail(
            f"Missing {', '.join(missing)}: `make setup` creates the Rasa environment (.venv-rasa) "
            "and trains the model (`make rasa-model`).",
            pytrace=False,
        )


def knowledge_copy(workdir: Path) -> dict[str, str]:
    """Environment for a gateway on a copy of the real knowledge store, the dossier fixture imported, clock fixed."""
    from conftest import DOSSIER_FIXTURE, DOSSIER_NOW, REAL_SETTINGS

    url = REAL_SETTINGS.database_url
    source = Path(url.removeprefix("sqlite:///"))
    if not url.startswith("sqlite:///") or not source.is_file():
        pytest.fail(f"The knowledge store {url} is not a SQLite file: `make setup` builds it.", pytrace=False)
    database = workdir / "citizenbot.db"
    shutil.copyfile(source, database)
    env = {**os.environ, "CITIZENBOT_DATABASE_URL": f"sqlite:///{database}", "CITIZENBOT_NOW": DOSSIER_NOW.isoformat()}
    imported = run([str(CITIZENBOT), "dossiers", "import", str(DOSSIER_FIXTURE)], env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    return env


def start_gateway(workdir: Path, env: dict[str, str], rasa_url: str, name: str = "gateway") -> Server:
    port = free_port()
    server = Server(
        name,
        [str(CITIZENBOT), "serve", "--host", "127.0.0.1", "--port", str(port)],
        {**env, "CITIZENBOT_RASA_URL": rasa_url, "CITIZENBOT_RASA_TIMEOUT": "120"},
        workdir / f"{name}.log",
        f"http://127.0.0.1:{port}/health",
    )
    server.wait_ready(90)
    # /ready loads the embedding model and the index: not inside a conversation.
    warm = httpx.get(f"{server.url}/ready", timeout=300)
    assert warm.status_code == 200, warm.text
    return server


def start_action_server(workdir: Path, api_url: str, name: str = "action server") -> Server:
    port = free_port()
    server = Server(
        name,
        [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions.dialogue", "--port", str(port)],
        rasa_env(workdir, CITIZENBOT_API_URL=api_url, CITIZENBOT_API_TIMEOUT="60"),
        workdir / f"{name}.log",
        f"http://127.0.0.1:{port}/health",
    )
    server.wait_ready(90)
    return server


def rasa_server(workdir: Path, endpoints: Path, port: int, name: str = "Rasa server") -> Server:
    """A Rasa server starting (not waited for: several start at once)."""
    command = [str(RASA_BIN / "rasa"), "run", "--enable-api", "--model", str(RASA_MODEL)]
    command += ["--endpoints", str(endpoints), "--interface", "127.0.0.1", "--port", str(port)]
    env = rasa_env(workdir, TICKET_LOCK_LIFETIME=str(LOCK_LIFETIME_SECONDS))
    log = workdir / f"{name.replace(' ', '-')}.log"
    return Server(name, command, env, log, f"http://127.0.0.1:{port}/status")


def start_rasa(workdir: Path, actions: Server, port: int) -> Server:
    endpoints = write_endpoints(workdir / "endpoints.yml", f"{actions.url}/webhook", Settings.from_env())
    rasa = rasa_server(workdir, endpoints, port)
    rasa.wait_ready(300)
    return rasa


@dataclass(frozen=True)
class Stack:
    gateway: str  # http://127.0.0.1:PORT
    rasa: str
    database_url: str
    workdir: Path


@contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    """Gateway, action server and Rasa server, as `make run` starts them, on free ports; stopped on exit."""
    require_rasa()
    env = knowledge_copy(workdir)
    rasa_port = free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    servers: list[Server] = []
    try:
        servers.append(start_gateway(workdir, env, rasa_url))
        servers.append(start_action_server(workdir, servers[0].url))
        servers.append(start_rasa(workdir, servers[1], rasa_port))
        yield Stack(servers[0].url, rasa_url, env["CITIZENBOT_DATABASE_URL"], workdir)
    finally:
        for server in reversed(servers):
            server.stop()


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack shared by the tests that need any live gateway."""
    with running_stack(tmp_path_factory.mktemp("live-stack")) as stack:
        yield stack


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Headless Debian chromium (Selenium + chromium-driver), phone width (360 px) by default. Its microphone
    is a fake capture device playing silence, granted without asking (the phone page uses it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"Missing {', '.join(missing)}: `make browser` (run by `make test`) installs them from Debian.",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        "--window-size=500,800", "--lang=vi",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={silence(tmp_path_factory.mktemp('microphone') / 'silence.wav')}",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    # Headless windows are at least 500 px wide: the phone's 360 px are emulated.
    metrics = {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield driver
    finally:
        driver.quit()


def silence(path: Path, seconds: float = 1.0, rate: int = 16_000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return path


def screenshot(driver: object, name: str) -> Path:
    """Saves a PNG under var/test-artifacts/ and returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    return path


@dataclass
class ScaledStack:
    gateway: Server  # the uvicorn master; its worker processes serve the port
    actions: Server
    rasa: list[Server]
    env: dict[str, str]  # the gateway's environment (database, Redis, index, clock)
    workdir: Path

    @property
    def url(self) -> str:
        return self.gateway.url

    def gateway_workers(self) -> list[int]:
        """The worker processes' ids: the uvicorn master's children started by multiprocessing's spawn
        (its resource tracker is a child too)."""
        pid = self.gateway.process.pid
        workers = []
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            try:
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    workers.append(int(child))
            except FileNotFoundError:  # exited in between
                continue
        return sorted(workers)


def postgres_knowledge(workdir: Path, database_url: str, redis_url: str, redis_prefix: str) -> dict[str, str]:
    """Environment for gateways on PostgreSQL + Redis: the real knowledge store restored into the empty
    database, the dossier fixture imported, a copy of the index, the clock fixed."""
    from conftest import DOSSIER_FIXTURE, DOSSIER_NOW, REAL_SETTINGS

    backup_file = workdir / "knowledge.jsonl.gz"
    copied = run([str(CITIZENBOT), "backup", str(backup_file)], {**os.environ})
    assert copied.returncode == 0, copied.stdout + copied.stderr
    index_dir = workdir / "index"
    shutil.copytree(REAL_SETTINGS.index_dir, index_dir)
    env = {
        **os.environ,
        "CITIZENBOT_DATABASE_URL": database_url,
        "CITIZENBOT_REDIS_URL": redis_url,
        "CITIZENBOT_REDIS_PREFIX": redis_prefix,
        "CITIZENBOT_INDEX_DIR": str(index_dir),
        "CITIZENBOT_NOW": DOSSIER_NOW.isoformat(),
        # Every simulated citizen speaks from 127.0.0.1: the limits have their own tests (test_rate_limits.py).
        "CITIZENBOT_RATE_LIMIT_CLIENT": "1000000/60",
        "CITIZENBOT_RATE_LIMIT_CONVERSATION": "1000000/60",
    }
    for command in (["restore", str(backup_file)], ["dossiers", "import", str(DOSSIER_FIXTURE)]):
        done = run([str(CITIZENBOT), *command], env)
        assert done.returncode == 0, done.stdout + done.stderr
    return env


@contextmanager
def scaled_stack(
    workdir: Path, database_url: str, redis_url: str, redis_prefix: str, gateway_workers: int = 2, rasa_servers: int = 2
) -> Iterator[ScaledStack]:
    """`citizenbot run --gateway-workers N --rasa-servers N` on the scale-out settings, each process its own
    Server so that a test can stop one; stopped on exit."""
    require_rasa()
    env = postgres_knowledge(workdir, database_url, redis_url, redis_prefix)
    rasa_ports = [free_port() for _ in range(rasa_servers)]
    rasa_urls = ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports)
    port = free_port()
    servers: list[Server] = []
    try:
        gateway = Server(
            "gateway",
            [str(CITIZENBOT), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(gateway_workers)],
            {**env, "CITIZENBOT_RASA_URL": rasa_urls, "CITIZENBOT_RASA_TIMEOUT": "120"},
            workdir / "gateway.log",
            f"http://127.0.0.1:{port}/health",
        )
        servers.append(gateway)
        gateway.wait_ready(90)
        actions = start_action_server(workdir, gateway.url)
        servers.append(actions)
        settings = Settings.from_env(env)
        endpoints = write_endpoints(workdir / "endpoints.yml", f"{actions.url}/webhook", settings)
        rasa = [rasa_server(workdir, endpoints, p, f"Rasa server {i + 1}") for i, p in enumerate(rasa_ports)]
        servers.extend(rasa)
        for server in rasa:
            server.wait_ready(300)
        yield ScaledStack(gateway, actions, rasa, env, workdir)
    finally:
        for server in reversed(servers):
            server.stop()
