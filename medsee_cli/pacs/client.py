"""One HTTP session per DICOMweb server, and what a failed request means in one line.

The session carries the login (basic: ``session.auth``; bearer: an ``Authorization`` header set
once on the session, so neither appears in dicomweb-client's per-request debug log) and the CA
bundle: the configured one always (requests would otherwise let ``REQUESTS_CA_BUNDLE`` override a
session's own, so it is set on the transport), else ``REQUESTS_CA_BUNDLE``, else the system's
(as ``update-ca-certificates`` maintains it). The client's own retrying is switched off:
`retry.with_retries` does it for every kind of failure.
"""

from __future__ import annotations

import http
import os
import ssl
from collections.abc import Mapping
from types import TracebackType

import requests
from requests.adapters import HTTPAdapter
from dicomweb_client.api import DICOMwebClient
from pydicom.errors import InvalidDicomError

from medsee_cli.pacs.config import ENV_CA, ENV_PASSWORD, ENV_TOKEN, ENV_USER, Endpoint
from medsee_cli.pacs.options import NetOptions
from medsee_cli.pacs.retry import NetworkError

RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
GATEWAY_STATUS = {502, 503, 504}  # the server behind a proxy is down: counts as unreachable


def system_ca_bundle() -> str | None:
    """The system's CA file (Debian: /etc/ssl/certs/ca-certificates.crt), if there is one."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


class _VerifyWith(HTTPAdapter):
    """An https transport that checks certificates against one CA bundle, whatever the environment says."""

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float, float] | tuple[float, None] | None = None, verify: bool | str = True,
             cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
             proxies: Mapping[str, str] | None = None) -> requests.Response:
        return super().send(request, stream=stream, timeout=timeout, verify=self.ca_bundle, cert=cert,
                            proxies=proxies)


class Server:
    """A DICOMweb server with its session; ``name`` (the base URL) is what messages print."""

    def __init__(self, endpoint: Endpoint, options: NetOptions) -> None:
        self.endpoint = endpoint
        self.options = options
        self.name = endpoint.url
        session = requests.Session()
        if endpoint.auth == "basic":
            session.auth = (endpoint.user or "", endpoint.secret or "")
        elif endpoint.auth == "bearer":
            session.headers["Authorization"] = f"Bearer {endpoint.secret}"
        if endpoint.ca_bundle:
            session.mount("https://", _VerifyWith(endpoint.ca_bundle))
        else:
            system = system_ca_bundle()
            if system:
                session.verify = system  # REQUESTS_CA_BUNDLE, when set, still wins (requests' own rule)
        self.session = session
        self.dicomweb = DICOMwebClient(url=endpoint.url, session=session, timeout=options.timeout)
        self.dicomweb.set_http_retry_params(retry=False)

    def resource(self, study: str, series: str | None = None, instance: str | None = None) -> str:
        """The DICOMweb name of a study, series or instance on this server (for messages)."""
        name = f"{self.name}/studies/{study}"
        if series is not None:
            name += f"/series/{series}"
        if instance is not None:
            name += f"/instances/{instance}"
        return name

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def http_error(status: int) -> NetworkError:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    text = f"HTTP {status} {phrase}"
    if status == 401:
        text += f" (check the login: {ENV_USER} + {ENV_PASSWORD}, {ENV_TOKEN}, or the config file)"
    elif status == 403:
        text += " (this login may not do that)"
    return NetworkError(text, retryable=status in RETRYABLE_STATUS, unreachable=status in GATEWAY_STATUS,
                        status=status)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps (requests -> urllib3 -> socket/ssl)."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return seen


def _os_reason(exc: BaseException) -> str | None:
    """The operating system's words for a failed connection, found anywhere in the chain."""
    for item in _chain(exc):
        if isinstance(item, OSError) and not isinstance(item, ssl.SSLError) and item.strerror:
            return item.strerror[:1].lower() + item.strerror[1:]
    return None


def _tls_reason(exc: BaseException) -> str:
    for item in _chain(exc):
        if isinstance(item, ssl.SSLCertVerificationError):
            return f"certificate not trusted: {item.verify_message or 'verification failed'}"
    for item in _chain(exc):
        if isinstance(item, ssl.SSLError) and item.reason:
            return str(item.reason).lower().replace("_", " ")
    return "handshake failed"


def describe(exc: Exception) -> NetworkError | None:
    """One line for a failed request (never the URL: requests puts the query in its messages),
    and whether trying again may help; None for an exception that is not about the network."""
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return http_error(exc.response.status_code)
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"TLS failed ({_tls_reason(exc)}); a private CA needs its bundle "
                            f"({ENV_CA} or the config file's ca_bundle)", retryable=False)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NetworkError("no connection within the connect timeout", retryable=True, unreachable=True)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return NetworkError("no answer within the read timeout", retryable=True, unreachable=True)
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return NetworkError("the connection broke off during the transfer", retryable=True, unreachable=True)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return NetworkError(f"cannot connect ({_os_reason(exc) or 'connection failed'})", retryable=True,
                            unreachable=True)
    if isinstance(exc, requests.exceptions.RequestException):
        return NetworkError(f"request failed ({exc.__class__.__name__})", retryable=False)
    if isinstance(exc, InvalidDicomError):
        return NetworkError("the server sent an instance that is not DICOM", retryable=False)
    if isinstance(exc, ValueError) and exc.__class__ is ValueError:  # dicomweb-client: a malformed answer
        return NetworkError(f"the server's answer is not valid DICOMweb ({str(exc)[:100]})", retryable=False)
    return None
