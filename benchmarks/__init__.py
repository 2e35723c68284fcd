"""Benchmarks for issue 11 (see docs/performance.md): scripts anyone can run.

    python -m benchmarks.latency     1. connection-test latency against the exchange's own time
    python -m benchmarks.dashboard   2. dashboard and list queries; dashboard throughput
    python -m benchmarks.fleet       3. fleet re-check at the exchanges' allowed rates
    python -m benchmarks.memory      4. a worker's memory over 10,000 tests
    python -m benchmarks             all four, one after the other

They need PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), and use a database and a Redis
database of their own. They are not part of the test suite; tests/benchmarks_smoke runs their
cores in tiny mode.
"""
