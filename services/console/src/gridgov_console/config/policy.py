"""The page's Content-Security-Policy and the origin a base-map tile URL loads from (pure: text in, text out).

The policy allows images from the page's own origin only, unless the console is given a tile URL (a city's GIS,
天地图): then that URL's origin, and nothing else, is added to ``img-src``, so the tiles load and no other host can.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

PLACEHOLDERS = ("{z}", "{x}", "{y}")
LABEL = re.compile(r"[A-Za-z0-9-]+")


def tile_origin(url: str) -> str:
    """The CSP source of a tile URL template: ``https://tiles.example.org`` (with its port, if any), or
    ``https://*.tianditu.gov.cn`` when the first label of the host is Leaflet's subdomain placeholder ``{s}``.

    Raises ``ValueError`` naming what is wrong: a scheme other than http(s), no host, a placeholder anywhere in the
    host but the whole first label, or a template without ``{z}``, ``{x}`` and ``{y}`` (an XYZ or WMTS-REST URL)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("the tile URL must start with http:// or https://")
    netloc = parts.netloc
    if not netloc or "@" in netloc:
        raise ValueError("the tile URL must name a host (and no user or password)")
    missing = [p for p in PLACEHOLDERS if p not in url]
    if missing:
        raise ValueError(f"the tile URL must contain {', '.join(PLACEHOLDERS)} (missing {', '.join(missing)})")
    host, _, port = netloc.partition(":")
    labels = host.split(".")
    if "{s}" in labels[0] and len(labels) >= 3:
        # {s}.example.org or t{s}.tianditu.gov.cn: CSP allows a wildcard only as the whole leftmost label
        labels[0] = "*"
    # Only letters, digits and hyphens reach the policy: a ';' or a space there would rewrite the policy itself.
    if not all(label == "*" or LABEL.fullmatch(label) for label in labels) or (port and not port.isdigit()):
        raise ValueError("the tile URL's host may hold only {s}, as or in its first label (e.g. t{s}.example.org)")
    return f"{parts.scheme}://{'.'.join(labels).lower()}{':' + port if port else ''}"


def content_security_policy(image_sources: tuple[str, ...] = ()) -> str:
    """The page's policy: its own scripts, styles, fonts and API only, images also from ``image_sources``; no
    inline script or event handler, no eval, no plugin, not framed; the grid worker's app (a PWA) may run its
    own service worker and read its own web manifest, from this origin only. Leaflet positions the map through
    element.style (CSSOM), which style-src 'self' does not restrict."""
    images = " ".join(("'self'", "data:", *image_sources))
    return (f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
            "connect-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


# The service worker's own policy (a worker runs under the policy of its script's answer, not the page's): it fetches
# the app's files from this origin to keep them, and nothing else. Without it the services' default for non-HTML
# answers (default-src 'none') would refuse every fetch of the worker, and it would never install.
SERVICE_WORKER_POLICY = ("default-src 'none'; connect-src 'self'; script-src 'self'; base-uri 'none'; "
                         "form-action 'none'; frame-ancestors 'none'")
