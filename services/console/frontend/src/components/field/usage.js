// The categories this worker reports most, kept on the phone (a count per category code) and put first in the
// report form's picker; the codes of their recent reports (我的上报) count too.
const KEY = 'gridgov.field.category-use';

function counts() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || '{}') || {};
  } catch {
    return {};
  }
}

/** Counts one more report of `code`. */
export function bumpCategory(code) {
  const c = counts();
  c[code] = (c[code] || 0) + 1;
  localStorage.setItem(KEY, JSON.stringify(c));
}

/** Category codes, most used first: this phone's counts plus `recent` (codes of the worker's own reports). */
export function frequentCategories(recent = []) {
  const c = counts();
  for (const code of recent) c[code] = (c[code] || 0) + 1;
  return Object.entries(c).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([code]) => code);
}
