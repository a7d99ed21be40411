"""Which DICOMweb server a URL names and how to log in to it.

Credentials never come from the command line (a process list and shell history show it) and
never appear in a message, a log or an output file. They come from, in this order:

1. the environment, for every server of the run: ``MEDSEE_DICOMWEB_TOKEN`` (bearer), or
   ``MEDSEE_DICOMWEB_USER`` + ``MEDSEE_DICOMWEB_PASSWORD`` (basic);
2. the config file's ``[[server]]`` entry whose ``url`` is the longest prefix of the URL:
   ``MEDSEE_DICOMWEB_CONFIG``, else ``$XDG_CONFIG_HOME/medsee/dicomweb.toml``, else
   ``~/.config/medsee/dicomweb.toml``.

https uses the system's CA bundle, or ``MEDSEE_DICOMWEB_CA_BUNDLE``, or the entry's
``ca_bundle``. The file's optional ``[network]`` table sets `NetOptions` (timeouts, retries).
A mistake in any of this is a `UsageError` before any work.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from medsee_cli.errors import UsageError
from medsee_cli.pacs.options import NETWORK_KEYS, NetOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENV_USER = "MEDSEE_DICOMWEB_USER"
ENV_PASSWORD = "MEDSEE_DICOMWEB_PASSWORD"
ENV_TOKEN = "MEDSEE_DICOMWEB_TOKEN"
ENV_CA = "MEDSEE_DICOMWEB_CA_BUNDLE"
ENV_CONFIG = "MEDSEE_DICOMWEB_CONFIG"
CONFIG_NAME = Path("medsee") / "dicomweb.toml"
SERVER_KEYS = ("url", "user", "password", "password_file", "token", "token_file", "ca_bundle")
Auth = Literal["none", "basic", "bearer"]


def is_dicomweb_url(text: str) -> bool:
    """Whether a source argument is a DICOMweb base URL rather than a file or folder."""
    return text[:8].lower().startswith(("http://", "https://"))


def public_url(text: str) -> str:
    """``text`` safe to print: no user name or password, no query, no fragment."""
    text = text.split("#", 1)[0].split("?", 1)[0]
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1", text).rstrip("/")


def normalize_url(text: str) -> str:
    """``scheme://host[:port]/path`` of a DICOMweb base URL, or a `UsageError` naming what is wrong."""
    name = public_url(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UsageError(name, f"not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(name, "not a DICOMweb base URL (expected http(s)://HOST[:PORT]/PATH)")
    if parts.username is not None or parts.password is not None:
        raise UsageError(name, f"credentials in the URL are not accepted (a process list would show them): "
                               f"set {ENV_USER} and {ENV_PASSWORD}, or {ENV_TOKEN}, or use the config file")
    if parts.query or parts.fragment:
        raise UsageError(name, "a DICOMweb base URL takes no query (?...) or fragment (#...); filter with "
                               "--study, --modality and --since")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class ServerEntry:
    """One ``[[server]]`` entry of the config file."""

    url: str
    auth: Auth = "none"
    user: str | None = None
    secret: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None


@dataclass(frozen=True)
class Settings:
    """What the config file says (empty when there is none)."""

    path: Path | None = None
    servers: tuple[ServerEntry, ...] = ()
    network: NetOptions = NetOptions()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """A DICOMweb server as requests will reach it. ``secret`` (password or token) is never
    part of ``repr`` or of any message; ``credentials`` says where the login came from."""

    url: str
    auth: Auth = "none"
    user: str | None = None
    secret: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None
    credentials: str = "none"
    warnings: tuple[str, ...] = ()


def config_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """(path of the config file, whether the user named it) from the environment."""
    named = environ.get(ENV_CONFIG, "").strip()
    if named:
        return Path(named).expanduser(), True
    base = environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base else Path(environ.get("HOME", str(Path.home()))) / ".config"
    return root / CONFIG_NAME, False


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The config file's servers and network options (defaults when there is no file)."""
    env = os.environ if environ is None else environ
    path, named = config_path(env)
    if not path.exists():
        if named:
            raise UsageError(ENV_CONFIG, f"{path}: no such file")
        return Settings()
    item = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(item, f"cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(item, f"not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"server", "network"})
    if unknown:
        raise UsageError(item, f"unknown table or key {unknown[0]!r} (expected [[server]] and [network])")
    servers = data.get("server", [])
    if not isinstance(servers, list) or not all(isinstance(s, dict) for s in servers):
        raise UsageError(item, "'server' must be a list of tables ([[server]])")
    entries = tuple(_entry(s, n, item, path.parent) for n, s in enumerate(servers, 1))
    network = _network(data.get("network", {}), item)
    warnings: list[str] = []
    if any(s.get("password") or s.get("token") for s in servers) and _readable_by_others(path):
        warnings.append(f"{item}: holds a password or token and other users may read it (chmod 600 it)")
    return Settings(path, entries, network, tuple(warnings))


def _readable_by_others(path: Path) -> bool:
    try:
        return os.name == "posix" and bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


def _text(entry: dict[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise UsageError(where, f"{key!r} must be a non-empty string")
    return value


def _secret_file(entry: dict[str, Any], key: str, where: str, base: Path) -> str | None:
    name = _text(entry, key, where)
    if name is None:
        return None
    path = base / Path(name).expanduser()  # a relative name is read beside the config file
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(where, f"{key} {path}: cannot be read ({exc.strerror or exc})") from None
    if not secret:
        raise UsageError(where, f"{key} {path}: is empty")
    return secret


def _entry(entry: dict[str, Any], number: int, item: str, base: Path) -> ServerEntry:
    where = f"{item}: [[server]] #{number}"
    unknown = sorted(set(entry) - set(SERVER_KEYS))
    if unknown:
        raise UsageError(where, f"unknown key {unknown[0]!r} (expected: {', '.join(SERVER_KEYS)})")
    if ("password" in entry and "password_file" in entry) or ("token" in entry and "token_file" in entry):
        raise UsageError(where, "give a secret once: inline or as a file, not both")
    url = _text(entry, "url", where)
    if url is None:
        raise UsageError(where, "has no 'url'")
    url = normalize_url(url)
    user = _text(entry, "user", where)
    password = _text(entry, "password", where) if "password" in entry else None
    password = password if password is not None else _secret_file(entry, "password_file", where, base)
    token = _text(entry, "token", where) if "token" in entry else None
    token = token if token is not None else _secret_file(entry, "token_file", where, base)
    ca = _text(entry, "ca_bundle", where)
    if token is not None and (user is not None or password is not None):
        raise UsageError(where, "give either a token or a user and password, not both")
    if (user is None) != (password is None):
        raise UsageError(where, "a user needs a password (or password_file), and a password a user")
    if token is not None:
        return ServerEntry(url, "bearer", None, _check_token(token, where), ca)
    if user is not None:
        return ServerEntry(url, "basic", _check_user(user, where), password, ca)
    return ServerEntry(url, "none", None, None, ca)


def _network(table: object, item: str) -> NetOptions:
    if not isinstance(table, dict):
        raise UsageError(item, "[network] must be a table")
    unknown = sorted(set(table) - set(NETWORK_KEYS))
    if unknown:
        raise UsageError(item, f"[network]: unknown key {unknown[0]!r} (expected: {', '.join(NETWORK_KEYS)})")
    try:
        return NetOptions(**table)
    except (TypeError, ValueError) as exc:
        raise UsageError(item, f"[network]: {exc}") from None


def _check_token(token: str, where: str) -> str:
    if any(ch.isspace() for ch in token.strip()) or not token.strip():
        raise UsageError(where, "the bearer token must be one word (no spaces or line breaks)")
    return token.strip()


def _check_user(user: str, where: str) -> str:
    if ":" in user or any(ch in user for ch in "\r\n"):
        raise UsageError(where, "a basic-auth user name cannot hold ':' or a line break")
    return user


def _match(url: str, servers: tuple[ServerEntry, ...]) -> ServerEntry | None:
    fits = [s for s in servers if url == s.url or url.startswith(s.url + "/")]
    return max(fits, key=lambda s: len(s.url), default=None)


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_for(url: str, settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> Endpoint:
    """The server ``url`` names, with its login and CA bundle; a `UsageError` when anything is wrong."""
    env = os.environ if environ is None else environ
    base = normalize_url(url)
    settings = load_settings(env) if settings is None else settings
    entry = _match(base, settings.servers)
    token = env.get(ENV_TOKEN, "").strip() or None
    user = env.get(ENV_USER, "") or None
    password = env.get(ENV_PASSWORD, "") or None
    if token is not None and (user is not None or password is not None):
        raise UsageError(ENV_TOKEN, f"set either {ENV_TOKEN} or {ENV_USER} + {ENV_PASSWORD}, not both")
    if user is not None and password is None:
        raise UsageError(ENV_PASSWORD, f"{ENV_USER} is set but {ENV_PASSWORD} is not")
    if password is not None and user is None:
        raise UsageError(ENV_USER, f"{ENV_PASSWORD} is set but {ENV_USER} is not")
    auth: Auth
    login: str | None
    secret: str | None
    if token is not None:
        auth, login, secret, origin = "bearer", None, _check_token(token, ENV_TOKEN), "environment"
    elif user is not None:
        auth, login, secret, origin = "basic", _check_user(user, ENV_USER), password, "environment"
    elif entry is not None and entry.auth != "none":
        auth, login, secret, origin = entry.auth, entry.user, entry.secret, f"config file {settings.path}"
    else:
        auth, login, secret, origin = "none", None, None, "none"
    ca = env.get(ENV_CA, "").strip() or (entry.ca_bundle if entry is not None else None)
    if ca is not None:
        ca_path = Path(ca).expanduser()
        if not ca_path.is_file():
            raise UsageError(ENV_CA if env.get(ENV_CA, "").strip() else str(settings.path),
                             f"CA bundle {ca_path}: no such file")
        ca = str(ca_path)
    warnings = list(settings.warnings)
    if auth != "none" and base.startswith("http://") and not _loopback(base):
        warnings.append(f"{base}: credentials go over plain http (use https)")
    return Endpoint(base, auth, login, secret, ca, origin, tuple(warnings))
