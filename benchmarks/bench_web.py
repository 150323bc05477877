"""The web app under load, measured with a C client (wrk) on loopback, bounded in time, beside
a bare FastAPI endpoint served the same way in the same run (the floor).

Two set-ups, each on the default synthetic force (seed 1), scored as `make run` scores it:
SQLite with one worker, and PostgreSQL with two (`iom serve --workers 2`; skipped if no server
answers at IOM_BENCH_PG_URL, default the local test database). For each:

- the floor: a bare ``async def`` FastAPI endpoint under uvicorn with as many workers;
- the mix: a signed-in offender manager's person pages and caseload API pages, half each;
- a sign-in storm: 200 connections signing in (as 200 users) for 15 s, while 20 connections
  of an already signed-in user read person pages; every request must be answered within 10 s
  (wrk's timeout) and never with a 500 (503 with ``Retry-After`` is the answer to saturation);
- the audit chain verified afterwards (every request above appended to it).

Prints requests/s, p50/p95/p99 and the ratio to the floor; ``IOM_BENCH_WEB_SECONDS`` (30)
bounds the mix, ``IOM_BENCH_WEB_CLIENTS`` (50) its connections."""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from common import default_force
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url

CLIENTS = int(os.environ.get("IOM_BENCH_WEB_CLIENTS", "50"))
SECONDS = int(os.environ.get("IOM_BENCH_WEB_SECONDS", "30"))
STORM_USERS, STORM_SECONDS, STORM_READERS = 200, 15, 20
PG_URL = os.environ.get("IOM_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LOMU = "LBM"
HERE = Path(__file__).parent
LUA = HERE / "wrk" / "mix.lua"
BARE = '''from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root():
    return {"ok": True}
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _iom(url: str, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"iom {' '.join(args)} failed: {(done.stderr or done.stdout)[-1000:]}")


def _pg_force() -> tuple[str, str] | None:
    """(URL, schema) of the default force in a fresh PostgreSQL schema, or None if no server."""
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            schema = f"iom_bench_{uuid.uuid4().hex[:8]}"
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server skips the run
        print(f"   PostgreSQL at {PG_URL} not reachable ({type(exc).__name__}): its run is skipped")
        return None
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    started = time.perf_counter()
    _iom(url, "init")
    _iom(url, "synth", "--seed", "1")
    print(f"   (generated the default force on PostgreSQL in {time.perf_counter() - started:.0f} s; not part of the figures)",
          flush=True)
    return url, schema


def _drop_schema(schema: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _prepare(url: str) -> tuple[list[int], int, str, str, list[str]]:
    """Person ids in a bench user's scope, caseload pages, that user's name and password, and
    the names of STORM_USERS more users (one password, hashed once at production cost)."""
    from iom.casefile.record import caseload
    from iom.cohorts.service import current_member_ids
    from iom.db import make_engine, session_scope
    from iom.register.models import Person
    from iom.register.service import reference_date
    from iom.security import service as users
    from iom.security.models import User
    from iom.security.roles import Principal
    from iom.security.scope import people_query

    engine = make_engine(url)
    password = secrets.token_urlsafe(16)
    username = f"bench_{secrets.token_hex(3)}"
    storm = [f"storm_{k:03d}_{secrets.token_hex(2)}" for k in range(STORM_USERS)]
    with session_scope(engine) as session:
        users.add_user(session, username=username, password=password, role="offender_manager", lomu_code=LOMU)
        session.flush()
        one_hash = session.scalar(select(User.password_hash).where(User.username == username))
        for name in storm:
            users.add_user(session, username=name, password=password, role="offender_manager", lomu_code=LOMU)
        session.flush()
        session.execute(update(User).where(User.username.in_(storm)).values(password_hash=one_hash))
        as_of = reference_date(session)
        who = Principal(username=username, role="offender_manager", lomu_code=LOMU)
        members = current_member_ids(as_of).subquery()
        query = people_query(who, as_of).with_only_columns(Person.id).where(Person.id.in_(select(members.c.person_id)))
        ids = list(session.scalars(query))
        total = caseload(session, who, as_of=as_of, per_page=50).total
    engine.dispose()
    return ids, max(1, -(-total // 50)), username, password, storm


class Server:
    """A process serving HTTP on a free port until ``stop``."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, ready_path: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w+")
        self.process = subprocess.Popen([*argv, "--port", str(self.port)], env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(self.base + ready_path, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.log.seek(0)
                self.stop()
                raise RuntimeError(f"server did not start: {self.log.read()[-2000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _wrk(base: str, paths: list[str], *, connections: int, seconds: int, threads: int = 2,
         cookie: str | None = None) -> subprocess.Popen:
    listing = Path(tempfile.mkstemp(prefix="iom-wrk-", suffix=".txt")[1])
    listing.write_text("\n".join(paths) + "\n")
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA)]
    if cookie:
        argv += ["-H", f"Cookie: iom_session={cookie}"]
    return subprocess.Popen([*argv, base + "/"], env={**os.environ, "IOM_WRK_PATHS": str(listing)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {err[-500:]}")
    return json.loads(out.strip().splitlines()[-1])


def _line(label: str, r: dict, floor: float | None = None) -> str:
    rate = r["requests"] / r["seconds"]
    ratio = f"  {rate / floor:5.2f}x the floor" if floor else ""
    errors = r["connect"] + r["read"] + r["write"]
    return (f"   {label:<34} {rate:8.1f} req/s  p50 {r['p50']:7.1f}  p95 {r['p95']:7.1f}  p99 {r['p99']:7.1f}  "
            f"max {r['max']:7.1f} ms{ratio}  5xx {r['s5xx']}, 503 {r['s503']}, 4xx {r['s4xx']}, "
            f"timeouts {r['timeout']}, socket errors {errors}")


def _verify(url: str) -> str:
    from iom.db import make_engine, session_scope
    from iom.security import audit

    engine = make_engine(url)
    started = time.perf_counter()
    with session_scope(engine) as session:
        result = audit.verify(session)
    engine.dispose()
    return (f"{'intact' if result.ok else 'BROKEN'}, {result.rows:,} rows verified in "
            f"{time.perf_counter() - started:.2f} s")


def _suite(name: str, url: str, *, workers: int, tmp: Path) -> None:
    print(f"   -- {name}, {workers} worker(s), {CLIENTS} connections, {SECONDS} s per run", flush=True)
    started = time.perf_counter()
    _iom(url, "score", "--train")
    print(f"   (scored the force in {time.perf_counter() - started:.0f} s; not part of the figures)", flush=True)
    ids, pages, username, password, storm = _prepare(url)
    if not ids:
        print("   no cohort members in scope: nothing to measure")
        return
    rng = random.Random(1)
    mix = [f"/people/{rng.choice(ids)}" if k % 2 else f"/api/v1/caseload?page={rng.randint(1, pages)}" for k in range(4000)]
    env = {**os.environ, "IOM_ENV": "development", "IOM_DATABASE_URL": url, "IOM_SECRET_KEY": secrets.token_urlsafe(48)}

    (tmp / "bare_app.py").write_text(BARE)
    bare = Server([sys.executable, "-m", "uvicorn", "--app-dir", str(tmp), "bare_app:app", "--log-level", "warning",
                   "--no-access-log", "--workers", str(workers)], env, tmp / "bare.log", "/")
    try:
        floor_run = _result(_wrk(bare.base, ["/"], connections=CLIENTS, seconds=SECONDS))
    finally:
        bare.stop()
    floor = floor_run["requests"] / floor_run["seconds"]
    print(_line("bare FastAPI endpoint (the floor)", floor_run), flush=True)

    app = Server([sys.executable, "-m", "iom.cli", "serve", "--workers", str(workers)], env, tmp / "app.log", "/login")
    try:
        login = httpx.post(app.base + "/api/v1/session", json={"username": username, "password": password,
                                                               "purpose": "load benchmark"}, timeout=30)
        if login.status_code != 200:
            raise RuntimeError(f"sign-in answered {login.status_code}: {login.text[:300]}")
        cookie = login.cookies["iom_session"]
        warm = _result(_wrk(app.base, mix, connections=4, seconds=5, cookie=cookie))  # fills each worker's views
        del warm
        mixed = _result(_wrk(app.base, mix, connections=CLIENTS, seconds=SECONDS, cookie=cookie))
        print(_line("person page + caseload API", mixed, floor), flush=True)
        me = _result(_wrk(app.base, ["/api/v1/me"], connections=CLIENTS, seconds=min(10, SECONDS), cookie=cookie))
        print(_line("/api/v1/me (signed in, no person)", me, floor), flush=True)
        rate = mixed["requests"] / mixed["seconds"]
        verdict = mixed["p95"] < 100 and rate >= 0.2 * floor and mixed["s5xx"] == 0
        print(f"   target p95 < 100 ms, >= 0.2x the floor, no 5xx: {'met' if verdict else 'NOT met'} "
              f"(p95 {mixed['p95']:.1f} ms, {rate / floor:.2f}x, {mixed['s5xx']} 5xx)", flush=True)

        bodies = [f'POST /api/v1/session {json.dumps({"username": n, "password": password, "purpose": "load benchmark"})}'
                  for n in storm]
        storming = _wrk(app.base, bodies, connections=STORM_USERS, seconds=STORM_SECONDS, threads=2)
        reading = _wrk(app.base, [p for p in mix if p.startswith("/people/")], connections=STORM_READERS,
                       seconds=STORM_SECONDS, threads=1, cookie=cookie)
        signins, reads = _result(storming), _result(reading)
        print(_line(f"sign-in storm ({STORM_USERS} connections)", signins), flush=True)
        print(_line(f"person pages during it ({STORM_READERS})", reads), flush=True)
        answered = all(r["timeout"] == 0 and r["max"] < 10_000 and r["s5xx"] == 0 for r in (signins, reads))
        print(f"   target no 500 and every request answered within 10 s: {'met' if answered else 'NOT met'} "
              f"({signins['s5xx'] + reads['s5xx']} 5xx other than 503, {signins['timeout'] + reads['timeout']} timeouts, "
              f"slowest {max(signins['max'], reads['max']) / 1000:.1f} s; {signins['s2xx']} signed in, "
              f"{signins['s503']} told to retry)", flush=True)
    finally:
        app.stop()
    print(f"   audit chain after the runs: {_verify(url)}", flush=True)


def main() -> None:
    if shutil.which("wrk") is None:
        print("   wrk is not installed (Debian: apt-get install wrk, or scripts/system-deps): skipped")
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _suite("SQLite", default_force(tmp), workers=1, tmp=tmp)
        made = _pg_force()
        if made is not None:
            url, schema = made
            try:
                _suite("PostgreSQL", url, workers=2, tmp=tmp)
            finally:
                _drop_schema(schema)


if __name__ == "__main__":
    main()
