// The sensing service as every page reads it (through the console: /api/sensing/...): the alarm types by code,
// the Chinese names of an alarm group's states, and an alarm's evidence as text. No map, no Element Plus: the
// grid worker's phone app imports this too.
import { api } from '../../api.js';

/** GET sensing/<path>, parsed. */
export const sensing = (path, options) => api('GET', `sensing/${path}`, undefined, options);

/** The grid worker's pending 核实 tasks' path (sensing answers a grid worker only their grid's): the field app's
 * 核实任务 card reads it, and main.js starts that read on a grid worker's first visit (issue #14). */
export const PENDING_CHECKS = 'sensing/v1/verifications?state=pending&limit=200';

/** An alarm group's state: [Chinese name, colour on the map and in tags], in the order the legend reads. */
export const GROUP_STATES = [
  ['case', '已立案', '#d93025'],
  ['pending_verification', '待核实', '#f08c00'],
  ['open', '告警中', '#c2255c'],
  ['recorded', '仅记录', '#5c7cfa'],
  ['resolved', '已恢复', '#2b8a3e'],
  ['false_positive', '误报', '#adb5bd'],
  ['closed', '已关闭', '#495057'],
];
export const GROUP_STATE_NAMES = Object.fromEntries(GROUP_STATES.map(([code, name]) => [code, name]));
export const GROUP_STATE_COLOURS = Object.fromEntries(GROUP_STATES.map(([code, , colour]) => [code, colour]));
/** Element Plus tag type per state. */
export const GROUP_STATE_TAGS = { case: 'danger', pending_verification: 'warning', open: 'danger', resolved: 'success',
  recorded: 'info', false_positive: 'info', closed: 'info' };
/** The 设备在线率 drawer's width (px): the page keeps the part of the map under it out of a fit to its devices. */
export const PRESENCE_WIDTH = 640;
export const KIND_NAMES = { video_ai: '视频AI', iot: '物联感知', camera: '摄像机', sensor: '传感器' };
export const ALARM_STATE_NAMES = { firing: '告警', resolved: '恢复' };

let types = null;

/** The alarm types by code ({code, name_zh, kind, case_policy, ...}), read once per page load (again after
 *  `forgetAlarmTypes`); {} if unreadable. */
export function loadAlarmTypes() {
  if (!types) {
    types = sensing('v1/alarm-types').then((answer) => {
      const items = Array.isArray(answer) ? answer : answer?.items || [];
      return Object.fromEntries(items.map((t) => [t.code, t]));
    }).catch(() => { types = null; return {}; });
  }
  return types;
}

/** Read the alarm types again on the next `loadAlarmTypes` (an administrator changed one). */
export function forgetAlarmTypes() {
  types = null;
}

/**
 * Reads the names of `ids` into `names` (device id → name), a few at a time, each id once per page (`asked`): the
 * wall knows a camera by where it stands, not by its 20-digit id, and must not flood sensing on its first read.
 */
export async function nameDevices(ids, names, asked) {
  const wanted = ids.filter((id) => !asked.has(id));
  for (let i = 0; i < wanted.length; i += 6) {
    const part = wanted.slice(i, i + 6);
    part.forEach((id) => asked.add(id));
    const read = await Promise.allSettled(part.map((id) => sensing(`v1/devices/${encodeURIComponent(id)}`)));
    read.forEach((r, j) => { if (r.status === 'fulfilled' && r.value?.name) names[part[j]] = r.value.name; });
  }
}

/** A share 0..1 as a percentage with one decimal, rounded down (99.96 % is not yet 100.0 %); '—' without one. */
export const ratePercent = (rate) => (rate === null || rate === undefined || Number.isNaN(rate) ? '—'
  : `${(Math.floor(rate * 1000) / 10).toFixed(1)}%`);

/** An alarm type's Chinese name from `byCode` (its code when unknown). */
export const typeName = (byCode, code) => byCode?.[code]?.name_zh || code || '—';

/** A reading as text: "0.82 m", "35 %LEL"; '' without one. */
export function readingText(evidence) {
  if (!evidence || evidence.reading === null || evidence.reading === undefined) return '';
  const n = Number(evidence.reading);
  const shown = Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 0 : 2);
  return evidence.unit ? `${shown} ${evidence.unit}` : shown;
}

/**
 * Where a snapshot can be seen: {inline: url} when it is on the console's own origin (the page's CSP allows only
 * its own images), {link: url} for a video platform's http(s) URL (opened in a new tab), null otherwise.
 */
export function snapshotOf(evidence) {
  const url = evidence?.snapshot_url;
  if (!url || typeof url !== 'string') return null;
  if (url.startsWith('/') && !url.startsWith('//')) return { inline: url };
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    return parsed.origin === window.location.origin ? { inline: url } : { link: parsed.href };
  } catch {
    return null;
  }
}

/** A confidence as a percentage ("93%"), '' without one. */
export const confidenceText = (c) => (c === null || c === undefined ? '' : `${Math.round(Number(c) * 100)}%`);
