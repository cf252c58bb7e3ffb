#!/bin/sh
# The broker's entry point in docker-compose.yml (image eclipse-mosquitto:2).
# The project's mosquitto/ directory is mounted read-only at /pillpal/mosquitto; the password file lives
# in the volume at /mosquitto/config, so boxes provisioned later keep their entries across restarts.
# The services' users are (re)written from the environment on every start; nothing has a default.
set -eu

config=/mosquitto/config
mkdir -p "$config" /mosquitto/data
cp /pillpal/mosquitto/mosquitto.conf /pillpal/mosquitto/acl "$config/"

if [ "${PILLPAL_LEGACY_DEVICES:-0}" = "1" ]; then
  # The shipped firmware has no credentials: anonymous clients, held to the legacy topics by the ACL.
  sed -i 's/^allow_anonymous .*/allow_anonymous true/' "$config/mosquitto.conf"
fi

touch "$config/passwd"
chmod 0600 "$config/passwd"
for user in auth meds device-gateway adherence ops; do
  variable="MQTT_PASSWORD_$(echo "$user" | tr 'a-z-' 'A-Z_')"
  password="$(printenv "$variable" || true)"
  if [ -z "$password" ]; then
    echo "mosquitto boot: $variable is required but not set" >&2
    exit 64
  fi
  mosquitto_passwd -b "$config/passwd" "svc-$user" "$password"
done
chown -R mosquitto:mosquitto "$config" /mosquitto/data

exec /usr/sbin/mosquitto -c "$config/mosquitto.conf"
