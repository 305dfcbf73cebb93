"""The use cases (create, start, tick, dial, result, sweep), shared by the
Celery tasks, the Python client and the CLI so that each rule lives once."""
