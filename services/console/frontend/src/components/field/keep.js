// What the app last read, kept on the phone for opening without signal: the catalog (to pick a category), the
// worker's grid and its neighbours (the map), the tasks with their details (to check on site). Per worker.
import { session } from '../../api.js';

const PREFIX = 'gridgov.field.kept.';
const keyOf = (name) => `${PREFIX}${session.user?.sub || ''}.${name}`;

/** Keeps `value` under `name` (a full phone storage only loses the copy, never the page). */
export function remember(name, value) {
  try {
    localStorage.setItem(keyOf(name), JSON.stringify({ at: new Date().toISOString(), value }));
  } catch { /* quota: the app works online without the copy */ }
}

/** What was kept under `name`: {at, value}, or null. */
export function recall(name) {
  try {
    return JSON.parse(localStorage.getItem(keyOf(name)) || 'null');
  } catch {
    return null;
  }
}
