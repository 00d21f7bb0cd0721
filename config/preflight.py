"""Stop at once, with one clear line, when PostgreSQL or Redis is not reachable.

Run by `make test` before pytest, so a stopped service reads as an instruction
rather than a stack trace.
"""

import sys

import environ
import psycopg
import redis


def main() -> int:
    env = environ.Env()
    db = env.db("DATABASE_URL")
    try:
        psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"] or "postgres",
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error:
        print(
            f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT'] or 5432}; start it "
            "with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            file=sys.stderr,
        )
        return 1
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = env(name)
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError:
            print(
                f"Redis is not reachable at {url} ({name}); start it with: "
                'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" '
                "--appendonly no",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
