from tests.integration.conftest import celery_worker, exchange_urls, simulator  # noqa: F401
