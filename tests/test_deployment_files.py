"""The shipped deployment files agree with the code: every setting, refused placeholders."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config import Config

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT = ROOT / "docs" / "deployment"
ENV_EXAMPLE = DEPLOYMENT / "petition.env.example"
START = "from petition import create_app; create_app(); print('started')"


def settings_read(path: Path) -> set[str]:
    return set(re.findall(r"""(?:environ\.get|_bool|_int)\(\s*["']([A-Z_]+)["']""",
                          path.read_text()))


def example() -> dict[str, str]:
    """The example's assignments as systemd's EnvironmentFile reads them."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().removeprefix('"').removesuffix('"')
    return values


def start(env: dict[str, str]) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items()
               if key not in Config.__dict__ and not key.startswith(("PETITION_", "FLASK_"))}
    return subprocess.run([sys.executable, "-c", START], cwd=ROOT, env=environ | env,
                          capture_output=True, text=True, timeout=60)


def test_every_setting_is_in_the_example():
    text = ENV_EXAMPLE.read_text()
    names = settings_read(ROOT / "config.py") | settings_read(DEPLOYMENT / "gunicorn.conf.py")
    names |= {"PETITION_ENV", "FLASK_DEBUG"}
    missing = [name for name in sorted(names)
               if not re.search(rf"^(# )?{name}=", text, flags=re.MULTILINE)]
    assert not missing, f"not in petition.env.example: {missing}"


def test_the_shell_reads_the_example_as_systemd_does():
    shell = subprocess.run(["bash", "-c", f"set -a; . {ENV_EXAMPLE}; set +a; env -0"],
                           capture_output=True, text=True, check=True,
                           env={"PATH": "/usr/bin:/bin"})
    read = dict(item.split("=", 1) for item in shell.stdout.split("\0") if "=" in item)
    assert {name: read.get(name) for name in example()} == example()


def test_production_refuses_the_placeholders_and_starts_with_real_keys():
    values = example()
    refused = start(values)
    assert refused.returncode != 0 and "EMAIL_KEY is not a Fernet key" in refused.stderr

    values["EMAIL_KEY"] = Fernet.generate_key().decode()
    refused = start(values)
    assert refused.returncode != 0 and "SECRET_KEY is a placeholder" in refused.stderr

    values["SECRET_KEY"] = "Zk3v9QyR2nLw8XbT5mCa1HdJ7sPeU4oGiVfK6tNqYzB0"
    started = start(values)
    assert started.stdout.strip() == "started", started.stderr


def size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)\s*([kKmM]?)B?", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit.lower()]


@pytest.mark.parametrize("file, pattern", [
    ("nginx.conf", r"location /admin/ \{\s*client_max_body_size (\w+);"),
    ("Caddyfile", r"request_body @admin \{\s*max_size (\w+)"),
])
def test_the_proxy_lets_the_largest_import_and_reply_through(file, pattern):
    # The import check and a drive's reply form take up to twice IMPORT_MAX_BYTES or
    # DRIVE_REPLY_MAX_BYTES plus 64 KB (admin/imports.py, admin/drive_replies.py).
    limit = size(re.search(pattern, (DEPLOYMENT / file).read_text()).group(1))
    largest = max(int(example()["IMPORT_MAX_BYTES"]), int(example()["DRIVE_REPLY_MAX_BYTES"]))
    assert limit >= 2 * largest + 65536


def test_the_proxies_pass_the_host_with_its_port():
    """Forward the Host as the browser sent it, port included: the origin check compares it."""
    nginx = (DEPLOYMENT / "nginx.conf").read_text()
    forwarded = dict(re.findall(r"^\s*proxy_set_header\s+(Host|X-Forwarded-Host)\s+(\S+);",
                                nginx, flags=re.MULTILINE))
    # $host drops the port: on any port but 443 every form failed the Referer check.
    assert forwarded == {"Host": "$http_host", "X-Forwarded-Host": "$http_host"}
    # Caddy passes the Host through as sent and sets X-Forwarded-Host from it; an override
    # with {host} or {upstream_hostport} would drop or replace the port.
    caddy = "\n".join(line.split("#", 1)[0] for line in
                      (DEPLOYMENT / "Caddyfile").read_text().splitlines())
    assert not re.search(r"header_up\s+[-+]?(Host|X-Forwarded-Host)\b", caddy, flags=re.I)
    assert re.search(r"^\s*reverse_proxy 127\.0\.0\.1:8000\s*$", caddy, flags=re.MULTILINE)
