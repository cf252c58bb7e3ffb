#!/bin/sh
# The entry point of the PillPal image (docker-compose.yml):
#   boot.sh migrate            bring every service's schema slice to head, then exit
#   boot.sh web <service>      gunicorn serving the service's HTTP API on :8000
#   boot.sh worker <service>   the service's MQTT worker (consumers, outbox relay, engines)
#   boot.sh certs              a self-signed certificate for nginx, unless one is already there
# Each ends in `exec`, so the program is PID 1 and receives the container's SIGTERM.
set -eu

package_of() {
  case "$1" in
    auth) echo pillpal_auth ;;
    meds) echo pillpal_meds ;;
    device-gateway) echo pillpal_gateway ;;
    adherence) echo pillpal_adherence ;;
    *) echo "boot.sh: unknown service '$1' (auth, meds, device-gateway, adherence)" >&2; exit 64 ;;
  esac
}

clear_metrics() {
  # gunicorn workers and the MQTT worker(s) of one service share this directory (a volume), so that
  # /metrics shows them all. Each process's files are named <kind>_<host>-<pid>.db: remove only what
  # an earlier run of this container left, never the files the worker containers are writing now.
  if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    host="$(tr _ - < /proc/sys/kernel/hostname)"
    find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name "*_${host}-*.db" -delete
  fi
}

command="${1:-}"
case "$command" in
  migrate)
    exec pillpal-migrate
    ;;
  web)
    package="$(package_of "${2:?boot.sh web <service>}")"
    if [ "${PILLPAL_MIGRATE_ON_BOOT:-0}" = "1" ]; then
      pillpal-migrate "$2"
    fi
    clear_metrics
    exec gunicorn "$package.wsgi:app" \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" \
      --worker-tmp-dir /dev/shm \
      --graceful-timeout 20 \
      --forwarded-allow-ips '*'
    ;;
  worker)
    package="$(package_of "${2:?boot.sh worker <service>}")"
    exec python -m "$package.worker"
    ;;
  certs)
    exec python -m pillpal_shared.certs --dir "${CERT_DIR:-/certs}"
    ;;
  *)
    echo "usage: boot.sh migrate | web <service> | worker <service> | certs" >&2
    exit 64
    ;;
esac
