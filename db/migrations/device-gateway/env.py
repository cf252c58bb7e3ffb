from pillpal_shared.migrate import run_env

run_env("device-gateway")
