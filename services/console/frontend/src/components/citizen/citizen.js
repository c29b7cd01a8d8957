// The citizen's own small state on this phone: a random device id (the anonymous login and intake's per-device
// limit), the catalog's names from the public Open311 service list, and the common categories shown as tiles.
import { reactive } from 'vue';
import { api } from '../../api.js';

const DEVICE_KEY = 'gridgov.citizen.device';

/** This phone's random device id (128 bits, made once and kept): the key to its anonymous reports. */
export function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

// The common problems a citizen photographs, as picture-and-name tiles (icon names in icons.js).
export const COMMON = [
  ['01002', 'trash'], ['05003', 'car'], ['11008', 'lamp'], ['04004', 'water'], ['12005', 'road'],
  ['02001', 'poster'], ['05005', 'boxes'], ['11002', 'manhole'], ['24003', 'noise'], ['22001', 'fire'],
  ['14001', 'tree'], ['05001', 'stall'],
];
/** What "其他" files under when no category fits: the catalog's catch-all of the city's appearance. */
export const OTHER = '01099';

/** Catalog names by code (the public service list needs no login): {code: name_zh}. */
export const catalog = reactive({ names: {}, loaded: false, failed: '' });

/** Loads the catalog's names once. */
export async function loadCatalog() {
  if (catalog.loaded) return catalog;
  try {
    const services = await api('GET', 'intake/open311/v2/services.json');
    for (const s of services) catalog.names[s.service_code] = s.description;
    catalog.loaded = true;
  } catch (exc) {
    catalog.failed = exc.message || String(exc);
  }
  return catalog;
}

/** A category's Chinese name. */
export const nameOf = (code) => catalog.names[code] || code;

/** Categories whose name contains every character group of the query (search by text), at most `max`. */
export function searchCategories(query, max = 20) {
  const words = query.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  return Object.entries(catalog.names)
    .filter(([, name]) => words.every((w) => name.includes(w)))
    .slice(0, max)
    .map(([code, name]) => ({ code, name }));
}

/** The public wording colour of a report's state. */
export const statusType = (publicStatus) => ({ 已办结: 'success', 处理中: 'warning' }[publicStatus] || 'info');

/** The token of the follow-up link in an inbox message's text ("…/followups/<token>"), or null. */
export function followupToken(text) {
  const found = /\/followups\/([A-Za-z0-9_-]+)/.exec(text || '');
  return found ? found[1] : null;
}
