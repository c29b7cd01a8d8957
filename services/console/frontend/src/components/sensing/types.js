// 告警类型设置: an alarm type (one algorithm or one kind of sensor reading) as the command centre reads it and an
// administrator changes it — how its alarms become cases, the confidence below which a detection is not believed,
// how long repeats of one problem join one group, when a device is flapping. Sensing's PUT takes the whole type, so
// a change is the type as read with the form's fields over it; windows are durations with their unit ("30m").
import { api } from '../../api.js';

export const CASE_POLICY_NAMES = { auto: '自动立案', verify_first: '先核实后立案', record_only: '仅记录' };
export const CASE_POLICY_HELP = {
  auto: '告警直接生成工单派遣',
  verify_first: '先派网格员到现场核实，确认后立案',
  record_only: '只记录在告警组中，不立案',
};
/** Duration units as sensing writes them, with their Chinese names and seconds. */
export const DURATION_UNITS = [['s', '秒', 1], ['m', '分钟', 60], ['h', '小时', 3600], ['d', '天', 86400]];
const UNIT_SECONDS = Object.fromEntries(DURATION_UNITS.map(([u, , s]) => [u, s]));
const UNIT_NAMES = Object.fromEntries(DURATION_UNITS.map(([u, n]) => [u, n]));
export const DURATION_MAX_S = 30 * 86400; // sensing's own bound on a window
export const FLAP_MAX = 1000;

/** "30m" → {n: 30, unit: 'm'}; null when it is not a whole number and a unit. */
export function durationParts(text) {
  const m = /^(\d+)([smhd])$/.exec(String(text ?? ''));
  return m ? { n: Number(m[1]), unit: m[2] } : null;
}

/** "30m" → "30 分钟"; the text itself when it is not a duration. */
export function durationWords(text) {
  const p = durationParts(text);
  return p ? `${p.n} ${UNIT_NAMES[p.unit]}` : String(text ?? '—');
}

/** Why a window of `n` `unit`s cannot be stored, in words, or '' when it can (1 s to 30 days, whole units). */
export function durationProblem(n, unit) {
  if (n === null || n === undefined || n === '' || !Number.isInteger(Number(n))) return '请填写整数';
  const seconds = Number(n) * (UNIT_SECONDS[unit] || 0);
  if (seconds < 1) return '至少 1 秒';
  if (seconds > DURATION_MAX_S) return '最长 30 天';
  return '';
}

/** A confidence floor (0–1, or null) in words: "70%", "不设". */
export const floorText = (c) => (c === null || c === undefined ? '不设' : `${Math.round(Number(c) * 100)}%`);

/** The body of sensing's PUT for `type` as read, with `changes` (API field names) over it. */
export function typeBody(type, changes = {}) {
  const body = {
    name_zh: type.name_zh, kind: type.kind, catalog_code: type.catalog_code,
    fingerprint_fields: type.fingerprint_fields, dedupe_window: type.dedupe_window, case_policy: type.case_policy,
    min_confidence: type.min_confidence, resolved_verifies: type.resolved_verifies,
    flap_threshold: type.flap_threshold, flap_window: type.flap_window, ...changes,
  };
  if (body.min_confidence === undefined) body.min_confidence = null;
  return body;
}

/** Store a changed alarm type (administrators only); the stored type. */
export const putAlarmType = (code, body) => api('PUT', `sensing/v1/alarm-types/${encodeURIComponent(code)}`, body);
