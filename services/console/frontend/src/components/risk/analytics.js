// The analytics API as the risk map calls it (through the console: /api/analytics/...): the common filters as a
// query string, and an export downloaded with the signed-in user's token (a plain link could not carry it).
import { ApiError, api, fieldLabel } from '../../api.js';

/** An error as one Chinese line: the service's message, and the per-field reasons it does not already say. */
export function errorLine(exc) {
  if (!(exc instanceof ApiError)) return String(exc?.message || exc);
  const extra = exc.details.filter((d) => d.reason && !exc.message.includes(d.reason))
    .map((d) => (d.field ? `${fieldLabel(d.field)}：${d.reason}` : d.reason));
  return [exc.message, ...extra].join('；');
}

/** The query string of the common filters ({from, to, category, channel, area}) plus `extra`; empty ones left out. */
export function filterQuery(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...filters, ...extra })) {
    if (value !== '' && value !== null && value !== undefined) params.set(key, String(value));
  }
  return params.toString();
}

/** GET analytics/<path>?<filters + extra>, parsed. */
export function analytics(path, filters, extra = {}, options = {}) {
  const query = filterQuery(filters, extra);
  return api('GET', `analytics/${path}${query ? `?${query}` : ''}`, undefined, options);
}

/**
 * Downloads an export (hotspots.geojson / hotspots.csv) of the view as a file: fetched with the bearer token, saved
 * from a blob. Answers {href, bytes, blob} (the blob URL stays valid for a minute, for the download to finish).
 */
export async function downloadExport(path, filters, fileName) {
  const resp = await analytics(path, filters, {}, { raw: true });
  const blob = await resp.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60000);
  return { href, bytes: blob.size, blob };
}
