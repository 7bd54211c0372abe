"""The Lambda side of the packaging tests: the real runtime client (awslambdaric) against a
small Runtime API, run on an unpacked bundle (a module name unique in tests/)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

RUNTIME_MODULES = (
    "awslambdaric",
    "runtime_client",
    "simplejson",
    "snapshot_restore_py",
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "dateutil",
    "six",
)


def lambda_runtime_dir(dest: Path) -> Path:
    """What Lambda's own runtime puts on sys.path next to the function: the runtime client
    and boto3 (linked from this environment)."""
    dest.mkdir()
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, f"{name} is not installed (test dependency)"
        src = Path(spec.origin)
        src = src.parent if src.name == "__init__.py" else src
        (dest / src.name).symlink_to(src)
    return dest


FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:hookline-pipeline"


class RuntimeAPI(ThreadingHTTPServer):
    """The Lambda Runtime API, enough for one invocation: hands out ``event`` once, then
    holds further polls until closed; records responses and errors."""

    daemon_threads = True

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", 0), _RuntimeHandler)
        self.event = event
        self.served = False
        self.results: list[tuple[str, Any]] = []
        self.done = threading.Event()
        self.closing = threading.Event()


class _RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RuntimeAPI

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self._reply(404)
        if self.server.served:
            self.server.closing.wait(300)
            return self._reply(500)
        self.server.served = True
        body = json.dumps(self.server.event).encode()
        self._reply(
            200,
            body,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": "req-0001",
                "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 600_000),
                "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
            },
        )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        kind = self.path.rsplit("/", 1)[-1]  # response | error (invocation or init)
        try:
            payload: Any = json.loads(body) if body else None
        except ValueError:
            payload = body.decode(errors="replace")
        self.server.results.append((kind, payload))
        self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        self.server.done.set()


def invoke_pipeline(
    task: Path, runtime: Path, api: RuntimeAPI, env: dict[str, str], python: str, handler: str
) -> tuple[str, Any, str]:
    """Run ``handler`` of the task root ``task`` through awslambdaric for one event; returns
    what the function posted back and its output."""
    boot = (
        "import runpy, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
        "sys.argv = ['awslambdaric', sys.argv[3]]; "
        "runpy.run_module('awslambdaric', run_name='__main__', alter_sys=True)"
    )
    # -I -S: no PYTHON* variables, no site-packages of this environment: the bundle only
    proc = subprocess.Popen(
        [python, "-I", "-S", "-c", boot, str(task), str(runtime), handler],
        cwd=task,
        env={
            "PATH": os.environ["PATH"],
            "LANG": "C.UTF-8",
            "LAMBDA_TASK_ROOT": str(task),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}",
            "AWS_LAMBDA_FUNCTION_NAME": "hookline-pipeline",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{PY}",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        finished = api.done.wait(180)
    finally:
        proc.kill()
        output = proc.communicate()[0]
    assert finished, f"no response from the function within 180 s:\n{output[-3000:]}"
    kind, payload = api.results[0]
    return kind, payload, output


def upload_and_event(s3_server, s3_bucket, config_file) -> tuple[str, dict[str, Any]]:
    from hookline.adapters.aws._samples import sample_event

    data = config_file.parent / "batch1.csv"
    assert data.is_file(), "the quickstart's first batch is the test's upload"
    key = "landing/train/batch 1+first.csv"  # a key that needs S3's form-style encoding
    put = s3_server.s3_client().put_object(Bucket=s3_bucket, Key=key, Body=data.read_bytes())
    event = sample_event(
        f"s3://{s3_bucket}/{key}", size=data.stat().st_size, etag=put["ETag"].strip('"')
    )
    return key, event


def assert_one_succeeded_run(s3, s3_bucket: str, key: str, output: str) -> None:
    listed = s3.list_objects_v2(Bucket=s3_bucket, Prefix="runs/").get("Contents", [])
    records = [o["Key"] for o in listed if o["Key"].endswith("/record.json")]
    assert len(records) == 1, (listed, output[-3000:])
    record = json.loads(s3.get_object(Bucket=s3_bucket, Key=records[0])["Body"].read())
    assert record["status"] == "succeeded", record.get("error") or record
    assert json.dumps(record).find(key) >= 0, "the record traces back to the uploaded object"
    registry = s3.list_objects_v2(Bucket=s3_bucket, Prefix="registry/").get("KeyCount", 0)
    assert registry > 0, "the model was registered in the bucket"
