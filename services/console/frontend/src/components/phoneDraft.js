// A form's draft on the phone — photos as Blobs, a point, choices — in IndexedDB, so a refresh, or the browser
// dropping the tab while the camera app is open (which phones short of memory do), does not lose what was done.
// Used by 随手拍 and by the grid worker's 巡查上报, one draft per form and signed-in person; a draft is dropped once
// sent, or when older than MAX_AGE_MS. (Typed texts are drafts of their own: useDraft, in localStorage.)

import { idbStore } from './idb.js';

const DB_NAME = 'gridgov-drafts';
const STORE = 'draft';
const MAX_AGE_MS = 24 * 3600 * 1000; // a day-old photo no longer shows the problem as it is

const tx = idbStore(DB_NAME, STORE);

/** The key of a form's draft for the signed-in person. */
export const draftKey = (form, sub) => `${form}:${sub || ''}`;

/** The draft kept under `key`, or null when none, too old or unreadable. */
export async function readPhoneDraft(key) {
  try {
    const found = await tx('readonly', (s) => s.get(key));
    if (!found || Date.now() - found.saved_at > MAX_AGE_MS) return null;
    return found.value;
  } catch {
    return null; // private browsing without IndexedDB: the form works, only without a draft
  }
}

/** Keeps `value` as the draft (null drops it); failures are quiet: a draft is a help, not a condition. */
export async function writePhoneDraft(key, value) {
  try {
    if (value == null) await tx('readwrite', (s) => s.delete(key));
    else await tx('readwrite', (s) => s.put({ value, saved_at: Date.now() }, key));
  } catch {
    // a full or refused store: the form goes on with what is in memory
  }
}
