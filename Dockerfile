# Silent Partner: one image for every instance. Configuration comes from the environment at run time;
# nothing secret is baked in.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng curl \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 app \
    && mkdir /data && chown app:app /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY silentpartner ./silentpartner
# pipecat-ai only for the end-of-turn model file in its wheel: without its dependencies, never imported.
RUN pip install ".[postgres,speech]" && pip install --no-deps "pipecat-ai==1.14.0"

USER app
# Without PostgreSQL the database is a SQLite file in /data: mount a volume there to keep it.
ENV DATABASE_URL=sqlite+aiosqlite:////data/silentpartner.db
# Call recordings (businesses with record_calls) are kept in the same volume.
ENV RECORDINGS_DIR=/data/recordings
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/readyz || exit 1
CMD ["silentpartner", "serve", "--host", "0.0.0.0", "--port", "8000"]
