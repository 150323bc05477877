"""Bounded load run on loopback: 50 concurrent clients for 30 s against the person page and
the caseload API, on the default synthetic force (SQLite), scored as `make run` scores it so
person pages carry their explanations. Prints requests/s and p50/p95/p99.

The server runs in its own process (`iom serve`, one uvicorn worker), the clients in this one
(httpx, asyncio), on the same two cores. Every request appends a hash-chained audit row, so
the run also measures the audit log under write load; the chain is verified afterwards.

Four runs: one client (a request's own time, no queueing); 50 clients on `/api/v1/me`, a
signed-in request that reads no person (what this harness and the framework can do at all);
50 clients that never pause (the target's run); 50 clients that pause a second between
requests, as people do.

The force is shared with the other benchmarks (common.py); IOM_BENCH_WEB_SECONDS /
IOM_BENCH_WEB_CLIENTS change the bounds."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import default_force
from sqlalchemy import select

CLIENTS = int(os.environ.get("IOM_BENCH_WEB_CLIENTS", "50"))
SECONDS = float(os.environ.get("IOM_BENCH_WEB_SECONDS", "30"))
LOMU = "LBM"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _score(url: str) -> None:
    """Store scores for the reference date, as `make run` does (not part of the figures)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, "score"], check=True, capture_output=True)
    print(f"   (scored the force in {time.perf_counter() - started:.0f} s; not part of the figures)", flush=True)


def _prepare(url: str) -> tuple[list[int], int, str]:
    """A database with the default force, a bench user, and person ids in that user's scope."""
    from iom.cohorts.service import current_member_ids
    from iom.db import make_engine, session_scope
    from iom.register.models import Person
    from iom.security import service as users
    from iom.security.roles import Principal
    from iom.security.scope import people_query
    from iom.casefile.record import caseload
    from iom.register.service import reference_date

    engine = make_engine(url)
    password = secrets.token_urlsafe(16)
    username = f"bench_{secrets.token_hex(3)}"
    with session_scope(engine) as session:
        users.add_user(session, username=username, password=password, role="offender_manager", lomu_code=LOMU)
        as_of = reference_date(session)
        who = Principal(username=username, role="offender_manager", lomu_code=LOMU)
        members = current_member_ids(as_of).subquery()
        query = people_query(who, as_of).with_only_columns(Person.id).where(Person.id.in_(select(members.c.person_id)))
        ids = list(session.scalars(query))
        total = caseload(session, who, as_of=as_of, per_page=50).total
    engine.dispose()
    return ids, max(1, -(-total // 50)), f"{username}\n{password}"


def _mixed(ids: list[int], pages: int, rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.5:
        return "person page", f"/people/{rng.choice(ids)}"
    return "caseload API", f"/api/v1/caseload?page={rng.randint(1, pages)}"


def _signed_in(ids: list[int], pages: int, rng: random.Random) -> tuple[str, str]:
    return "me API", "/api/v1/me"


async def _client(base: str, cookies: httpx.Cookies, ids: list[int], pages: int, stop: float,
                  results: dict[str, list[float]], errors: dict[str, int], rng: random.Random,
                  choose=_mixed, think: float = 0.0) -> None:
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
        while time.perf_counter() < stop:
            if think:
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
            name, path = choose(ids, pages, rng)
            started = time.perf_counter()
            try:
                response = await client.get(path)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            elapsed = time.perf_counter() - started
            if ok:
                results.setdefault(name, []).append(elapsed)
            else:
                errors[name] = errors.get(name, 0) + 1


def _report(name: str, samples: list[float], errors: int, seconds: float) -> None:
    if not samples:
        print(f"   {name:<13} no successful requests ({errors} errors)")
        return
    q = statistics.quantiles(samples, n=100, method="inclusive")
    print(f"   {name:<13} {len(samples) / seconds:7.1f} req/s  p50 {q[49] * 1000:6.1f} ms  "
          f"p95 {q[94] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms  ({len(samples):,} ok, {errors} errors)")


def _load(base: str, cookies: httpx.Cookies, ids: list[int], pages: int, *, clients: int, seconds: float,
          label: str, verdict: bool = False, choose=_mixed, think: float = 0.0) -> None:
    results: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    print(f"   {label} for {seconds:.0f} s: {len(ids):,} people in scope, {pages} caseload pages")
    started = time.perf_counter()
    stop = started + seconds

    async def run() -> None:
        await asyncio.gather(*(
            _client(base, cookies, ids, pages, stop, results, errors, random.Random(i), choose, think)
            for i in range(clients)
        ))

    asyncio.run(run())
    elapsed = time.perf_counter() - started
    total = sum(len(v) for v in results.values())
    print(f"   overall       {total / elapsed:7.1f} req/s over {elapsed:.1f} s")
    for name in sorted(set(results) | set(errors)):
        _report(name, results.get(name, []), errors.get(name, 0), elapsed)
    everything = [x for v in results.values() for x in v]
    if verdict and everything:
        q = statistics.quantiles(everything, n=100, method="inclusive")
        print(f"   target p95 < 100 ms: {'met' if q[94] < 0.1 else 'NOT met'} (p95 {q[94] * 1000:.1f} ms, all requests)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = default_force(Path(tmp))
        _score(url)
        ids, pages, creds = _prepare(url)
        username, password = creds.split("\n")
        if not ids:
            print("   no cohort members in scope: nothing to measure")
            return
        port = _free_port()
        env = {**os.environ, "IOM_ENV": "development", "IOM_DATABASE_URL": url}
        server_log = (Path(tmp) / "server.log").open("w+")
        server = subprocess.Popen(
            [sys.executable, "-m", "iom.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=server_log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/login", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        server_log.seek(0)
                        raise RuntimeError(f"server did not start: {server_log.read()[-1000:]}")
                    time.sleep(0.2)
            login = httpx.post(f"{base}/api/v1/session", json={"username": username, "password": password,
                                                             "purpose": "load benchmark"})
            if login.status_code != 200:
                server_log.seek(0)
                raise RuntimeError(f"sign-in answered {login.status_code}; the server said:\n{server_log.read()[-3000:]}")
            cookies = login.cookies
            # One client first: the server time of a request, with no queueing in it.
            _load(base, cookies, ids, pages, clients=1, seconds=min(10.0, SECONDS), label="1 client")
            _load(base, cookies, ids, pages, clients=CLIENTS, seconds=min(10.0, SECONDS), choose=_signed_in,
                  label=f"{CLIENTS} clients on /api/v1/me (the harness's ceiling)")
            _load(base, cookies, ids, pages, clients=CLIENTS, seconds=SECONDS, verdict=True,
                  label=f"{CLIENTS} clients, no pause")
            _load(base, cookies, ids, pages, clients=CLIENTS, seconds=min(20.0, SECONDS), think=1.0,
                  label=f"{CLIENTS} clients pausing about 1 s between requests")
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server_log.close()
        from iom.db import make_engine, session_scope
        from iom.security import audit

        engine = make_engine(url)
        verify_started = time.perf_counter()
        with session_scope(engine) as session:
            result = audit.verify(session)
        print(f"   audit chain after the run: {'intact' if result.ok else 'BROKEN'}, {result.rows:,} rows verified "
              f"in {time.perf_counter() - verify_started:.2f} s")
        engine.dispose()


if __name__ == "__main__":
    main()
