// One object store of an IndexedDB database on the phone, opened on first use (the field app's outbox, the forms'
// drafts): `tx(mode, work)` runs `work(store)` in a transaction and answers its request's result once committed.

/** The transaction runner of store `store` in database `name` (created with `options`, e.g. a keyPath). */
export function idbStore(name, store, options = undefined) {
  let opened = null;
  const db = () => {
    if (!opened) {
      opened = new Promise((resolve, reject) => {
        const open = indexedDB.open(name, 1);
        open.onupgradeneeded = () => open.result.createObjectStore(store, options);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
    }
    return opened;
  };
  return (mode, work) => db().then((conn) => new Promise((resolve, reject) => {
    const t = conn.transaction(store, mode);
    const request = work(t.objectStore(store));
    t.oncomplete = () => resolve(request.result);
    t.onerror = () => reject(t.error);
  }));
}
