// The emerging hot-spot classes of the risk map (analytics' /v1/risk/hotspots, after Esri's emerging hot spot
// analysis): their Chinese names and colours, hot ones in reds, cold ones in blues, in the order the legend reads.
// Also the risk map's dates: local (China) calendar days, the analytics API's `from`/`to`.

import { cityClock, pad2 as pad } from '../../names.js';

/** [code, Chinese name, fill colour, what it means], hot classes first, strongest signal first. */
export const CLASSES = [
  ['new_hot', '新增热点', '#7f0000', '最后一周首次成为显著热点'],
  ['consecutive_hot', '连续热点', '#b30000', '最近连续多周为热点，此前从未是'],
  ['intensifying_hot', '加剧热点', '#d7301f', '九成以上的周为热点，且聚集强度逐周上升'],
  ['persistent_hot', '持续热点', '#ef6548', '九成以上的周为热点，强度无明显升降'],
  ['diminishing_hot', '减弱热点', '#fc8d59', '九成以上的周为热点，但强度逐周下降'],
  ['sporadic_hot', '零星热点', '#fdbb84', '时有时无的热点，从未是冷点'],
  ['oscillating_hot', '振荡热点', '#e7298a', '最后一周为热点，此前也曾是冷点'],
  ['historical_hot', '历史热点', '#fdd0c7', '九成以上的周曾为热点，最后一周已不是'],
  ['new_cold', '新增冷点', '#08306b', '最后一周首次成为显著冷点'],
  ['consecutive_cold', '连续冷点', '#08519c', '最近连续多周为冷点'],
  ['intensifying_cold', '加剧冷点', '#2171b5', '九成以上的周为冷点，且逐周加深'],
  ['persistent_cold', '持续冷点', '#4292c6', '九成以上的周为冷点，无明显升降'],
  ['diminishing_cold', '减弱冷点', '#6baed6', '九成以上的周为冷点，但逐周减弱'],
  ['sporadic_cold', '零星冷点', '#9ecae1', '时有时无的冷点'],
  ['oscillating_cold', '振荡冷点', '#5e3c99', '最后一周为冷点，此前也曾是热点'],
  ['historical_cold', '历史冷点', '#c6dbef', '九成以上的周曾为冷点，最后一周已不是'],
  ['no_pattern', '无明显模式', '#f4f5f7', '未检测到显著的热点或冷点'],
];

export const CLASS_NAMES = Object.fromEntries(CLASSES.map(([code, name]) => [code, name]));
export const CLASS_COLOURS = Object.fromEntries(CLASSES.map(([code, , colour]) => [code, colour]));
/** Rank of a class for sorting lists (hot first, no pattern last). */
export const CLASS_RANK = Object.fromEntries(CLASSES.map(([code], i) => [code, i]));

/** A class's Chinese name (its code when the API answers one this page does not know). */
export const className = (code) => CLASS_NAMES[code] || code || '无数据';
/** A class's fill colour (grey for grids without data). */
export const classColour = (code) => CLASS_COLOURS[code] || '#e4e7ed';
/** Whether a class is a hot spot of some kind. */
export const isHot = (code) => typeof code === 'string' && code.endsWith('_hot');

export const TREND_NAMES = { up: '上升', down: '下降', none: '无明显趋势' };
export const MEASURE_NAMES = {
  registered: '立案', closed: '结案', closed_late: '超期结案', returned: '退单', reworked: '返工', reopened: '重新打开',
  escalated: '升级', merged: '并案', rated: '回访评价', dissatisfied: '不满意',
};
export const LEVEL_NAMES = { city: '全市', town: '镇街', village: '村（社区）', grid: '网格' };

const DAY_MS = 86400000;

/** A UTC-midnight date as YYYY-MM-DD. */
export function isoDay(date) {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** Today in China (the city's day), whatever the browser's zone, as a UTC-midnight Date. */
export function chinaToday(now = Date.now()) {
  const d = cityClock(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

/**
 * The last `weeks` whole weeks, Monday to Sunday, ending on the last Sunday before today: a week still under way
 * would read as a fall in every grid (fewer days counted) and pull the analysis towards 减弱热点.
 */
export function lastWeeks(weeks, now = Date.now()) {
  const today = chinaToday(now);
  const dow = today.getUTCDay() || 7; // Monday 1 … Sunday 7
  const end = new Date(today.getTime() - dow * DAY_MS);
  const start = new Date(end.getTime() - (weeks * 7 - 1) * DAY_MS);
  return { from: isoDay(start), to: isoDay(end) };
}

/** The `from` and `to` of a preset (`12w`) or null. */
export function presetRange(preset, now = Date.now()) {
  const m = /^(\d+)w$/.exec(preset || '');
  return m ? lastWeeks(Number(m[1]), now) : null;
}

export const PRESETS = [['4w', '近4周'], ['8w', '近8周'], ['12w', '近12周'], ['26w', '近半年'], ['52w', '近一年']];
export const DEFAULT_PRESET = '12w';

/** "2026-09-07" → "9月7日" (week labels on the charts). */
export function shortDay(day) {
  const m = /^\d{4}-(\d{2})-(\d{2})/.exec(day || '');
  return m ? `${Number(m[1])}月${Number(m[2])}日` : day;
}

/** A rate 0..1 as a percentage text, or — when there was nothing to divide. */
export const percentText = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
