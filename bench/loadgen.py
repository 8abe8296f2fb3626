"""The load generator, in its own process: N client threads on keep-alive connections.

`python bench/loadgen.py < spec.json` prints a JSON result. The spec:
  port, clients, warmup, duration (seconds), max_requests (a bound on the count),
  kind: "get" (path), "bare" (POST path), "sign" (slug, lang), "confirm" (tokens),
  "write" (slug and lang of a letter drive, fields: the letter form's fields but the
  address and the stamp).
A "sign" or "write" client first GETs the letter page in its language (`?lang=`, the spec's
"lang", else en: without it the page is a redirect) and reads the form's `form_started`
stamp, then POSTs the form again and again with it. The public pages set no cookie and
their forms carry no token (docs/caching.md): every POST ("confirm" too) carries
`Sec-Fetch-Site: same-origin` and a same-origin Referer, as a current browser sends them,
and no token or cookie.
Only requests started after the warm-up and before its end are counted. Only 127.0.0.1.
"""
from __future__ import annotations

import http.client
import itertools
import json
import re
import sys
import threading
import time
from urllib.parse import urlencode

HOST = "127.0.0.1"
# The sign and letter forms' hidden stamp of the time they were shown (submission_guard).
FORM_STARTED = re.compile(r'name="form_started" value="([^"]+)"')
EXPECTED = {"get": 200, "bare": 201, "sign": 303, "confirm": 200, "write": 303}


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            # gunicorn's sync workers close after each response: open again and retry once.
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, data


def run(spec: dict) -> dict:
    kind, port = spec["kind"], spec["port"]
    warmup, duration = spec.get("warmup", 2.0), spec.get("duration", 10.0)
    limit = spec.get("max_requests", 100_000)
    tokens = iter(spec.get("tokens", []))
    token_lock = threading.Lock()
    numbers = itertools.count()
    started = time.perf_counter()
    window = (started + warmup, started + warmup + duration)
    results: list[tuple[float, float, bool]] = []  # (start, latency, as expected)
    lock = threading.Lock()
    page = f"/letters/{spec.get('slug', '')}?lang={spec.get('lang', 'en')}"
    from_page = {"Referer": f"http://{HOST}:{port}{page}", "Sec-Fetch-Site": "same-origin"}
    run_id = spec.get("run_id", "x")

    def worker(index: int) -> None:
        client = Client(port)
        stamp = None
        if kind in ("sign", "write"):
            status, body = client.request("GET", page)
            match = FORM_STARTED.search(body.decode())
            if status != 200 or not match:
                raise SystemExit(f"no form on the letter page {page} (status {status})")
            stamp = match.group(1)
        while True:
            now = time.perf_counter()
            if now >= window[1]:
                return
            number = next(numbers)
            if number >= limit:
                return
            if kind == "get":
                method, path, body, headers = "GET", spec["path"], None, {}
            elif kind == "bare":
                body = urlencode({"name": f"Signer {run_id} {number}",
                                  "email": f"s{run_id}-{number}@example.org"})
                method, path, headers = "POST", spec["path"], {}
            elif kind == "sign":
                body = urlencode({"signer_type": "individual",
                                  "name": f"Signer {number}", "country": "FR",
                                  "email": f"s{run_id}-{number}@example.org",
                                  "display": "full", "consent": "y",
                                  "form_started": stamp})
                method, path, headers = "POST", f"/letters/{spec['slug']}/sign", from_page
            elif kind == "write":
                body = urlencode({**spec["fields"], "form_started": stamp,
                                  "email": f"w{run_id}-{number}@example.org"})
                method, path, headers = "POST", f"/letters/{spec['slug']}/write", from_page
            else:
                with token_lock:
                    token = next(tokens, None)
                if token is None:
                    return
                body, method, path = "", "POST", f"/confirm/{token}"
                headers = {"Referer": f"http://{HOST}:{port}/confirm/{token}",
                           "Sec-Fetch-Site": "same-origin"}
            begin = time.perf_counter()
            try:
                status, _ = client.request(method, path, body, headers)
                ok = status == EXPECTED[kind]
            except (http.client.HTTPException, OSError):
                ok = False
                client.conn.close()
            end = time.perf_counter()
            with lock:
                results.append((begin, end - begin, ok))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(spec["clients"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = time.perf_counter()
    counted = [r for r in results if window[0] <= r[0] < window[1]]
    if not counted:  # a fixed count smaller than the warm-up: count everything
        counted, window = results, (started, window[1])
    good = sorted(latency for _, latency, ok in counted if ok)
    elapsed = min(finished, window[1]) - window[0]
    last_end = max((start + latency for start, latency, _ in counted), default=window[0])
    elapsed = max(min(elapsed, last_end - window[0]), 1e-9)

    def quantile(q: float) -> float:
        return good[min(len(good) - 1, int(q * len(good)))] if good else float("nan")

    return {"count": len(good), "errors": len(counted) - len(good), "elapsed": elapsed,
            "rate": len(good) / elapsed, "p50": quantile(0.50), "p99": quantile(0.99),
            "max": good[-1] if good else float("nan"), "total": len(results),
            "clients": spec["clients"]}


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))))
