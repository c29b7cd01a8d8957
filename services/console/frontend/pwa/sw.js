// The console's service worker (built by pwa/plugin.js into static/app/sw.js, served at /sw.js so its scope is the
// whole console). It keeps the app shell — the page and every file of this build — so the grid worker's app opens
// without signal. The API is never cached here: live data stays live, and the app's own outbox decides what waits.
// PRECACHE and VERSION are written in by the build; a new build is a new VERSION, so the browser installs the new
// worker, which fetches the new files into a new cache and drops the old one.
/* global PRECACHE, VERSION */
const CACHE = `gridgov-shell-${VERSION}`;
const SHELL = '/static/app/index.html';
// First path segments that are not pages of the app (the console answers them itself).
const NOT_PAGES = new Set(['api', 'static', 'docs', 'redoc', 'openapi.json', 'healthz', 'readyz', 'sw.js']);
// A page asked for with a weak signal waits this long for the network before the kept shell answers.
const NAVIGATION_TIMEOUT_MS = 4000;

// The page and the entry script must be kept (without them nothing opens); a file that fails is only missed.
const REQUIRED = [SHELL, '/static/app/app.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then(async (cache) => {
    const fresh = (url) => new Request(url, { cache: 'reload' });
    await cache.addAll(REQUIRED.map(fresh));
    await Promise.allSettled(PRECACHE.filter((url) => !REQUIRED.includes(url)).map((url) => cache.add(fresh(url))));
  }).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('gridgov-shell-') && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await Promise.race([
      fetch(request),
      new Promise((_, reject) => { setTimeout(() => reject(new Error('timeout')), NAVIGATION_TIMEOUT_MS); }),
    ]);
    return answer;
  } catch {
    return (await cache.match(SHELL)) || Response.error();
  }
}

async function file(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreSearch: true });
  if (kept) return kept;
  const answer = await fetch(request);
  if (answer.ok) cache.put(request, answer.clone());
  return answer;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const first = url.pathname.split('/')[1] || '';
  if (request.mode === 'navigate' && !NOT_PAGES.has(first)) {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith('/static/app/')) {
    event.respondWith(file(request));
  }
});
