# One image for every PillPal service, its worker, the migration job and the certificate job
# (see deploy/boot.sh and docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY shared shared
COPY services services
RUN pip install ./shared ./services/auth ./services/meds ./services/device-gateway ./services/adherence

COPY db/migrations db/migrations
COPY deploy/boot.sh deploy/boot.sh

# The installed packages do not sit beside db/: say where the migrations are.
ENV PILLPAL_MIGRATIONS_DIR=/app/db/migrations \
    PROMETHEUS_MULTIPROC_DIR=/var/lib/pillpal/metrics

RUN useradd --system --uid 10001 --no-create-home --home-dir /app pillpal \
    && mkdir -p /var/lib/pillpal/metrics /certs \
    && chown pillpal /var/lib/pillpal/metrics /certs
USER pillpal

EXPOSE 8000
ENTRYPOINT ["/app/deploy/boot.sh"]
CMD ["web", "auth"]
