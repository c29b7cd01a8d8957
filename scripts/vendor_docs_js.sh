#!/usr/bin/env bash
# Re-fetch the API documentation pages' JavaScript (Swagger UI at /docs, ReDoc at /redoc of every service) from the
# npm registry (npm pack), check each tarball's integrity against the one recorded here, and unpack the files the
# pages load, with their LICENSE, into libs/common/src/gridgov_common/static/. Nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=libs/common/src/gridgov_common/static
# redoc stays on 2.x: 3.x loads its icons from Redocly's CDN and sends telemetry to Redocly.
# name version integrity (sha512, as the registry's dist.integrity) files-to-keep (paths inside package/)
PACKAGES=(
  "swagger-ui-dist 5.35.0 sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ== swagger-ui-bundle.js,swagger-ui.css,favicon-32x32.png,LICENSE,NOTICE"
  "redoc 2.5.4 sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ== bundles/redoc.standalone.js,LICENSE"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for entry in "${PACKAGES[@]}"; do
  read -r name version integrity files <<<"$entry"
  (cd "$work" && npm pack --silent "${name}@${version}" >/dev/null)
  tarball="$work/${name}-${version}.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [[ "$actual" != "$integrity" ]]; then
    echo "integrity mismatch for ${name}@${version}: got $actual" >&2
    exit 1
  fi
  mkdir -p "$work/$name" "$VENDOR/$name"
  tar -xzf "$tarball" -C "$work/$name"
  IFS=, read -ra keep <<<"$files"
  for f in "${keep[@]}"; do
    cp "$work/$name/package/$f" "$VENDOR/$name/$(basename "$f")"
  done
  # The bundles point at source maps we do not ship: drop the pointers, or browsers' tools ask for them (404).
  # Only whole pointer lines at the end are touched: the same text also occurs inside the bundles' code.
  for f in "$VENDOR/$name"/*.js; do sed -i '/^\/\/# sourceMappingURL=[^ ]*\.map$/d' "$f"; done
  for f in "$VENDOR/$name"/*.css; do [[ -e "$f" ]] && sed -i 's#/\*\# sourceMappingURL=[^ ]*\.map\*/$##' "$f"; done
  echo "vendored ${name}@${version} into $VENDOR/$name"
done
