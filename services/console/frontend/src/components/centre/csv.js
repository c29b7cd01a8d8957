// CSV export of any list, made in the browser: a UTF-8 byte-order mark first so that Excel (which otherwise
// reads a CSV as the system's ANSI code page) opens the Chinese headers and names correctly.
import {
  CHANNEL_NAMES, LOCATION_NAMES, PRIORITY_NAMES, SLA_NAMES, areaName, categoryName, departmentName, stateName, timeText,
  cityClock, pad2 as pad,
} from '../../names.js';

const BOM = '\ufeff';

/** One CSV field: quoted when it holds a comma, a quote or a line break; a leading =+-@ is defused for Excel. */
export function csvField(value) {
  let text = value === null || value === undefined ? '' : String(value);
  // A cell starting with = + - @ is a formula to Excel (CSV injection): a quote mark keeps it text.
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV text (with the BOM) of `rows` under `columns` ([header, row => value]). */
export function toCsv(columns, rows) {
  const lines = [columns.map(([header]) => csvField(header)).join(',')];
  for (const row of rows) lines.push(columns.map(([, value]) => csvField(value(row))).join(','));
  return BOM + lines.join('\r\n') + '\r\n';
}

/** A file name with the list's name and the city's date and time, e.g. 工单列表-20261202-1030.csv. */
export function csvName(title) {
  const d = cityClock();
  return `${title}-${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`
    + `-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}.csv`;
}

/** Saves the CSV of `rows` as a download named after `title`; answers the blob URL (kept briefly for the link). */
export function downloadCsv(title, columns, rows) {
  const blob = new Blob([toCsv(columns, rows)], { type: 'text/csv;charset=utf-8' });
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = csvName(title);
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoking at once can cancel the download in some browsers; a minute is plenty.
  setTimeout(() => URL.revokeObjectURL(href), 60000);
  return href;
}

/** The columns of a ticket list in CSV, names not codes. */
export const TICKET_COLUMNS = [
  ['工单号', (t) => t.id],
  ['类别', (t) => categoryName(t.category_code)],
  ['类别编码', (t) => t.category_code],
  ['问题描述', (t) => t.description],
  ['状态', (t) => stateName(t.state)],
  ['处置部门', (t) => (t.department ? departmentName(t.department) : '未派遣')],
  ['镇街', (t) => areaName(t.town_code)],
  ['村（社区）', (t) => areaName(t.village_code)],
  ['网格编码', (t) => t.grid_code || ''],
  ['定位', (t) => LOCATION_NAMES[t.location_status] || t.location_status || ''],
  ['来源渠道', (t) => CHANNEL_NAMES[t.channel] || t.channel || ''],
  ['紧急程度', (t) => PRIORITY_NAMES[t.priority] || t.priority || ''],
  ['时限', (t) => timeText(t.deadline)],
  ['时限状态', (t) => SLA_NAMES[t.sla_level] || t.sla_level || ''],
  ['督办', (t) => (t.supervised ? '是' : '否')],
  ['立案时间', (t) => timeText(t.created_at)],
  ['更新时间', (t) => timeText(t.updated_at)],
];
