// How the map shades an area by its open tickets: five classes per level (a grid holds far fewer tickets than a
// town, so each level has its own breaks), an outline for warnings and breaches. Shared by the map and its legend.

/** Lower bounds of the five classes of open tickets, by area level. */
export const BREAKS = {
  town: [1, 5, 10, 20, 50],
  village: [1, 3, 5, 10, 20],
  grid: [1, 2, 3, 5, 10],
};

/** Fill colours of class 0 (no open ticket) and classes 1–5 (sequential blues: red stays for breaches). */
export const FILLS = ['#ffffff', '#deebf7', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
export const BREACH = '#d93025';
export const WARNING = '#e6a23c';

/** The class (0 = none, 1–5) of `open` tickets at `level`. */
export function shadeClass(open, level) {
  const breaks = BREAKS[level] || BREAKS.grid;
  let k = 0;
  for (let i = 0; i < breaks.length; i += 1) if (open >= breaks[i]) k = i + 1;
  return k;
}

/** The legend's rows for `level`: class, colour and the range as the user reads it (e.g. "3–4 件"). */
export function legendRows(level) {
  const breaks = BREAKS[level] || BREAKS.grid;
  const rows = [{ k: 0, fill: FILLS[0], text: '无在办工单' }];
  breaks.forEach((low, i) => {
    const next = breaks[i + 1];
    let text;
    if (next === undefined) text = `${low} 件及以上`;
    else if (next - 1 === low) text = `${low} 件`;
    else text = `${low}–${next - 1} 件`;
    rows.push({ k: i + 1, fill: FILLS[i + 1], text });
  });
  return rows;
}

/** Leaflet path style of an area: fill by class, outline red (breach), amber (warning) or thin grey-blue. */
export function areaStyle(count, level, { selected = false, thin = false } = {}) {
  const c = count || { open: 0, yellow: 0, red: 0 };
  const k = shadeClass(c.open, level);
  // Grids are many and small: a thin, light outline keeps them apart without drawing a dark mesh.
  let color = thin ? '#7f9cc7' : '#4a6fa5';
  let weight = thin ? 0.8 : 1.2;
  let opacity = thin ? 0.8 : 0.9;
  if (c.red > 0) { color = BREACH; weight = thin ? 2 : 3; opacity = 1; } else if (c.yellow > 0) {
    color = WARNING; weight = thin ? 1.5 : 2; opacity = 1;
  }
  if (selected) { color = '#1d3a6e'; weight = 4; opacity = 1; }
  return { color, weight, opacity, fillColor: FILLS[k], fillOpacity: k ? 0.75 : 0.6 };
}
