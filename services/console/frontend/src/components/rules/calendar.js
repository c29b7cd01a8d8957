// 工作日历: the official holiday notice of a year (国务院办公厅放假安排) as dispatch's SLA clocks count on it — its
// weekday days off and its adjusted working weekend days (调休) — read, drawn as a year of months, and written back
// by an administrator as the notice lists it: breaks from one day to another, and single working weekend days.
import { api } from '../../api.js';
import { cityDay } from '../../names.js';

export const CALENDAR_PATH = 'dispatch/v1/calendar/years';
export const SOURCE_NAMES = { package: '内置（chinesecalendar）', loaded: '管理员录入' };
const DAY_MS = 86400000;

/** 'YYYY-MM-DD' → its UTC midnight (ms): day arithmetic without the browser's zone. */
const ms = (day) => Date.parse(`${day}T00:00:00Z`);
const dayOf = (t) => new Date(t).toISOString().slice(0, 10);
/** 0 Sunday … 6 Saturday. */
export const weekday = (day) => new Date(ms(day)).getUTCDay();
export const isWeekend = (day) => [0, 6].includes(weekday(day));

/** The city's year today. */
export const cityYear = () => Number(cityDay().slice(0, 4));

/** The years an official table covers ({year: source}). */
export async function loadCoverage() {
  const rows = await api('GET', CALENDAR_PATH);
  return Object.fromEntries(rows.map((r) => [r.year, r.source]));
}

/** A year's table ({year, source, holidays, workdays}), or null when no table covers it (404). */
export async function loadYear(year) {
  try {
    return await api('GET', `${CALENDAR_PATH}/${year}`);
  } catch (exc) {
    if (exc.status === 404) return null;
    throw exc;
  }
}

/** Store a year's table (administrators); the table as stored. */
export const saveYear = (year, holidays, workdays) => api('PUT', `${CALENDAR_PATH}/${year}`, { holidays, workdays });

/**
 * The stored weekday days off as breaks: [{start, end}], one break running on over a weekend in between (the table
 * keeps only weekdays: 元旦 Friday 1 to Sunday 3 January reads back as Friday 1 January).
 */
export function breaksOf(holidays) {
  const out = [];
  for (const day of [...holidays].sort()) {
    const last = out[out.length - 1];
    let joined = false;
    if (last) {
      let d = ms(last.end) + DAY_MS;
      while (d < ms(day) && isWeekend(dayOf(d))) d += DAY_MS;
      joined = d === ms(day);
    }
    if (joined) last.end = day;
    else out.push({ start: day, end: day });
  }
  return out;
}

/** Every day of each break (the service keeps the weekdays, drops the weekend days). */
export function daysOf(breaks) {
  const days = new Set();
  for (const b of breaks) for (let d = ms(b.start); d <= ms(b.end); d += DAY_MS) days.add(dayOf(d));
  return [...days].sort();
}

/** Why a break cannot be stored for `year`, in words ('' when it can). */
export function breakProblem(b, year) {
  if (!b.start || !b.end) return '请填写开始和结束日期';
  if (!b.start.startsWith(`${year}-`) || !b.end.startsWith(`${year}-`)) return `须在 ${year} 年内`;
  if (b.end < b.start) return '结束日期不能早于开始日期';
  return '';
}

/** Why an adjusted working day cannot be stored for `year` ('' when it can). */
export function workdayProblem(day, year, holidays) {
  if (!day) return '请填写日期';
  if (!day.startsWith(`${year}-`)) return `须在 ${year} 年内`;
  if (!isWeekend(day)) return '只有周六或周日可以调休上班';
  if (holidays.includes(day)) return '该日已在放假日期内';
  return '';
}

/** The months of a year as weeks of day cells ({day, n} or null), Monday first, for a wall calendar. */
export function monthsOf(year) {
  return Array.from({ length: 12 }, (_, m) => {
    const first = Date.UTC(year, m, 1);
    const days = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
    const lead = (new Date(first).getUTCDay() + 6) % 7;
    const cells = [...Array(lead).fill(null),
      ...Array.from({ length: days }, (__, i) => ({ day: dayOf(first + i * DAY_MS), n: i + 1 }))];
    return { month: m + 1, cells };
  });
}
