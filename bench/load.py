"""Load run: simulated citizens chatting with the scale-out configuration for a fixed time.

    .venv/bin/python bench/load.py [--conversations 50] [--seconds 120] [--seed 6]
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --dossiers FILE.json [--now 2026-11-23T09:00:00+07:00]

Without ``--url`` it brings the stack up itself, on loopback: a fresh PostgreSQL database
(``citizenbot_bench_<random>``) with the embedded store's knowledge copied in (``citizenbot backup``
then ``restore``) and one synthetic dossier per simulated citizen imported, a Redis key prefix of its
own, and ``citizenbot run --gateway-workers 2 --rasa-servers 2`` on free ports with rate limits lifted
(every simulated citizen speaks from 127.0.0.1) and the clock fixed at ``--now``. The supervisor's
output (gateway, Rasa, actions, prefixed) goes to ``var/bench/load-<time>/stack.log``. Databases,
Redis keys and processes are removed at the end, also after a failure or Ctrl-C.

Each citizen holds one conversation, each turn on a fresh connection (as behind a load balancer),
with a seeded 1–3 s think time before each turn, mixing procedure questions, a status lookup of its
own dossier through the Rasa form (opening phrase, code, 4 last phone digits) and fee questions.
A turn fails on a non-200, a transport error or timeout, an empty text, kind "unavailable", route
"fallback", a form step of the wrong kind, a status reply without its own dossier's code and
status, or a changed conversation id. A slot leak is any reply holding another citizen's dossier
code or name (full or masked) or conversation id. Prints the figures; exits 1 on any failure or leak.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bot.dossier_import import read_export
from bot.dossiers import Dossier, mask_name, status_text
from bot.settings import REPO_ROOT
from bot.supervisor import RASA_BIN, RASA_MODEL

CITIZENBOT = Path(sys.executable).parent / "citizenbot"
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
NOW = "2026-11-23T09:00:00+07:00"
UNLIMITED = "1000000/60"
AGENCY = "000.00.21.H48"  # the dossier code's agency part (iGate, Quảng Ngãi)
SYSTEM = "Hệ thống thông tin giải quyết thủ tục hành chính tỉnh Quảng Ngãi"

QUESTIONS = (
    "lam tam tru can giay to gi",
    "làm tạm trú cần giấy tờ gì",
    "đăng ký khai sinh cho con mất bao lâu",
    "thu tuc dang ky ket hon gom nhung gi",
    "cấp lại căn cước bị mất thì làm sao",
    "đăng ký thường trú cho con ở đâu",
    "lam giay xac nhan tinh trang hon nhan o dau",
    "xin phiếu lý lịch tư pháp cần mang theo gì",
    "dang ky khai tu can giay to gi",
    "tách hộ khẩu thì làm thế nào",
)
FEES = (
    "lệ phí cấp hộ chiếu bao nhiêu",
    "le phi dang ky ket hon bao nhieu tien",
    "làm lại căn cước mất bao nhiêu tiền",
    "lệ phí đăng ký thường trú bao nhiêu",
    "dang ky khai sinh co mat phi khong",
    "phí cấp phiếu lý lịch tư pháp là bao nhiêu",
)
OPENERS = (
    "hồ sơ của tôi đến đâu rồi",
    "cho mình hỏi hồ sơ của mình đến đâu rồi",
    "tra cuu ho so",
    "kiểm tra tình trạng hồ sơ giúp tôi",
)
ACTIVITIES = {"question": 4, "dossier": 3, "fee": 3}  # relative weights
TURN_TYPES = ("question", "dossier step", "fee")

# Names whose masked forms ("Nguyễn V. A.") are all different: initials differ within each list.
FAMILIES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLES = ("Văn", "Thị", "Minh", "Quốc", "Ngọc", "Hữu", "Đức", "Bảo", "Kim", "Xuân")
GIVENS = ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nam", "Oanh", "Phúc", "Quân", "Sơn",
          "Tâm", "Uyên", "Vy", "Yến", "Đạt")
PROCEDURES = (
    ("1.004194", "Đăng ký tạm trú"),
    ("1.004222", "Đăng ký thường trú"),
    ("2.000488", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam"),
    ("1.010038", "Tách hộ"),
    ("1.000894", "Thủ tục đăng ký kết hôn"),
    ("2.001194", "Cấp lại thẻ căn cước (thực hiện tại cấp tỉnh)"),
)


# ---- synthetic dossiers ------------------------------------------------------------


def _event(at: datetime, status: str, note: str = "") -> dict[str, str]:
    return {"at": at.isoformat(), "status": status, "system": SYSTEM, "note": note}


def _record(i: int, now: datetime, rng: random.Random, name: str, last4: str) -> dict[str, Any]:
    """Citizen i's dossier: one of twelve situations in turn, dated before ``now``."""
    received = (now - timedelta(days=4 + i % 9)).replace(hour=8, minute=30)
    day = timedelta(days=1)
    record: dict[str, Any] = {
        "code": f"{AGENCY}-{received:%y%m%d}-{1000 + i:04d}",
        "procedure_code": (procedure := PROCEDURES[i % len(PROCEDURES)])[0],
        "procedure_name": procedure[1],
        "applicant_name": name,
        "phone": f"09{rng.randrange(100):02d} {rng.randrange(100):02d}{last4[0]} {last4[1:]}",
        "channel": rng.choice(("online", "counter")),
        "received_at": received.isoformat(),
        "due_at": (now + timedelta(days=6)).isoformat(),
    }
    steps = [_event(received, "received"), _event(received + day, "processing")]
    match i % 12:
        case 0:
            steps = [_event(received, "registered")]
        case 1:
            steps = steps[:1]
        case 2:
            pass
        case 3:  # still processing after its due date: overdue
            record["due_at"] = (now - 2 * day).isoformat()
        case 4:
            steps.append(_event(received + 2 * day, "supplement_requested"))
            record["supplement_request"] = "Bản sao giấy tờ chứng minh chỗ ở hợp pháp"
        case 5:
            steps.append(_event(received + 2 * day, "payment_requested", "Lệ phí 50.000 đồng"))
        case 6:
            steps.append(_event(received + 2 * day, "paused"))
            record["pause_reason"] = "Chờ xác minh tại địa phương"
        case 7:
            record["due_at"] = (now - day).isoformat()
            record["extension"] = {"new_due_at": (now + 4 * day).isoformat(), "apology_letter": "Xin lỗi vì chậm."}
            steps.append(_event(received + 2 * day, "extended"))
        case 8 | 9:
            steps.append(_event(received + 2 * day, "result_ready"))
            delivery = "pickup" if i % 12 == 8 else "post"
            record["result"] = {"delivery": delivery, "place": "Bộ phận Một cửa UBND phường"}
        case 10:
            steps += [_event(received + 2 * day, "result_ready"), _event(received + 3 * day, "delivered")]
        case _:
            steps.append(_event(received + 2 * day, "returned"))
            record["returned_reason"] = "Hồ sơ không thuộc thẩm quyền giải quyết"
    record["history"] = steps
    return record


def synthetic_export(count: int, now: datetime, seed: int) -> list[dict[str, Any]]:
    """``count`` dossiers in the one-stop system's JSON export format: distinct codes, phones and names."""
    rng = random.Random(seed)
    names = [f"{f} {m} {g}" for f in FAMILIES for m in MIDDLES for g in GIVENS]
    if count > len(names):
        raise SystemExit(f"at most {len(names)} simulated citizens")
    rng.shuffle(names)
    checks = rng.sample(range(10_000), count)
    return [_record(i, now, rng, names[i], f"{checks[i]:04d}") for i in range(count)]


# ---- the simulated citizens --------------------------------------------------------


@dataclass
class Citizen:
    index: int
    dossier: Dossier
    check: str  # the 4 last digits of the registered phone
    expected: str  # the start of the verified reply: code, procedure, masked name, the status's first clause
    conversation_id: str | None = None


def expected_status(dossier: Dossier, now: datetime) -> str:
    """What a verified reply starts with, whatever the stack's help desk wording (bot/dossiers.py)."""
    head, _, state = status_text(dossier, now, "").split("\n", 1)[0].partition(": ")
    return f"{head}: {re.split(r'(?<=[,.;])', state, maxsplit=1)[0]}"


def citizens_for(dossiers: list[Dossier], now: datetime) -> list[Citizen]:
    citizens = []
    for i, dossier in enumerate(dossiers):
        digits = "".join(ch for ch in dossier.phone or dossier.id_number if ch.isdigit())
        citizens.append(Citizen(i, dossier, digits[-4:], expected_status(dossier, now)))
    return citizens


class Owners:
    """Finds whose dossier code or name (full or masked) a text mentions."""

    def __init__(self, citizens: list[Citizen]) -> None:
        self.owner: dict[str, int] = {}
        for c in citizens:
            for token in (c.dossier.code, c.dossier.applicant_name, mask_name(c.dossier.applicant_name)):
                self.owner[token] = c.index
        tokens = sorted(self.owner, key=len, reverse=True)
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, tokens)) + ")")

    def others(self, text: str, own: int) -> list[str]:
        return [m.group() for m in self.pattern.finditer(text) if self.owner[m.group()] != own]


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    kinds: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    leaks: list[str] = field(default_factory=list)
    lookups: int = 0  # dossier lookups answered with the citizen's own status
    conversation_ids: dict[str, int] = field(default_factory=dict)

    def fail(self, reason: str, example: str) -> None:
        self.failures[reason] += 1
        if len(self.examples[reason]) < 3:
            self.examples[reason].append(example)


class Simulation:
    def __init__(self, url: str, citizens: list[Citizen], seconds: float, think: tuple[float, float],
                 timeout: float, seed: int) -> None:
        self.url, self.citizens, self.seconds, self.think = url, citizens, seconds, think
        self.timeout, self.seed = timeout, seed
        self.owners = Owners(citizens)
        self.results = Results()
        self.deadline = 0.0

    async def run(self) -> float:
        """Every citizen until the deadline; the seconds it took (turns in flight finish)."""
        # A fresh connection per turn: the kernel spreads them over the gateway workers.
        limits = httpx.Limits(max_connections=len(self.citizens) + 10, max_keepalive_connections=0)
        started = time.monotonic()
        self.deadline = started + self.seconds
        async with httpx.AsyncClient(timeout=self.timeout, limits=limits) as client:
            await asyncio.gather(*(self.citizen(client, c) for c in self.citizens))
        return time.monotonic() - started

    async def citizen(self, client: httpx.AsyncClient, c: Citizen) -> None:
        rng = random.Random(f"{self.seed}-{c.index}")
        while True:
            activity = rng.choices(list(ACTIVITIES), weights=list(ACTIVITIES.values()))[0]
            if activity == "dossier":
                steps = [(rng.choice(OPENERS), "dossier_form"), (c.dossier.code, "dossier_form"), (c.check, "dossier")]
            else:
                steps = [(rng.choice(QUESTIONS if activity == "question" else FEES), None)]
            for message, expected_kind in steps:
                await asyncio.sleep(rng.uniform(*self.think))
                if time.monotonic() >= self.deadline:
                    return
                if not await self.turn(client, c, activity, message, expected_kind):
                    break  # a broken lookup is not continued

    async def turn(self, client: httpx.AsyncClient, c: Citizen, activity: str, message: str,
                   expected_kind: str | None) -> bool:
        """One chat turn, checked; False when it failed or leaked (a lookup in progress then stops)."""
        turn_type = {"question": "question", "dossier": "dossier step", "fee": "fee"}[activity]
        where = f"citizen {c.index}, {turn_type} {message!r}"
        started = time.perf_counter()
        try:
            response = await client.post(
                f"{self.url}/api/chat", json={"message": message, "conversation_id": c.conversation_id}
            )
        except httpx.HTTPError as error:
            kind = type(error).__name__
            reason = "timeout" if isinstance(error, httpx.TimeoutException) else f"transport error ({kind})"
            self.results.fail(reason, f"{where}: {error!r}")
            return False
        finally:
            self.results.latencies[turn_type].append(time.perf_counter() - started)
        if response.status_code != 200:
            self.results.fail(f"HTTP {response.status_code}", f"{where}: {response.text[:300]}")
            return False
        try:
            body = response.json()
            text, kind, route, returned_id = str(body["text"]), body["kind"], body["route"], body["conversation_id"]
        except (ValueError, KeyError) as error:
            self.results.fail("malformed reply", f"{where}: {error!r} {response.text[:300]}")
            return False
        self.results.kinds[turn_type][f"{kind}/{route}"] += 1
        seen = f"{where} → {kind}/{route}: {text[:400]!r}"
        ok = self._isolated(c, returned_id, text, seen)
        if c.conversation_id is not None and returned_id != c.conversation_id:
            self.results.fail("conversation id changed", f"{seen} (id {returned_id}, own {c.conversation_id})")
            return False
        if not text.strip():
            self.results.fail("empty text", seen)
        elif kind == "unavailable":
            self.results.fail("kind unavailable", seen)
        elif route == "fallback":
            self.results.fail("route fallback (Rasa not answering)", seen)
        elif expected_kind is not None and kind != expected_kind:
            self.results.fail(f"dossier step: {kind} instead of {expected_kind}", seen)
        elif expected_kind == "dossier" and c.expected not in text:
            self.results.fail("status reply without its own code and status", f"{seen}; expected {c.expected!r}")
        else:
            if expected_kind == "dossier":
                self.results.lookups += 1
            return ok
        return False

    def _isolated(self, c: Citizen, returned_id: str, text: str, seen: str) -> bool:
        """Records a leak when the reply names another citizen or carries another's conversation."""
        if c.conversation_id is None:
            c.conversation_id = returned_id
            owner = self.results.conversation_ids.setdefault(returned_id, c.index)
        else:
            owner = self.results.conversation_ids.get(returned_id, c.index)
        others = self.owners.others(text, c.index)
        if owner != c.index:
            others.append(f"conversation of citizen {owner}")
        if others:
            self.results.leaks.append(f"{seen}: names {others}")
        return not others


# ---- the stack -----------------------------------------------------------------------


def free_ports(count: int = 1) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            for taken in range(port + 1, port + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", taken))
        except OSError:
            continue
        return port


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def cli(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([str(CITIZENBOT), *command], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"citizenbot {' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout.strip().splitlines()[0]


@dataclass(frozen=True)
class Proc:
    parent: int
    rss: int  # bytes
    cpu: float  # seconds of user and system time


def processes() -> dict[int, Proc]:
    """Every process on the machine, from /proc."""
    page, tick = os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # exited meanwhile
            cpu = (int(fields[11]) + int(fields[12])) / tick
            found[int(entry.name)] = Proc(int(fields[1]), int(fields[21]) * page, cpu)
    return found


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the machine since boot (/proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / tick, sum(ticks) / tick


def component(pid: int) -> str:
    """What a child of the supervisor is, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return f"pid {pid}"
    if "serve" in argv:
        return "gateway"
    if "rasa_sdk" in argv:
        return "actions"
    return f"rasa :{argv[argv.index('--port') + 1]}" if "--port" in argv else argv[0]


class StackUsage:
    """The stack's peak memory (sum of RSS over the supervisor's process tree, sampled every second)
    and the CPU time each of its components, this load generator and the rest of the machine used."""

    def __init__(self, supervisor: int) -> None:
        self.supervisor = supervisor
        self.peak_rss, self.peak_processes = 0, 0
        self.cpu_at_start: dict[int, float] = {}
        self.machine_at_start, self.self_at_start = (0.0, 0.0), 0.0
        self.cpu: dict[str, list[float]] = defaultdict(list)  # per component, each process's CPU seconds
        self.machine_busy, self.machine_total, self.generator = 0.0, 0.0, 0.0

    def tree(self, table: dict[int, Proc]) -> dict[int, str]:
        """The supervisor's descendants, each with the component (child of the supervisor) it belongs to."""
        children: dict[int, list[int]] = defaultdict(list)
        for pid, proc in table.items():
            children[proc.parent].append(pid)
        found: dict[int, str] = {}
        todo = [(child, component(child)) for child in children[self.supervisor]]
        while todo:
            pid, name = todo.pop()
            found[pid] = name
            todo.extend((child, name) for child in children[pid])
        return found

    def start(self) -> None:
        table = processes()
        self.cpu_at_start = {pid: table[pid].cpu for pid in self.tree(table)}
        self.machine_at_start, self.self_at_start = machine_cpu(), time.process_time()

    def sample(self) -> None:
        table = processes()
        tree = [*self.tree(table), self.supervisor]
        rss = sum(table[pid].rss for pid in tree if pid in table)
        if rss > self.peak_rss:
            self.peak_rss, self.peak_processes = rss, len(tree)

    def finish(self) -> None:
        table = processes()
        for pid, name in self.tree(table).items():
            self.cpu[name].append(table[pid].cpu - self.cpu_at_start.get(pid, 0.0))
        busy, total = machine_cpu()
        self.machine_busy = busy - self.machine_at_start[0]
        self.machine_total = total - self.machine_at_start[1]
        self.generator = time.process_time() - self.self_at_start

    def lines(self, turns: int) -> list[str]:
        stack = sum(map(sum, self.cpu.values()))
        others = self.machine_busy - stack - self.generator
        parts = []
        for name, seconds in sorted(self.cpu.items()):
            busy = sorted((f"{x:.0f}" for x in seconds if x >= 0.5), key=float, reverse=True)
            parts.append(f"{name} {sum(seconds):.0f}" + (f" ({' + '.join(busy)})" if len(busy) > 1 else ""))
        return [
            f"peak RSS of the stack  {self.peak_rss / 2**30:.2f} GiB over {self.peak_processes} processes "
            "(sum of their RSS: pages shared by forked workers count in each)",
            f"CPU during the run     {self.machine_busy:.0f} of {self.machine_total:.0f} CPU-seconds busy: stack "
            f"{stack:.0f} = {stack / max(turns, 1):.3f} per turn [{', '.join(parts)}], this load generator "
            f"{self.generator:.0f}, other processes on the machine {others:.0f}",
        ]


@dataclass
class Stack:
    url: str
    supervisor: subprocess.Popen[bytes]
    rasa_servers: int
    log: Path


def wait_ready(stack: Stack, timeout: float) -> None:
    """Until /ready says "ready" with every Rasa server up."""
    deadline, state = time.monotonic() + timeout, "not answering"
    while time.monotonic() < deadline:
        if stack.supervisor.poll() is not None:
            raise SystemExit(f"the stack exited ({stack.supervisor.returncode}), see {stack.log}")
        try:
            body = httpx.get(f"{stack.url}/ready", timeout=300).json()
            servers = body["checks"]["rasa"].get("servers")
            up = [s for s in servers.values() if s["ok"]] if isinstance(servers, dict) else []
            state = f"{body['status']}, {len(up)}/{stack.rasa_servers} Rasa servers up"
            if body["status"] == "ready" and len(up) == stack.rasa_servers:
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(2)
    raise SystemExit(f"the stack was not ready after {timeout:.0f} s ({state}), see {stack.log}")


async def warm(url: str, workers: int) -> None:
    """Each gateway worker loads the model and the index on its first request, and the first questions
    are slow: concurrent rounds until every /ready of a round answers within a second, then questions."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        for _ in range(20):
            started = time.monotonic()
            await asyncio.gather(*(client.get(f"{url}/ready") for _ in range(4 * workers)))
            if time.monotonic() - started < 1.0:
                break
        for _ in range(2):
            questions = [QUESTIONS[0], FEES[0], OPENERS[0]] * workers
            await asyncio.gather(*(client.post(f"{url}/api/chat", json={"message": q}) for q in questions))


def stop(supervisor: subprocess.Popen[bytes]) -> None:
    """SIGINT to the supervisor, which stops its children; anything left after a minute is killed."""
    try:  # each in a process group of its own
        listed = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text()
        children = [int(pid) for pid in listed.split()]
    except OSError:  # it exited already
        children = []
    if supervisor.poll() is None:
        os.killpg(supervisor.pid, signal.SIGINT)
        try:
            supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait()
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


@contextlib.contextmanager
def scale_out_stack(args: argparse.Namespace, export: Path, log: Path) -> Iterator[Stack]:
    """PostgreSQL database + Redis prefix + `citizenbot run` on free ports; everything removed on exit."""
    import redis

    missing = [str(path) for path in (RASA_BIN / "rasa", RASA_MODEL) if not path.exists()]
    if missing:
        raise SystemExit(f"Rasa is not set up ({', '.join(missing)} missing): `make setup` builds it")
    token = secrets.token_hex(4)
    database = f"citizenbot_bench_{token}"
    prefix = f"citizenbot-bench:{token}:"
    # A fresh connection each time: PostgreSQL may have been restarted meanwhile (the fault tests do).
    admin = sa.create_engine(f"{args.postgres}/postgres", isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    keys = redis.Redis.from_url(args.redis)
    try:
        keys.ping()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    except (redis.RedisError, sa.exc.SQLAlchemyError) as error:
        raise SystemExit(f"PostgreSQL at {args.postgres} and Redis at {args.redis} are needed: {error}") from error
    embedded = {k: v for k, v in os.environ.items() if not k.startswith(("CITIZENBOT_DATABASE", "CITIZENBOT_REDIS"))}
    supervisor: subprocess.Popen[bytes] | None = None
    try:
        env = {
            **embedded,
            "CITIZENBOT_DATABASE_URL": f"{args.postgres}/{database}",
            "CITIZENBOT_REDIS_URL": args.redis,
            "CITIZENBOT_REDIS_PREFIX": prefix,
            "CITIZENBOT_NOW": args.now,
            "CITIZENBOT_RATE_LIMIT_CLIENT": UNLIMITED,
            "CITIZENBOT_RATE_LIMIT_CONVERSATION": UNLIMITED,
        }
        with tempfile.TemporaryDirectory() as tmp:
            backup = Path(tmp) / "knowledge.jsonl.gz"
            say(f"backup of the embedded store: {cli(['backup', str(backup)], embedded)}")
            say(f"restore into {database}: {cli(['restore', str(backup)], env)}")
        say(f"dossiers: {cli(['dossiers', 'import', str(export)], env)}")
        port, rasa_port, actions_port = free_ports(), free_ports(args.rasa_servers), free_ports()
        command = [str(CITIZENBOT), "run", "--gateway-workers", str(args.gateway_workers),
                   "--rasa-servers", str(args.rasa_servers), "--port", str(port), "--rasa-port", str(rasa_port),
                   "--actions-port", str(actions_port)]
        say(f"starting {' '.join(command[1:])} (log: {log.relative_to(REPO_ROOT)})")
        with log.open("wb") as out:
            supervisor = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        stack = Stack(f"http://127.0.0.1:{port}", supervisor, args.rasa_servers, log)
        started = time.monotonic()
        wait_ready(stack, 900)
        asyncio.run(warm(stack.url, args.gateway_workers))
        say(f"stack ready and warm in {time.monotonic() - started:.0f} s at {stack.url}")
        yield stack
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # the clean-up is not interrupted halfway
            signal.signal(signum, signal.SIG_IGN)
        if supervisor is not None:
            stop(supervisor)
            say("stack stopped")
        # The Rasa tracker store's database is made beside the app's (bot/rasa_endpoints.py).
        drop_databases(admin, [database, f"{database}_rasa"])
        rasa_prefix = "".join(ch for ch in prefix if ch.isalnum())  # Rasa's lock store keeps letters and digits
        try:
            for pattern in (f"{prefix}*", f"{rasa_prefix}:*"):
                for key in keys.scan_iter(match=pattern):
                    keys.delete(key)
            say(f"Redis keys {prefix}* and {rasa_prefix}:* deleted")
        except redis.RedisError as error:
            say(f"could not delete the Redis keys {prefix}* and {rasa_prefix}:* ({error}): delete them by hand")
        keys.close()


def drop_databases(admin: sa.Engine, names: list[str]) -> None:
    """Drops the databases, retrying for a minute while PostgreSQL is unreachable."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with admin.connect() as conn:
                for name in names:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            say(f"databases {', '.join(names)} dropped")
            return
        except sa.exc.OperationalError as error:
            if time.monotonic() > deadline:
                say(f"could not drop {', '.join(names)} ({error}): drop them by hand")
                return
            time.sleep(2)


# ---- figures -----------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def report(sim: Simulation, elapsed: float, usage: StackUsage | None) -> None:
    results = sim.results
    turns = sum(len(v) for v in results.latencies.values())
    print(f"\nconversations     {len(sim.citizens)} ({len(results.conversation_ids)} conversation ids)")
    print(f"turns             {turns} in {elapsed:.1f} s: {turns / elapsed:.2f} turns/s")
    print(f"dossier lookups   {results.lookups} answered with the citizen's own code and status")
    print(f"failed turns      {sum(results.failures.values())}")
    for reason, count in results.failures.most_common():
        print(f"  {count:>5}  {reason}")
        for example in results.examples[reason]:
            print(f"         e.g. {example}")
    print(f"slot leaks        {len(results.leaks)}")
    for leak in results.leaks[:5]:
        print(f"         {leak}")
    print(f"\n{'latency (ms)':<14}{'turns':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    rows = [("all", [x for v in results.latencies.values() for x in v])]
    rows += [(t, results.latencies[t]) for t in TURN_TYPES]
    for name, values in rows:
        if values:
            figures = [percentile(values, q) * 1000 for q in (50, 95, 99, 100)]
            print(f"{name:<14}{len(values):>7}" + "".join(f"{x:>8.0f}" for x in figures))
    print("\nreplies (kind/route)")
    for turn_type in TURN_TYPES:
        kinds = ", ".join(f"{k} {n}" for k, n in results.kinds[turn_type].most_common())
        print(f"  {turn_type:<13} {kinds}")
    if usage is not None:
        print("", *usage.lines(turns), sep="\n")


async def drive(sim: Simulation, usage: StackUsage | None) -> float:
    """Runs the simulation (sampling the stack's memory every second); the seconds it took."""

    async def sample(usage: StackUsage) -> None:
        while True:
            usage.sample()
            await asyncio.sleep(1)

    sampler = None
    if usage is not None:
        usage.start()
        sampler = asyncio.create_task(sample(usage))
    try:
        return await sim.run()
    finally:
        if sampler is not None:
            sampler.cancel()
        if usage is not None:
            usage.finish()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--conversations", type=int, default=50)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    p.add_argument("--timeout", type=float, default=60, help="seconds one turn may take")
    p.add_argument("--url", help="drive this running stack instead of starting one (needs --dossiers)")
    p.add_argument("--dossiers", type=Path, help="with --url: the dossiers it serves (export file), one per citizen")
    p.add_argument("--now", default=NOW, help="the stack's fixed clock (CITIZENBOT_NOW), for the expected status")
    p.add_argument("--gateway-workers", type=int, default=2)
    p.add_argument("--rasa-servers", type=int, default=2)
    p.add_argument("--postgres", default=POSTGRES_SERVER, help="PostgreSQL server URL (trust auth)")
    p.add_argument("--redis", default=REDIS_URL)
    args = p.parse_args()
    if args.url and not args.dossiers:
        p.error("--url needs --dossiers: the dossiers the stack serves, one per simulated citizen")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    now = datetime.fromisoformat(args.now)
    run_dir = REPO_ROOT / "var" / "bench" / f"load-{time.strftime('%Y%m%d-%H%M%S')}"
    if not args.url:
        run_dir.mkdir(parents=True, exist_ok=True)
    export = args.dossiers
    if export is None:
        export = run_dir / "dossiers.json"
        records = synthetic_export(args.conversations, now, args.seed)
        export.write_text(json.dumps(records, ensure_ascii=False, indent=1))
    imported = read_export(export)
    if len(imported.dossiers) < args.conversations:
        raise SystemExit(f"{export}: {len(imported.dossiers)} dossiers for {args.conversations} citizens")
    citizens = citizens_for(imported.dossiers[: args.conversations], now)
    say(f"{args.conversations} conversations × {args.seconds:.0f} s, think {args.think[0]:g}–{args.think[1]:g} s, "
        f"seed {args.seed}, {os.cpu_count()} CPUs; dossiers {export}")
    usage: StackUsage | None = None
    try:
        if args.url:
            sim = Simulation(args.url.rstrip("/"), citizens, args.seconds, args.think, args.timeout, args.seed)
            elapsed = asyncio.run(drive(sim, usage))
        else:
            say(f"rate limits lifted ({UNLIMITED} per client and per conversation): every simulated citizen "
                "comes from 127.0.0.1")
            with scale_out_stack(args, export, run_dir / "stack.log") as stack:
                sim = Simulation(stack.url, citizens, args.seconds, args.think, args.timeout, args.seed)
                say(f"driving {stack.url}")
                usage = StackUsage(stack.supervisor.pid)
                elapsed = asyncio.run(drive(sim, usage))
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    report(sim, elapsed, usage)
    return 1 if sim.results.failures or sim.results.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
