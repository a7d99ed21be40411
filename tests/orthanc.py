"""A real Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``) for tests, on 127.0.0.1.

Each server gets free ports and a temporary config and storage folder; optionally HTTP basic
auth with registered users. It can be killed (as a crash would stop it) and started again on the
same port and storage, which is how the tests stop a PACS in the middle of a run. Objects go in
and come back out with DICOMweb (`dicomweb-client`), as medsee's own code talks to it.

`TlsFront` puts https in front of it: Debian's Orthanc 1.10.1 crashes (a civetweb worker
segfaults) on the first request when its own ``SslEnabled`` is on, so the tests terminate TLS
in a small forwarder made of the standard library's ssl and select, with a certificate made by
``openssl`` for 127.0.0.1.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pydicom
import pytest

from tests.conftest import IN_CI

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
STARTUP_S = 300.0  # a guard against a hang, not a timing: CI machines may be loaded


def require_orthanc() -> None:
    """Skip (locally) or fail (in CI) when Orthanc or its DICOMweb plugin is not installed."""
    if not Path(ORTHANC).is_file() or not Path(DICOMWEB_PLUGIN).is_file():
        message = "Orthanc with its DICOMweb plugin is not installed (Debian: see 'make system-deps')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Orthanc:
    """One Orthanc process: ``url`` (its REST root), ``dicomweb`` (its DICOMweb root) and a
    `dicomweb_client.DICOMwebClient` logged in as the first user, if any."""

    def __init__(self, root: Path, users: dict[str, str] | None = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.users = dict(users or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dicomweb = f"{self.url}/dicom-web"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        config = {
            "Name": "medsee-tests", "StorageDirectory": str(root / "db"), "IndexDirectory": str(root / "db"),
            "HttpPort": self.port, "DicomPort": free_port(), "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users), "RegisteredUsers": self.users,
            "HttpServerEnabled": True, "DicomServerEnabled": False, "Plugins": [DICOMWEB_PLUGIN],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}, "StableAge": 1,
        }
        (root / "orthanc.json").write_text(json.dumps(config))
        self.client = self._client()

    def _client(self) -> Any:
        import requests
        from dicomweb_client.api import DICOMwebClient

        session = requests.Session()
        if self.users:
            session.auth = next(iter(self.users.items()))
        return DICOMwebClient(url=self.dicomweb, session=session)

    def log(self) -> str:
        path = self.root / "orthanc.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self._log = open(self.root / "orthanc.log", "ab")
        self.process = subprocess.Popen([ORTHANC, str(self.root / "orthanc.json")], stdout=self._log,
                                        stderr=subprocess.STDOUT)
        headers = {}
        if self.users:
            user, password = next(iter(self.users.items()))
            headers["Authorization"] = "Basic " + b64encode(f"{user}:{password}".encode()).decode()
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(f"{self.url}/system", headers=headers),
                                            timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"Orthanc did not start: {self.log()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """Stop at once, as a crash or a pulled cable would (SIGKILL); `start` brings it back."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._close_log()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    # DICOMweb helpers for the tests' own checks
    def store(self, paths: list[Path]) -> None:
        self.client.store_instances([pydicom.dcmread(p) for p in paths])

    def has_instance(self, study: str, sop_instance_uid: str) -> bool:
        found = self.client.search_for_instances(study_instance_uid=study,
                                                 search_filters={"SOPInstanceUID": sop_instance_uid})
        return len(found) == 1


@contextmanager
def running_orthanc(root: Path, users: dict[str, str] | None = None) -> Iterator[Orthanc]:
    """An Orthanc started in ``root`` for the duration of the block (skips or fails without one)."""
    require_orthanc()
    server = Orthanc(root, users)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def self_signed_certificate(folder: Path, openssl: str) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, valid for a day: a private CA of one."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=120)
    return cert, key


class TlsFront:
    """https://127.0.0.1:PORT -> http://127.0.0.1:TARGET, one thread per connection."""

    def __init__(self, target_port: int, cert: Path, key: Path) -> None:
        self.target = target_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(conn,), daemon=True).start()

    def _pipe(self, conn: socket.socket) -> None:
        with conn:
            try:
                tls = self.context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that does not trust the certificate hangs up here
            with tls, socket.create_connection(("127.0.0.1", self.target)) as upstream:
                while not self.closed:
                    ready = [tls] if tls.pending() else select.select([tls, upstream], [], [], 30)[0]
                    if not ready:
                        return
                    for source in ready:
                        try:
                            data = source.recv(1 << 16)
                        except (ssl.SSLError, OSError):
                            return
                        if not data:
                            return
                        (upstream if source is tls else tls).sendall(data)

    def close(self) -> None:
        self.closed = True
        self.listener.close()

    def __enter__(self) -> "TlsFront":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
