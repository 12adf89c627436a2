"""Benchmark: the practice-wide trends responses against the raw SQL aggregates behind them.

For each figure, times the full API response (authentication, scoping, the aggregate query,
anonymisation, JSON) through Django's request handling in this process, and the same SQL
executed bare on a cursor; prints medians and their ratio (target: at most 2x).

    DATABASE_URL=... .venv/bin/python -m benchmarks.trends [--repeat 7] [--months 12]

It reads the demo practice (``manage.py seed_demo --scale reference`` for the reference data
set) as its supervisor, Ruth Okafor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--username", default="ruth.okafor")
    parser.add_argument("--password", default="mend-demo-2026")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    os.environ["THROTTLE_USER"] = "100000/min"
    import django

    django.setup()
    import datetime as dt

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from cases.choices import Role
    from cases.models import User
    from cases.selectors import practices_where
    from ruptures import trends
    from ruptures.services import practice_today

    settings.ALLOWED_HOSTS = ["*"]
    user = User.objects.get(username=args.username)
    practice = practices_where(user=user, role=Role.SUPERVISOR).get()
    http = Client()
    login = http.post(
        "/api/v1/auth/login/",
        {"username": args.username, "password": args.password},
        content_type="application/json",
    )
    token = login.json()["token"]
    last = practice_today(practice).replace(day=1)
    first = last
    for _ in range(args.months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    period = trends.period_of(first, last)
    query = {"from": first.strftime("%Y-%m"), "to": last.strftime("%Y-%m")}

    def timed(action, repeat: int) -> float:
        action()  # warm: plans, caches, connection
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            action()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    print(
        f"practice {practice.slug}, {args.months} months from {query['from']}, "
        f"median of {args.repeat}"
    )
    print(f"{'figure':<24} {'raw SQL ms':>11} {'API ms':>9} {'ratio':>7}")
    ratios = []
    for name, spec in trends.FIGURES.items():
        sql = trends._query(spec, spec.inherent)
        params = trends._params(practice, period)

        def raw(sql: str = sql, params: dict = params) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        def api(name: str = name) -> None:
            response = http.get(
                f"/api/v1/trends/{name}/", query, HTTP_AUTHORIZATION=f"Token {token}"
            )
            assert response.status_code == 200, response.content  # noqa: S101

        raw_s, api_s = timed(raw, args.repeat), timed(api, args.repeat)
        ratios.append(api_s / raw_s)
        print(f"{name:<24} {raw_s * 1000:>11.1f} {api_s * 1000:>9.1f} {api_s / raw_s:>7.2f}")
    print(f"{'worst ratio':<24} {'':>11} {'':>9} {max(ratios):>7.2f}")


if __name__ == "__main__":
    main()
