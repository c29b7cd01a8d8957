// The phone's outbox (待发送): every report and every verification goes through it. It is written to IndexedDB
// (photos as Blobs) before the first try, so one made without signal stays on the phone and is sent when the
// signal returns, exactly once:
// - a report carries its own Idempotency-Key (made once, kept with it): a retry after a lost answer gets the
//   original back from intake (200) instead of a second report;
// - a verification replayed after a lost answer finds the ticket already verified (409): if the ticket's audit
//   trail shows this worker's check made after the item was queued, it counts as sent.
// One send at a time (a lock), so the "online" event, the timer and a tap on 立即发送 never race.
import { reactive, toRaw } from 'vue';
import { ApiError, api, session } from '../../api.js';
import { idbStore } from '../idb.js';

const DB_NAME = 'gridgov-field';
const STORE = 'outbox';

/** What the page shows: the queued items of the signed-in worker, and whether a send is running. */
export const outbox = reactive({ items: [], sending: false, lastError: '', ready: false });

const tx = idbStore(DB_NAME, STORE, { keyPath: 'key' });

const putItem = (item) => tx('readwrite', (s) => s.put(item));
const deleteItem = (key) => tx('readwrite', (s) => s.delete(key));
const allItems = () => tx('readonly', (s) => s.getAll());

/** A new idempotency key (also the item's key). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Reads the signed-in worker's queued items (oldest first) into `outbox.items`. */
export async function refresh() {
  const sub = session.user?.sub;
  const items = (await allItems()).filter((i) => i.sub === sub);
  items.sort((a, b) => a.created_at.localeCompare(b.created_at));
  outbox.items = items;
  outbox.ready = true;
  return items;
}

/**
 * Queues an item ({kind: 'report'|'verify', body, photos: [Blob], fixPhotos?: [Blob], ticket_id?, title}) and tries
 * to send it at once; answers {sent, item, result} — sent false when it stays queued (no signal) or was refused
 * (item.state 'refused' with item.error and item.details).
 */
export async function enqueue(fields) {
  const item = {
    key: newKey(), sub: session.user?.sub, created_at: new Date().toISOString(), state: 'pending', error: '',
    details: [], attempts: 0, ...fields,
    photos: (fields.photos || []).map((blob) => ({ blob, media_id: null })),
    fixPhotos: (fields.fixPhotos || []).map((blob) => ({ blob, media_id: null })),
  };
  await putItem(item);
  await refresh();
  const results = await flush();
  const done = results.find((r) => r.key === item.key);
  const stored = outbox.items.find((i) => i.key === item.key);
  return { sent: Boolean(done?.sent), item: stored || item, result: done?.result };
}

// Network trouble (no signal, the console or a service down, rate limited): keep the item and try again later.
const retryable = (exc) => exc instanceof ApiError && [0, 401, 408, 429, 502, 503, 504].includes(exc.status);

async function upload(photos, item) {
  const ids = [];
  for (const p of photos) {
    if (!p.media_id) {
      const answer = await api('POST', 'intake/v1/media', p.blob);
      p.media_id = answer.media_id;
      await putItem(item); // an upload done is not done again on the next try
    }
    ids.push(p.media_id);
  }
  return ids;
}

async function sendReport(item) {
  const mediaIds = await upload(item.photos, item);
  const fixIds = await upload(item.fixPhotos, item);
  // the fix photos (处置后) follow the scene photos: intake keeps one list of a report's photos
  return api('POST', 'intake/v1/reports/patrol', { ...item.body, media_ids: [...mediaIds, ...fixIds] },
    { headers: { 'Idempotency-Key': item.key } });
}

// Did this worker verify the ticket after the item was queued? Then a 409 on a replay means our first try landed.
async function alreadyVerified(item) {
  const ticket = await api('GET', `dispatch/v1/tickets/${encodeURIComponent(item.ticket_id)}`);
  const since = new Date(item.created_at).getTime() - 60000; // a phone's clock may run a little ahead
  const mine = (ticket.transitions || []).find((t) => (t.action === 'verify' || t.action === 'rework')
    && t.actor_id === item.sub && new Date(t.at).getTime() >= since);
  return mine ? ticket : null;
}

async function sendVerify(item) {
  const photos = await upload(item.photos, item);
  try {
    return await api('POST', `dispatch/v1/tickets/${encodeURIComponent(item.ticket_id)}/verify`,
      { ...item.body, photos });
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 409) {
      const ticket = await alreadyVerified(item);
      if (ticket) return { ...ticket, replayed: true };
    }
    throw exc;
  }
}

let running = null;

/** Sends every pending item of the signed-in worker, one at a time; answers [{key, sent, result}]. */
export function flush() {
  if (running) return running.then(() => flush());
  running = (async () => {
    const results = [];
    outbox.sending = true;
    try {
      for (const item of await refresh()) {
        if (item.state !== 'pending') continue;
        if (!navigator.onLine) break;
        item.attempts += 1;
        try {
          const result = item.kind === 'verify' ? await sendVerify(item) : await sendReport(item);
          await deleteItem(item.key);
          results.push({ key: item.key, sent: true, result, item });
          outbox.lastError = '';
        } catch (exc) {
          if (retryable(exc)) {
            item.error = exc.status === 401 ? '登录已过期：请重新登录，登录后自动发送' : exc.message;
            await putItem(item);
            outbox.lastError = item.error;
            results.push({ key: item.key, sent: false });
            break; // no signal for this one: none for the next either
          }
          if (!(exc instanceof ApiError)) {
            item.error = String(exc.message || exc);
            await putItem(item);
            results.push({ key: item.key, sent: false });
            break;
          }
          // Refused (a 4xx naming fields): kept with the reasons until the worker fixes or discards it.
          item.state = 'refused';
          item.error = exc.message;
          item.details = exc.details || [];
          item.status = exc.status;
          await putItem(item);
          results.push({ key: item.key, sent: false, error: exc });
        }
      }
    } finally {
      await refresh();
      outbox.sending = false;
      running = null;
    }
    for (const r of results) if (r.sent) listeners.forEach((fn) => fn(r));
    return results;
  })();
  return running;
}

const listeners = new Set();
/** Calls `fn({key, result, item})` for each item sent (by any trigger); answers a function that stops it. */
export function onSent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Drops an item (the worker gave up on it, or took it back into the form). */
export async function discard(key) {
  await deleteItem(key);
  await refresh();
}

/** Puts a refused item back to pending (after the worker changed nothing but wants another try), or, with
 * `fix`, with a new device fix in its body (a check refused because its fix went stale while it waited). */
export async function retry(key, { fix = null } = {}) {
  const found = outbox.items.find((i) => i.key === key);
  if (!found) return;
  const item = structuredClone(toRaw(found));
  if (fix) item.body = { ...item.body, fix: { ...fix } };
  item.state = 'pending';
  item.error = '';
  item.details = [];
  await putItem(item);
  await flush();
}

let started = false;
/** Sends when the signal returns and every 30 s while anything waits (once per page life). */
export function startOutbox() {
  if (started) return;
  started = true;
  window.addEventListener('online', () => { flush(); });
  setInterval(() => { if (outbox.items.some((i) => i.state === 'pending')) flush(); }, 30000);
  flush();
}
