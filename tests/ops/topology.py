"""The chain-store topology as plain processes: API replicas (`trayscan serve`) on one PostgreSQL catalog behind
Debian's nginx, each started on a free loopback port and stopped at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from trayscan.bench.server import ServerProcess, free_port

ADMIN_TOKEN = "replica-test-admin-token"

NGINX_CONF = """\
{user}worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 300m;
    upstream trayscan {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://trayscan;
            proxy_set_header Host $host;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Forwarded-For $remote_addr;  # replaced, not appended: a client cannot name itself
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def nginx_path() -> str | None:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@contextmanager
def nginx(upstream_ports: list[int], directory: Path) -> Iterator[str]:
    """nginx in the foreground, round-robin over the upstreams; yields its URL."""
    executable = nginx_path()
    if executable is None:
        raise RuntimeError("nginx is not installed: `make test` installs it (apt-get install nginx)")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstream_ports)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must write the temp folders of this test
    config = directory / "nginx.conf"
    config.write_text(NGINX_CONF.format(user=user, dir=directory, servers=servers, port=port))
    log = (directory / "stdout.log").open("ab")
    process = subprocess.Popen(
        [executable, "-p", str(directory), "-c", str(config), "-g", "daemon off;"], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(directory / 'error.log').read_text()[-2000:]}")
            try:
                httpx.get(url + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not answer within 20 s") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def replica(state_dir: Path, database_url: str) -> ServerProcess:
    """One API replica: its own index folder and photo folder, the shared catalog database."""
    return ServerProcess(
        state_dir,
        env={
            "TRAYSCAN_DATABASE_URL": database_url,
            "TRAYSCAN_ADMIN_TOKEN": ADMIN_TOKEN,
            "TRAYSCAN_DEMO__ENABLED": "false",
            "TRAYSCAN_SERVER__BACKGROUND_STARTUP": "true",
        },
        ready_timeout_s=180,
    )
