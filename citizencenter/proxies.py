"""Behind a reverse proxy: the X-Forwarded-* headers, believed only from TRUSTED_PROXIES.

Anyone can send X-Forwarded-For; believing it from every peer would let a caller pick
the address the web form's rate limit and the sign-in lock-out count against. So the
headers count only when the direct peer is a configured proxy, and in a chain of
proxies the client is the nearest address that is not one of them.
"""

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[Network | str]) -> tuple[Network, ...]:
    """Addresses and networks, comma-separated ("10.0.0.5, 192.168.0.0/24"); ValueError
    names the first entry that is neither."""
    entries = value.split(",") if isinstance(value, str) else value
    networks = []
    for entry in (str(e).strip() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an address or network") from None
    return tuple(networks)


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.9:51234
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR, the scheme and the host as the trusted proxies saw
    them; the headers of an untrusted peer are dropped, so nothing later reads them."""

    HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")

    def __init__(self, wsgi_app, networks: str | Iterable[Network | str]):
        self.wsgi_app, self.networks = wsgi_app, parse_networks(networks)

    def trusted(self, address) -> bool:
        return address is not None and any(address in n for n in self.networks)

    def __call__(self, environ, start_response):
        if self.trusted(_address(environ.get("REMOTE_ADDR", ""))):
            self._apply(environ)
        else:
            for header in self.HEADERS:
                environ.pop(header, None)
        return self.wsgi_app(environ, start_response)

    def _apply(self, environ) -> None:
        chain = [a for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        client = None
        while chain:  # from the nearest hop outwards, past every trusted proxy
            client = _address(chain.pop())
            if client is None or not self.trusted(client):
                break
        if client is not None:
            environ["REMOTE_ADDR"] = str(client)
        # Each proxy appends; the last value is the one our own proxy set.
        proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            environ["wsgi.url_scheme"] = proto
        host = environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[-1].strip()
        if host:
            environ["HTTP_HOST"] = host
