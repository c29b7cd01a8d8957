// Small pieces of state several pages share: a ticking clock for countdowns, drafts that survive a refresh,
// and the live feed of ticket changes.
import { onBeforeUnmount, onMounted, ref, watch } from 'vue';
import { session } from './api.js';

/** A clock that ticks every `ms` milliseconds while the component lives (countdowns read it). */
export function useNow(ms = 1000) {
  const now = ref(Date.now());
  let timer = null;
  onMounted(() => { timer = setInterval(() => { now.value = Date.now(); }, ms); });
  onBeforeUnmount(() => clearInterval(timer));
  return now;
}

const DRAFT_PREFIX = 'gridgov.console.draft.';

/** A text the user is typing, kept in localStorage under `key` so a refresh or a live update never loses it. */
export function useDraft(key, initial = '') {
  const storageKey = DRAFT_PREFIX + key;
  const text = ref(localStorage.getItem(storageKey) ?? initial);
  watch(text, (value) => {
    if (value) localStorage.setItem(storageKey, value);
    else localStorage.removeItem(storageKey);
  });
  return text;
}

/** An object kept in sessionStorage under `key` (a page's state for the tab's life), or `{}` when none or unreadable. */
export function readSessionObject(key) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(key) || 'null');
    return saved && typeof saved === 'object' ? saved : {};
  } catch {
    return {};
  }
}

/** Reads a draft without binding it (for lists that keep one draft per row). */
export function readDraft(key) {
  return localStorage.getItem(DRAFT_PREFIX + key) || '';
}

/** Writes (or, when empty, drops) a draft. */
export function writeDraft(key, value) {
  if (value) localStorage.setItem(DRAFT_PREFIX + key, value);
  else localStorage.removeItem(DRAFT_PREFIX + key);
}

/**
 * Follows the console's live feed of ticket changes (server-sent events read through fetch, so the token travels
 * in the Authorization header, never in a URL) and calls `onChange(event, data)` for each; reconnects with backoff.
 */
export function useFeed(onChange) {
  // onChange(event, data): event is `ready` ({watching}), `ticket` (a change) or `problem` ({message})
  let controller = null;
  let stopped = false;
  const connected = ref(false);

  async function run() {
    let delay = 1000;
    while (!stopped && session.user) {
      controller = new AbortController();
      try {
        const resp = await fetch('/api/events', {
          headers: { Authorization: `Bearer ${session.user.token}`, Accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!resp.ok || !resp.body) throw new Error(`HTTP ${resp.status}`);
        connected.value = true;
        delay = 1000;
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const lines = block.split('\n');
            const event = (lines.find((l) => l.startsWith('event:')) || 'event: message').slice(6).trim();
            const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
            if (data) {
              try { onChange(event, JSON.parse(data)); } catch { /* a malformed event is skipped, not fatal */ }
            }
          }
        }
      } catch (exc) {
        if (stopped) return;
      }
      connected.value = false;
      if (stopped) return;
      await new Promise((r) => { setTimeout(r, delay); });
      delay = Math.min(delay * 2, 30000);
    }
  }

  // A page the browser keeps in its back-forward cache after the user leaves it would keep its stream open, and with
  // it one of the browser's six connections to this host: a few sign-ins later every request waits for a free one
  // and the console hangs. Leaving the page ends the stream; a page shown again from the cache reconnects (run loop).
  const onPageHide = () => { if (controller) controller.abort(); };
  onMounted(() => { window.addEventListener('pagehide', onPageHide); run(); });
  onBeforeUnmount(() => {
    stopped = true;
    window.removeEventListener('pagehide', onPageHide);
    if (controller) controller.abort();
  });
  return { connected };
}
