# syntax=docker/dockerfile:1
# The dialer's one image: worker (default), beat, flower, the migration and the exporter
# are the same code started with different commands (see docker-compose.yml).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md beat_schedule.py ./
COPY dialer ./dialer
COPY models ./models
COPY workers ./workers
# Wheels of the project and every dependency, so the final stage needs no compiler or cache.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels dialer \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin dialer
USER dialer
WORKDIR /home/dialer
# Flower and the Prometheus exporter, when the container runs them.
EXPOSE 5555 9108
CMD ["celery", "-A", "workers.app", "worker", "--loglevel", "INFO"]
