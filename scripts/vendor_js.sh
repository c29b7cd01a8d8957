#!/usr/bin/env bash
# Re-fetch the console's vendored JavaScript from the npm registry (npm pack), check each tarball's integrity
# against the one recorded here, and unpack the files the page loads, with their LICENSE, into static/vendor/.
# Nothing is fetched at run time: the page loads only these files.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=services/console/src/gridgov_console/static/vendor
# name version integrity (sha512, as the registry's dist.integrity) files-to-keep (paths inside package/)
PACKAGES=(
  "leaflet 1.9.4 sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA== dist/leaflet.js,dist/leaflet.css,LICENSE"
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
  echo "vendored ${name}@${version} into $VENDOR/$name"
done
