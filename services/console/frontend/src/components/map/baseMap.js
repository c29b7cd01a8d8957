// The optional base layer under the polygons: the console's setting (GRIDGOV_CONSOLE_TILE_URL), read once per
// session from /api/config. Unset in the embedded demo: the map is the grid polygons alone.
import { api } from '../../api.js';

let pending = null;

/** The base map ({url, attribution, subdomains, max_zoom}) or null; a failed read means no base map. */
export function loadBaseMap() {
  if (!pending) {
    pending = api('GET', 'config').then((c) => c.base_map || null).catch(() => { pending = null; return null; });
  }
  return pending;
}

/** Text for Leaflet's attribution control, which inserts HTML: the setting is shown as the text it is. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch]));
}
