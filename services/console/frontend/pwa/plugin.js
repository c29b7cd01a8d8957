// A Vite plugin that writes the service worker (pwa/sw.js) into the build with the list of the build's files and a
// version made from their contents: a Node-free, CDN-free precache (no new npm dependency). The list is read from
// the output directory once everything is written (Vite drops CSS-only chunks late, so the bundle is not the truth).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

const SOURCE = fileURLToPath(new URL('./sw.js', import.meta.url));
// Not part of the app shell: the worker itself, the build stamp (written after the build) and source maps.
// The risk map's chunk (ECharts, ~190 KB gzip) is the command centre's, never opened on a phone: not precached.
const DESK_ONLY = new Set(['chunks/RiskView.js', 'assets/RiskView.css']);
const SKIP = (name) => name === 'sw.js' || name === 'BUILD' || name.endsWith('.map') || DESK_ONLY.has(name);

function filesUnder(root, dir = root) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(root, path) : [relative(root, path).split('\\').join('/')];
  });
}

/** The plugin: writes `sw.js` into the output directory, listing every file of the build under `base`. */
export default function serviceWorker({ base = '/static/app/' } = {}) {
  return {
    name: 'gridgov-service-worker',
    apply: 'build',
    writeBundle(options) {
      const dir = options.dir;
      const names = filesUnder(dir).filter((n) => !SKIP(n)).sort();
      const source = readFileSync(SOURCE, 'utf8');
      const hash = createHash('sha256').update(source);
      for (const name of names) hash.update(name).update(readFileSync(join(dir, name)));
      const files = names.map((n) => `${base}${n}`);
      writeFileSync(join(dir, 'sw.js'),
        `const PRECACHE = ${JSON.stringify(files)};\nconst VERSION = '${hash.digest('hex').slice(0, 16)}';\n${source}`);
    },
  };
}
