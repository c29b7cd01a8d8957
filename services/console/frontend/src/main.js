// The console's front end: one Vue application for every role, routed by URL (a URL per ticket).
// Start-up is ordered for a phone on a slow network (issue #14), where the browser's six connections and a 562 ms
// round trip, more than the bytes, decide the time: this entry holds Vue, the router and the frame; Element Plus's
// base kit (elements/base.js) and the page's chunk (the router's first navigation) are asked for first, as the
// longest downloads, then the session's reference data and the page's first list, all before the page's code is in.
import { createApp } from 'vue';
import './elements/base.css.js';
import './app.css';
import App from './App.vue';
import { HANDLED_TASKS, pagePath, prefetch, session } from './api.js';
import { PENDING_CHECKS } from './components/sensing/alarms.js';
import { useApp } from './elements/index.js';
import { loadGrid, loadReference } from './names.js';
import { router } from './router.js';

const app = createApp(App);
useApp(app);
const elements = import('./elements/base.js');
if (session.user) {
  // the page's chunk now, not after the router's guards have run (they wait a turn: by then the reads below hold
  // every connection); the router's own import then finds it on its way
  const first = router.resolve(window.location.pathname);
  if (!first.meta.roles || first.meta.roles.includes(session.user.role)) {
    for (const record of first.matched) {
      if (typeof record.components?.default === 'function') record.components.default();
    }
  }
}
app.use(router);
if (session.user) {
  loadReference();
  if (session.user.grid) loadGrid(session.user.grid).catch(() => {});
  // the field app's first screen waits for its 待核查 list and its 核实任务 too (components/field/TaskList.vue and
  // AlarmChecks.vue take these answers)
  if (session.user.role === 'grid_worker' && window.location.pathname === '/field') {
    prefetch(pagePath(HANDLED_TASKS.path, HANDLED_TASKS.pageSize, 0));
    prefetch(PENDING_CHECKS);
  }
}
elements.then(({ install }) => {
  install(app);
  app.mount('#app');
});
