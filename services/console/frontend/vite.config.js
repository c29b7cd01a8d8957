// Builds the console's front end into the console package (static/app/), so neither `make up` nor a city's
// intranet needs Node or a CDN at run time. File names carry no hash: the console serves them with ETags and
// `Cache-Control: no-cache`, and a stable name keeps the committed build's diff readable.
import { fileURLToPath, URL } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import serviceWorker from './pwa/plugin.js';

export default defineConfig({
  plugins: [vue(), serviceWorker()],
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
      },
    },
  },
});
