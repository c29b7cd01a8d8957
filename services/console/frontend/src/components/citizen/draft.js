// 随手拍's draft on the phone: the photos (as Blobs), a point tapped on the map and the category, in IndexedDB, so a
// refresh — or the browser dropping the tab while the camera app is open, which phones short of memory do — does not
// lose what the citizen already did. One draft per signed-in citizen; dropped once sent, or after MAX_AGE_MS.
// (The description is a text draft of its own: useDraft in the view.)

const DB_NAME = 'gridgov-citizen';
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

/** The citizen's draft ({photos: [Blob], point: {lat, lon} | null, category}), or null when none, too old or unreadable. */
export async function readReportDraft(sub) {
  try {
    const found = await tx('readonly', (s) => s.get(sub || ''));
    if (!found || Date.now() - found.saved_at > MAX_AGE_MS) return null;
    return found;
  } catch {
    return null; // private browsing without IndexedDB: the page works, only without a draft
  }
}

/** Keeps the draft (or drops it when it holds nothing); failures are quiet: a draft is a help, not a condition. */
export async function writeReportDraft(sub, { photos, point, category }) {
  try {
    if (!photos.length && !point && !category) {
      await tx('readwrite', (s) => s.delete(sub || ''));
      return;
    }
    await tx('readwrite', (s) => s.put({ photos, point, category, saved_at: Date.now() }, sub || ''));
  } catch {
    // a full or refused store: the page goes on with what is in memory
  }
}

/** Drops the draft (the report was sent). */
export function clearReportDraft(sub) {
  return writeReportDraft(sub, { photos: [], point: null, category: '' });
}
