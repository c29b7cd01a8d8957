// Builds the console's front end into the console package (static/app/), so neither `make up` nor a city's
// intranet needs Node or a CDN at run time. File names carry no hash: the console serves them with ETags and
// `Cache-Control: no-cache`, and a stable name keeps the committed build's diff readable.
import { fileURLToPath, URL } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import serviceWorker from './pwa/plugin.js';

// Element Plus components only desk pages use: left out of the groups, they go with the desk kit's chunk
// (src/elements/desk.js, loaded by the desk routes).
const DESK_ONLY = ['button-group', 'collapse', 'collapse-item', 'collapse-transition', 'descriptions',
  'descriptions-item', 'dialog', 'drawer', 'input-number', 'loading', 'pagination', 'rate', 'skeleton',
  'skeleton-item', 'table', 'table-column', 'timeline', 'timeline-item'];
const DESK_CODE = new RegExp(String.raw`element-plus[\\/]es[\\/]components[\\/](${DESK_ONLY.join('|')})[\\/]`);
const STYLE = /\.css$|[\\/]style[\\/]/;
const EP_LIBS = new RegExp(String.raw`node_modules[\\/](element-plus|@element-plus|@floating-ui|@vueuse|@ctrl|`
  + String.raw`@popperjs|lodash-es|lodash-unified|dayjs|async-validator|memoize-one|normalize-wheel-es|escape-html)[\\/]`);
// The rest of Element Plus (and what it is built on), with the base kit (src/elements/base.js); not the style
// modules (the base kit's CSS goes with the entry, the desk kit's with the desk chunk: a CSS module caught in a
// group would make the entry wait for that group's chunk).
const ELEMENTS = (id) => !STYLE.test(id) && !DESK_CODE.test(id)
  && (/src[\\/]elements[\\/]base\.js/.test(id) || EP_LIBS.test(id));
// Small modules of the app that the entry, the field app and the desks share.
// (the alarm names and helpers too: the field app's 核实任务 and the desks' 感知告警 share them)
const COMMON = /src[\\/](api|names|composables|elements[\\/]index)\.js|src[\\/]components[\\/]ticket[\\/](PhotoStrip\.vue|media\.js)|src[\\/]components[\\/]sensing[\\/]alarms\.js/;

// Element Plus's base kit is wanted by every page before its first render, but main.js asks for it with import()
// (the page's reads start first): modulepreload links in the page (the kit and the chunks it imports, e.g. Rolldown's
// runtime) let the browser fetch it with the entry, one round trip (562 ms on "Fast 3G") earlier than main.js would
// (issue #14).
function preloadBaseKit() {
  return {
    name: 'gridgov-preload-base-kit',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, { bundle }) {
        const chunk = Object.values(bundle || {}).find((c) => c.type === 'chunk' && c.name === 'elements');
        if (!chunk) return html;
        return [chunk.fileName, ...chunk.imports].map((name) => `/static/app/${name}`).filter((href) => !html.includes(href))
          .map((href) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href }, injectTo: 'head' }));
      },
    },
  };
}

export default defineConfig({
  plugins: [vue(), serviceWorker(), preloadBaseKit()],
  base: '/static/app/',
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../src/gridgov_console/static/app', import.meta.url)),
    emptyOutDir: true,
    // no inline scripts or data: URLs for fonts: the console's CSP allows only its own files
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      output: {
        entryFileNames: 'app.js',
        chunkFileNames: 'chunks/[name].js',
        assetFileNames: 'assets/[name][extname]',
        // Few files on the phone's path (issue #14): on "Fast 3G" each file costs a 562 ms round trip and the
        // browser opens six connections, so the grid worker's cold visit is counted in rounds of requests, not
        // only in bytes. Vue with the router; the small modules every page shares; Element Plus's base kit with
        // its internals; the field app. The desk kit is a chunk of its own (only desk routes load it); Leaflet and
        // ECharts stay with the pages that draw maps and charts. A group takes its modules' dependencies along
        // unless a group of a higher priority has them: the shared ones go first, so no chunk pulls in another.
        codeSplitting: {
          groups: [
            // (with Rolldown's small runtime: a chunk of its own would be one more request on the page's round)
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router)[\\/]|plugin-vue:export-helper|^\0rolldown[\\/]runtime/, priority: 6 },
            { name: 'common', test: COMMON, priority: 5 },
            { name: 'elements', test: ELEMENTS, priority: 4 },
            { name: 'field', test: /src[\\/](views[\\/]FieldView\.vue|components[\\/]field[\\/])/, priority: 2 },
          ],
        },
      },
    },
  },
});
