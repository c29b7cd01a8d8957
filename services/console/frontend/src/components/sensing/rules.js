// 屏蔽规则: sensing's suppression rules (/v1/suppression-rules) as the command centre reads and writes them: their
// Chinese names, whether one is in force, what it covers, and the bodies the page sends (a snooze of one camera,
// a rule written back whole with one change, since the service's PUT takes the whole rule).
import { api } from '../../api.js';
import { refusalInto } from '../centre/actions.js';
import { areaName, cityClock, timeText } from '../../names.js';
import { typeName } from './alarms.js';

export const RULES_PATH = 'sensing/v1/suppression-rules';
export const RULE_KIND_NAMES = { snooze: '静默', maintenance: '维护窗口', inhibit: '抑制', confidence: '置信度下限' };
export const MODE_NAMES = { enforce: '执行', monitor: '试运行' };
/** How long a snooze lasts: [the service's duration, its Chinese name]. */
export const SNOOZE_FOR = [['2h', '2 小时'], ['8h', '8 小时'], ['1d', '1 天'], ['7d', '7 天']];
export const NAME_MAX = 200;
export const NOTE_MAX = 2000;
const LISTED = 2; // devices or types named in a rule's scope before "等 N 个"

/** Where a rule stands: 'active' (in force now, as sensing said when it answered), else 'ended' or 'pending'. */
export function ruleStatus(rule, now = Date.now()) {
  if (rule.active) return 'active';
  return rule.ends_at && Date.parse(rule.ends_at) <= now ? 'ended' : 'pending';
}
export const STATUS_NAMES = { active: '生效中', pending: '未开始', ended: '已结束' };

function listed(values, name) {
  const shown = values.slice(0, LISTED).map(name).join('、');
  return values.length > LISTED ? `${shown} 等 ${values.length} 个` : shown;
}

/** What a rule covers, in words: "设备 东城市场北门球机 · 类型 乱堆物料"; `deviceName(id)` names a device. */
export function scopeText(rule, types, deviceName = (id) => id) {
  const parts = [];
  if (rule.device_ids?.length) parts.push(`设备 ${listed(rule.device_ids, deviceName)}`);
  if (rule.area_codes?.length) parts.push(`区域 ${listed(rule.area_codes, areaName)}`);
  if (rule.source_types?.length) parts.push(`上级告警 ${listed(rule.source_types, (c) => typeName(types, c))}`);
  if (rule.alarm_types?.length) parts.push(`类型 ${listed(rule.alarm_types, (c) => typeName(types, c))}`);
  if (rule.equal?.length) parts.push(`须${rule.equal.map((k) => EQUAL_NAMES[k] || k).join('、')}`);
  if (rule.min_confidence !== null && rule.min_confidence !== undefined) {
    parts.push(`置信度低于 ${Math.round(rule.min_confidence * 100)}%`);
  }
  return parts.join(' · ') || '全部告警';
}

/** When a rule is in force, in words: "至 2026/12/6 21:00:00", "2026/12/6 08:00:00 起，长期". */
export function periodText(rule) {
  if (rule.starts_at && rule.ends_at) return `${timeText(rule.starts_at)} 至 ${timeText(rule.ends_at)}`;
  if (rule.ends_at) return `至 ${timeText(rule.ends_at)}`;
  if (rule.starts_at) return `${timeText(rule.starts_at)} 起，长期`;
  return '长期';
}

/** What an inhibit rule's `equal` keys mean: the superior alarm and the held-back one share this place. */
export const EQUAL_NAMES = { device_id: '同一设备', grid_code: '同一网格', village_code: '同一村（社区）',
  town_code: '同一镇街' };

/**
 * The body of a new rule of `kind` from a form's fields: times as ISO, `duration` ('2h') for a snooze, the confidence
 * floor as a share (0–1); empty lists, times and notes left out (the service's defaults: any, open, none).
 */
export function newRuleBody(kind, { name, mode = 'enforce', note = '', duration = '', startsAt = '', endsAt = '',
  deviceIds = [], areaCodes = [], alarmTypes = [], sourceTypes = [], equal = [], minConfidence = null }) {
  const body = { name: name.trim(), kind, mode };
  const optional = { for: duration, starts_at: startsAt, ends_at: endsAt, device_ids: deviceIds, area_codes: areaCodes,
    alarm_types: alarmTypes, source_types: sourceTypes, equal, note: note.trim() };
  for (const [key, value] of Object.entries(optional)) if (value && value.length) body[key] = value;
  if (minConfidence !== null && minConfidence !== undefined) body.min_confidence = minConfidence;
  return body;
}

/** The body of a snooze of one device (and one alarm type, if given) for `duration` ('2h'…). */
export const snoozeBody = ({ deviceId, alarmType = '', ...fields }) => newRuleBody('snooze', {
  ...fields, deviceIds: [deviceId], alarmTypes: alarmType ? [alarmType] : [] });

/** A stored rule as the service's PUT takes it (the whole rule), with `changes` applied. */
export function ruleBody(rule, changes = {}) {
  const body = {
    name: rule.name, kind: rule.kind, mode: rule.mode, starts_at: rule.starts_at, ends_at: rule.ends_at,
    device_ids: rule.device_ids, area_codes: rule.area_codes, alarm_types: rule.alarm_types,
    source_types: rule.source_types, equal: rule.equal, min_confidence: rule.min_confidence, note: rule.note,
    ...changes,
  };
  for (const key of ['starts_at', 'ends_at', 'min_confidence', 'note']) if (body[key] === null) delete body[key];
  return body;
}

/** A replay's answer in words: "近 7 天 120 条告警中将屏蔽 35 条（乱堆物料 30、暴露垃圾 5）". */
export function replayText(result, types, days) {
  const top = Object.entries(result.by_alarm_type || {}).sort((a, b) => b[1] - a[1]).slice(0, 4)
    .map(([code, n]) => `${typeName(types, code)} ${n}`);
  const more = top.length ? `（${top.join('、')}）` : '';
  const cut = result.truncated ? '；告警过多，只回放了其中一部分' : '';
  return `近 ${days} 天 ${result.alarms_seen} 条告警中将屏蔽 ${result.would_suppress} 条${more}${cut}`;
}

/** A moment as a datetime-local input holds it, on the city's clock: "2026-12-06T21:05". */
export const cityInput = (t = Date.now()) => cityClock(t).toISOString().slice(0, 16);

/** A datetime-local input's value read as the city's time, as ISO with its offset ("…T21:05:00+08:00"); '' if
 *  it is not a whole date and time. */
export const fromCityInput = (value) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value || '') ? `${value}:00+08:00` : '');

/** The body of a maintenance window over areas (town, village or grid codes) from `startsAt` to `endsAt` (ISO). */
export const maintenanceBody = (fields) => newRuleBody('maintenance', fields);

/**
 * Store a new rule; the stored rule, or null when refused — then `errors` (field → reason, with `general`) holds the
 * service's reasons beside the fields the form has and the rest in `general`.
 */
export async function postRule(body, errors) {
  try {
    return await api('POST', RULES_PATH, body);
  } catch (exc) {
    refusalInto(exc, errors);
    return null;
  }
}

