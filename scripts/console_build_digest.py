"""Print the digest of the console front end's sources (what scripts/build_console.sh stamps into static/app/BUILD)."""

import hashlib
from pathlib import Path

FRONTEND = Path(__file__).resolve().parent.parent / "services" / "console" / "frontend"
# Everything the build reads from the repository: the sources, the entry page, the build config and the lock file.
INPUTS = ("index.html", "vite.config.js", "package.json", "package-lock.json")


def source_digest(root: Path = FRONTEND) -> str:
    """sha256 over the front end's source files, by relative path and content, in a stable order."""
    digest = hashlib.sha256()
    files = [root / name for name in INPUTS] + sorted(p for p in (root / "src").rglob("*") if p.is_file())
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


if __name__ == "__main__":
    print(source_digest())
