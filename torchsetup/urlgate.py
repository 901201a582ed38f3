"""The one gate every index or source address passes (the matrix's index URLs, --index-base,
TORCHSETUP_INDEX_BASE, `matrix update --from`, redirects): parsed, https only unless the user
allows http, a host required, no whitespace or control characters; credentials masked in every
message and never written to a file."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from torchsetup.errors import UsageError

_BAD = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s]*)@")


def mask(text: str) -> str:
    """Any `scheme://user:password@` in `text` becomes `scheme://***@`."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}***@", text)


def without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def check_url(url: str, what: str, allow_insecure: bool = False, allow_file: bool = False) -> str:
    """`url` itself when it may be used; else UsageError naming `what` and the (masked) address."""
    shown = mask(url)[:200]
    hint = f"Give {what} as https://host/path."
    if not url or _BAD.search(url):
        raise UsageError(f"{what}: {shown!r} holds whitespace or control characters", hint)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        raise UsageError(f"{what}: not a URL: {shown!r} ({exc})", hint) from exc
    del port
    if parts.scheme == "file" and allow_file:
        return url
    if parts.scheme not in ("https", "http"):
        raise UsageError(f"{what}: {shown!r} is not an https:// address", hint)
    if not parts.hostname:
        raise UsageError(f"{what}: {shown!r} names no host", hint)
    if parts.scheme == "http" and not allow_insecure:
        raise UsageError(f"{what}: refusing plain http: {shown}",
                         "Use https, or pass --allow-insecure-index if you trust every network between "
                         "you and that host.")
    return url


def check_redirect(source: str, target: str, allow_insecure: bool) -> str:
    """A redirect is followed only https -> https (http -> anything only when http is allowed)."""
    if urlsplit(source).scheme == "https" and urlsplit(target).scheme != "https":
        raise UsageError(f"{mask(source)} redirected to {mask(target)}: refusing to leave https", None)
    return check_url(target, f"the redirect from {mask(source)}", allow_insecure)
