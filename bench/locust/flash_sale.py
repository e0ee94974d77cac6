"""
Flash sale under Locust: buyers whose access tokens are made before the swarm starts, each
buying until the sale answers SOLD_OUT; then the run checks that exactly `quantity` buyers won
(no oversell, no lost unit) and that their reservations became orders.

    npm run seed -- --users 300 --products 1 --orders 0   # prints e.g. user0.42-mf3k2q@seed.example
    locust -f bench/locust/flash_sale.py --headless -u 300 -r 100 -t 3m \
        --host http://localhost:3000 --buyer-email 'user{i}.42-mf3k2q@seed.example'

Setup (on test start, one process only — not --processes or distributed): the admin
(--admin-email/--admin-password, the ADMIN_EMAIL/ADMIN_PASSWORD defaults of .env.example) creates
a product with --quantity units and an active flash sale of them (perUserLimit 1); buyers
0..N-1 (N = the -u user count) log in with --buyer-email (`{i}` is the buyer number) and
--buyer-password. Without --buyer-email buyers are registered instead (`POST /auth/register`,
limited per client IP by REGISTER_RATE_LIMIT: raise it on the server for that).

Every Locust user is one buyer and POSTs /api/v1/flash-sales/:id/purchase until it gets 202
(its reservation; then it stops) or 409 SOLD_OUT (it stops). 409 ALREADY_PURCHASED / NOT_ACTIVE
and 429 RATE_LIMITED are expected answers (counted, not failures); anything else is a failure.
Once every user has stopped, or the first SOLD_OUT plus a short grace, the run ends. Local
(127.0.0.1) targets only: this is load, bounded by -u and -t.
"""

import logging
import time
import uuid
from datetime import datetime, timedelta, timezone

import gevent
import requests
from gevent.pool import Pool
from locust import HttpUser, between, events, task
from locust.exception import StopUser
from locust.runners import LocalRunner

log = logging.getLogger("flash_sale")

# Filled on test start (one process), read by the users.
SALE = {"id": None, "quantity": 0, "tokens": [], "next": 0, "sold_out_at": None}
OUTCOMES = {"202": 0, "SOLD_OUT": 0, "ALREADY_PURCHASED": 0, "NOT_ACTIVE": 0, "RATE_LIMITED": 0, "other": 0}
WINNERS = []  # tokens of the buyers who got a reservation


@events.init_command_line_parser.add_listener
def _(parser):
    parser.add_argument("--quantity", type=int, default=100, help="units in the sale (default 100)")
    parser.add_argument("--buyer-email", default="", help="login of buyer i, with {i}, e.g. user{i}.42-abc@seed.example")
    parser.add_argument("--buyer-password", default="seed-password-123", help="password of every buyer")
    parser.add_argument("--admin-email", default="admin@shop.local")
    parser.add_argument("--admin-password", default="admin-password-change-me")


def _api(host, path):
    return f"{host.rstrip('/')}/api/v1{path}"


def _post(host, path, body, token=None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    res = requests.post(_api(host, path), json=body, headers=headers, timeout=30)
    if res.status_code >= 300:
        raise RuntimeError(f"POST {path} -> {res.status_code} {res.text[:300]}")
    return res.json()


@events.test_start.add_listener
def setup_sale(environment, **_kwargs):
    if not isinstance(environment.runner, LocalRunner):
        raise RuntimeError("flash_sale.py sets up its sale in one process: run it without --processes/--master")
    opts = environment.parsed_options
    host = environment.host
    buyers = opts.num_users or 1
    started = time.monotonic()

    admin = _post(host, "/auth/login", {"email": opts.admin_email, "password": opts.admin_password})["accessToken"]
    sku = f"LOCUST-{uuid.uuid4().hex[:8].upper()}"
    _post(host, "/products", {
        "name": f"Locust flash sale {sku}",
        "variants": [{"sku": sku, "price": 1999, "currency": "EUR", "stockOnHand": opts.quantity}],
    }, admin)
    now = datetime.now(timezone.utc)
    sale = _post(host, "/flash-sales", {
        "sku": sku, "price": 999, "quantity": opts.quantity, "perUserLimit": 1,
        "startsAt": (now - timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
        "endsAt": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
    }, admin)

    run = uuid.uuid4().hex[:6]

    def token_of(i):
        if opts.buyer_email:
            body = {"email": opts.buyer_email.replace("{i}", str(i)), "password": opts.buyer_password}
            return _post(host, "/auth/login", body)["accessToken"]
        body = {"email": f"buyer{i}.{run}@locust.example", "password": opts.buyer_password, "name": f"Buyer {i}"}
        return _post(host, "/auth/register", body)["accessToken"]

    # Logins verify an argon2 hash each: a few at a time, all before the first purchase.
    tokens = Pool(8).map(token_of, range(buyers))
    SALE.update(id=sale["id"], quantity=opts.quantity, tokens=tokens, next=0, sold_out_at=None)
    log.info("sale %s: %d units of %s, %d buyers with tokens, set up in %.1f s",
             sale["id"], opts.quantity, sku, len(tokens), time.monotonic() - started)


class Buyer(HttpUser):
    wait_time = between(0, 0.05)

    def on_start(self):
        if SALE["next"] >= len(SALE["tokens"]):
            raise StopUser()  # more users than buyers with tokens
        self.token = SALE["tokens"][SALE["next"]]
        SALE["next"] += 1

    @task
    def purchase(self):
        with self.client.post(
            f"/api/v1/flash-sales/{SALE['id']}/purchase",
            headers={"authorization": f"Bearer {self.token}"},
            name="POST /flash-sales/:id/purchase",
            catch_response=True,
        ) as res:
            code = _code(res)
            if res.status_code == 202:
                OUTCOMES["202"] += 1
                WINNERS.append(self.token)
                res.success()
                raise StopUser()
            if res.status_code in (409, 429) and code in OUTCOMES:
                OUTCOMES[code] += 1
                res.success()
                if code == "SOLD_OUT":
                    SALE["sold_out_at"] = SALE["sold_out_at"] or time.monotonic()
                    raise StopUser()
                if code == "ALREADY_PURCHASED":
                    raise StopUser()
                return
            OUTCOMES["other"] += 1
            res.failure(f"{res.status_code} {res.text[:200]}")


def _code(res):
    try:
        return res.json().get("code")
    except ValueError:
        return None


@events.init.add_listener
def _end_when_done(environment, **_kwargs):
    """Ends the run once every buyer has stopped, or 5 s after the first SOLD_OUT."""

    def watch():
        while True:
            gevent.sleep(0.5)
            runner = environment.runner
            if not SALE["id"] or runner.state in ("spawning", "ready"):
                continue  # setup or the spawn is still under way
            sold_out = SALE["sold_out_at"] and time.monotonic() - SALE["sold_out_at"] > 5
            if runner.user_count == 0 or sold_out:
                runner.quit()
                return

    gevent.spawn(watch)


@events.test_stop.add_listener
def report(environment, **_kwargs):
    """Exactly `quantity` winners, and each reservation turned into an order."""
    if not SALE["id"]:
        return
    host = environment.host
    sale = requests.get(_api(host, f"/flash-sales/{SALE['id']}"),
                        headers={"authorization": f"Bearer {SALE['tokens'][0]}"}, timeout=30).json()
    deadline = time.monotonic() + 30
    results = {}
    for token in WINNERS:
        while True:
            res = requests.get(_api(host, f"/flash-sales/{SALE['id']}/purchase"),
                               headers={"authorization": f"Bearer {token}"}, timeout=30).json()
            if res.get("status") == "confirmed" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        results[res.get("status")] = results.get(res.get("status"), 0) + 1
    ok = OUTCOMES["202"] == SALE["quantity"] and sale.get("remaining") == 0 and results.get("confirmed") == len(WINNERS)
    log.info("flash sale %s: %s of %d units reserved (remaining %s, status %s); answers %s; winners' results %s — %s",
             SALE["id"], OUTCOMES["202"], SALE["quantity"], sale.get("remaining"), sale.get("status"),
             OUTCOMES, results, "OK" if ok else "MISMATCH")
    if not ok:
        environment.process_exit_code = 1
