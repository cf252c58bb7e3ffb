import pytest

from pillpal_shared.config import ConfigError, Env, common_settings, database_url, mqtt_settings, parse_broker_url


def test_mysql_url_from_seed_names():
    env = Env({"DB_HOST": "db", "DB_USER": "pill", "DB_PASSWORD": "p@ss", "DB_NAME": "pillpal", "DB_PORT": "3307"})
    assert database_url(env, "auth") == "mysql+pymysql://pill:p%40ss@db:3307/pillpal?charset=utf8mb4"


def test_database_url_wins_and_sqlite_is_the_embedded_default():
    assert database_url(Env({"DATABASE_URL": "mysql://u@h/d"}), "meds") == "mysql+pymysql://u@h/d"
    assert database_url(Env({}), "device-gateway") == "sqlite:///var/device_gateway.db"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"DB_HOST": "db", "DB_USER": "u", "DB_NAME": "d", "DB_PORT": "abc"}, "DB_PORT"),
        ({"DB_HOST": "db", "DB_NAME": "d"}, "DB_USER"),
        ({"DATABASE_URL": "postgres://x/y"}, "DATABASE_URL"),
        ({"MQTT_BROKER": "http://broker:1883"}, "MQTT_BROKER"),
        ({"MQTT_BROKER": "mqtt://broker:notaport"}, "MQTT_BROKER"),
        ({"MQTT_PROTOCOL": "4"}, "MQTT_PROTOCOL"),
    ],
)
def test_a_bad_value_names_its_variable(environ, variable):
    with pytest.raises(ConfigError, match=variable):
        env = Env(environ)
        database_url(env, "auth")
        mqtt_settings(env, "auth")


def test_secrets_have_no_default():
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEY"):
        common_settings("meds", Env({}))


def test_secret_from_file(tmp_path):
    key = tmp_path / "pub.pem"
    key.write_text("PEM")
    assert Env({"JWT_PUBLIC_KEY_FILE": str(key)}).secret("JWT_PUBLIC_KEY") == "PEM"
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEY_FILE"):
        Env({"JWT_PUBLIC_KEY_FILE": str(tmp_path / "missing")}).secret("JWT_PUBLIC_KEY")


def test_broker_urls():
    assert parse_broker_url("mqtt://127.0.0.1:1883") == ("127.0.0.1", 1883, False)
    assert parse_broker_url("mqtts://broker.example") == ("broker.example", 8883, True)
    assert parse_broker_url("localhost:1884") == ("localhost", 1884, False)


def test_dotenv_file_is_read_and_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("DB_NAME=fromfile\nLOG_LEVEL=DEBUG\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    env = Env()
    assert env.str("DB_NAME") == "fromfile"
    assert env.str("LOG_LEVEL") == "ERROR"
