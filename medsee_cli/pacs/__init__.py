"""The DICOMweb client side: talking to a PACS.

One concept per module, all of them light to import except ``client`` (requests and
dicomweb-client), which services import only when a DICOMweb URL is used:

- ``options``: `NetOptions`, timeouts and the retry policy (a frozen value).
- ``config``: which server a URL names and how to log in to it (environment variables, then the
  config file); credentials never come from the command line and are never printed.
- ``client``: one HTTP session per server (basic or bearer auth, CA bundle) and the one-line
  description of a failed request.
- ``retry``: exponential backoff with a bounded total, and the breaker that stops waiting on a
  server found unreachable.
- ``search`` (QIDO-RS), ``retrieve`` (WADO-RS), ``store`` (STOW-RS and the QIDO check after it).

Nothing here knows about catalogs, sidecars or result folders: services do.
"""
