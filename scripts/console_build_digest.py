"""Print the digest of the console front end's sources (what scripts/build_console.sh stamps into static/app/BUILD)."""

import hashlib
from pathlib import Path

FRONTEND = Path(__file__).resolve().parent.parent / "services" / "console" / "frontend"
# Everything the build reads from the repository: the sources, the entry page, the build config and the lock file.
INPUTS = ("index.html", "vite.config.js", "package.json", "package-lock.json")
SOURCE_DIRS = ("src", "public", "pwa")


def source_digest(root: Path = FRONTEND) -> str:
    """sha256 over the front end's source files, by relative path and content, in a stable order."""
    digest = hashlib.sha256()
    # src/, and the PWA's files (public/: manifest, icons; pwa/: the service worker and its build step)
    files = [root / name for name in INPUTS] + sorted(p for d in SOURCE_DIRS if (root / d).is_dir()
                                                      for p in (root / d).rglob("*") if p.is_file())
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


if __name__ == "__main__":
    print(source_digest())
