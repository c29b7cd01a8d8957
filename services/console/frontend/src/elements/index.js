// Which Element Plus kit a page needs, loaded once per application: the base kit before the first render, the desk
// kit with the first desk page (router.js).
let app = null;
let desk = null;

/** Remembers the application the kits install on (main.js, before the router's first navigation). */
export function useApp(a) {
  app = a;
}

/** Loads and installs the desk kit once; resolves when its components can render. */
export function deskKit() {
  // a failed download (no signal) is tried again by the next desk page
  if (!desk) desk = import('./desk.js').then((m) => { m.install(app); }, (exc) => { desk = null; throw exc; });
  return desk;
}
