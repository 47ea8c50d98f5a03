"""Local stand-ins for the clouds: moto (S3) and gcp-storage-emulator (GCS).

The GCS emulator runs with the one header it lacks (``gcs_emulator.py``).

Both servers start once per test session, bound to 127.0.0.1 on free
ports, and stop (by their pid) when the session ends. The variables a user
sets for a real bucket point the clients at them.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

BUCKET = "jaxsession-test"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, url):
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return proc
        except urllib.error.HTTPError:
            return proc  # it answers
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{args[1]} did not start") from None
            time.sleep(0.2)


@pytest.fixture(scope="session")
def buckets():
    """``{"gs": "gs://BUCKET", "s3": "s3://BUCKET"}``, served locally."""
    s3_port, gcs_port = _free_port(), _free_port()
    s3_url, gcs_url = f"http://127.0.0.1:{s3_port}", f"http://127.0.0.1:{gcs_port}"
    env = {
        "AWS_ENDPOINT_URL": s3_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "STORAGE_EMULATOR_HOST": gcs_url,
        # TensorStore (Orbax's array data) skips real Google credentials.
        "GOOGLE_AUTH_TOKEN_FOR_TESTING": "testing",
        # gcsfs's bucket-type probe needs real credentials; the emulator has
        # plain buckets.
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    }
    saved = {k: os.environ.get(k) for k in [*env, "TENSORSTORE_GCS_HTTP_URL"]}
    os.environ.update(env)
    servers = []
    try:
        servers.append(
            _start(["-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)], s3_url)
        )
        servers.append(
            _start(
                [
                    str(Path(__file__).with_name("gcs_emulator.py")),
                    "start",
                    "--host=127.0.0.1",
                    f"--port={gcs_port}",
                    "--in-memory",
                    f"--default-bucket={BUCKET}",
                ],
                gcs_url,
            )
        )
        import boto3

        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield {"gs": f"gs://{BUCKET}", "s3": f"s3://{BUCKET}"}
    finally:
        for proc in servers:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(params=["gs", "s3"])
def bucket(request, buckets):
    """A fresh folder in one bucket per scheme, as a URL."""
    return f"{buckets[request.param]}/{request.node.name.replace('[', '-').rstrip(']')}"
