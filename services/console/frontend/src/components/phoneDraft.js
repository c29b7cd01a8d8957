// A form's draft on the phone — photos as Blobs, a point, choices — in IndexedDB, so a refresh, or the browser
// dropping the tab while the camera app is open (which phones short of memory do), does not lose what was done.
// Used by 随手拍 and by the grid worker's 巡查上报, one draft per form and signed-in person; a draft is dropped once
// sent, or when older than MAX_AGE_MS. (Typed texts are drafts of their own: useDraft, in localStorage.)

const DB_NAME = 'gridgov-drafts';
const STORE = 'draft';
const MAX_AGE_MS = 24 * 3600 * 1000; // a day-old photo no longer shows the problem as it is

let dbPromise = null;
function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }
  return dbPromise;
}

function tx(mode, work) {
  return db().then((conn) => new Promise((resolve, reject) => {
    const t = conn.transaction(STORE, mode);
    const request = work(t.objectStore(STORE));
    t.oncomplete = () => resolve(request.result);
    t.onerror = () => reject(t.error);
  }));
}

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
