const PRECACHE = ["/static/app/app.js","/static/app/assets/GridWorkers.css","/static/app/assets/HotlineView.css","/static/app/assets/IndicatorsView.css","/static/app/assets/MapView.css","/static/app/assets/QueueView.css","/static/app/assets/RulesView.css","/static/app/assets/SensingView.css","/static/app/assets/TicketDetailView.css","/static/app/assets/centre.css","/static/app/assets/citizen.css","/static/app/assets/common.css","/static/app/assets/desk.css","/static/app/assets/field.css","/static/app/assets/hotline.css","/static/app/assets/index.css","/static/app/assets/layers-2x.png","/static/app/assets/layers.png","/static/app/assets/leaflet.css","/static/app/assets/map.css","/static/app/assets/marker-icon.png","/static/app/chunks/BoardView.js","/static/app/chunks/CitizenCasesView.js","/static/app/chunks/CitizenLoginView.js","/static/app/chunks/CitizenReportView.js","/static/app/chunks/CitizenRewardsView.js","/static/app/chunks/CitizenShell.js","/static/app/chunks/ClosingView.js","/static/app/chunks/CsvButton.js","/static/app/chunks/DepartmentPicker.js","/static/app/chunks/ExtensionsView.js","/static/app/chunks/FollowupView.js","/static/app/chunks/GridMap.js","/static/app/chunks/GridWorkers.js","/static/app/chunks/HotlineView.js","/static/app/chunks/IndicatorsView.js","/static/app/chunks/MapView.js","/static/app/chunks/NotFoundView.js","/static/app/chunks/QueueView.js","/static/app/chunks/ReturnsView.js","/static/app/chunks/RulesView.js","/static/app/chunks/SensingView.js","/static/app/chunks/TicketDetailView.js","/static/app/chunks/TicketListView.js","/static/app/chunks/TicketTable.js","/static/app/chunks/TriageView.js","/static/app/chunks/actions.js","/static/app/chunks/analytics.js","/static/app/chunks/citizen.js","/static/app/chunks/common.js","/static/app/chunks/desk.js","/static/app/chunks/elements.js","/static/app/chunks/field.js","/static/app/chunks/hotline.js","/static/app/chunks/leaflet-src.js","/static/app/chunks/map.js","/static/app/chunks/rolldown-runtime.js","/static/app/chunks/vue.js","/static/app/icons/apple-touch-icon.png","/static/app/icons/icon-192.png","/static/app/icons/icon-512.png","/static/app/icons/icon-maskable-512.png","/static/app/index.html","/static/app/manifest.webmanifest"];
const VERSION = 'bac2d4b7f79b492a';
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
