// 派遣规则 in words: dispatch's rules (GET /v1/rules) read by the command centre and the admin — what each rule
// matches and where it sends a report — and a candidate's replay over past tickets as a summary. Pure: the names
// come in as functions.
import { CHANNEL_NAMES, PRIORITY_NAMES } from '../../names.js';

export const RULES_API = 'dispatch/v1/rules';
export const REPLAY_LIMIT = 1000; // the newest tickets a candidate is replayed over (the service's default)

const LISTED = 3;
const listed = (values, name) => {
  const shown = values.slice(0, LISTED).map(name).join('、');
  return values.length > LISTED ? `${shown} 等 ${values.length} 个` : shown;
};

/** What a rule matches, in words, e.g. "类别 04 突发事件 · 含“燃气”“煤气” · 22:00-06:00". */
export function matchText(match, { categoryName, areaName, dutyAreaName = (c) => c }) {
  const parts = [];
  if (match.category_prefix) parts.push(`类别 ${match.category_prefix} ${categoryName(match.category_prefix)}`);
  if (match.towns?.length) parts.push(`镇街 ${listed(match.towns, areaName)}`);
  if (match.villages?.length) parts.push(`村（社区） ${listed(match.villages, areaName)}`);
  if (match.grids?.length) parts.push(`网格 ${listed(match.grids, areaName)}`);
  if (match.department_areas?.length) parts.push(`责任区 ${listed(match.department_areas, dutyAreaName)}`);
  if (match.channels?.length) parts.push(`渠道 ${listed(match.channels, (c) => CHANNEL_NAMES[c] || c)}`);
  if (match.keywords?.length) parts.push(`含${match.keywords.map((k) => `“${k}”`).join('')}`);
  if (match.hours) parts.push(`时段 ${match.hours}`);
  if (match.priorities?.length) parts.push(`优先级 ${listed(match.priorities, (p) => PRIORITY_NAMES[p] || p)}`);
  return parts.join(' · ') || '全部事件';
}

/** Where a rule sends a report, in words: "城市管理和综合执法局（按属地）", "转人工分拨", with "· 紧急". */
export function outcomeText(outcome, departmentName) {
  let where;
  if (outcome.triage) where = '转人工分拨';
  else if (outcome.department) where = departmentName(outcome.department);
  else where = `${departmentName(outcome.department_type)}（按属地）`;
  return outcome.priority ? `${where} · ${PRIORITY_NAMES[outcome.priority] || outcome.priority}` : where;
}

/** The rules in the order the engine weighs them: lower `order` first, then by id. */
export const ordered = (rules) => [...rules].sort((a, b) => (a.order ?? 100) - (b.order ?? 100)
  || String(a.id).localeCompare(String(b.id)));

/**
 * The candidate rules typed as JSON (the whole set, or `{rules: [...]}` as GET /v1/rules gives it): {rules} or
 * {error} in Chinese, with the line of a syntax error where the browser tells its position.
 */
export function parseCandidate(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (exc) {
    const at = /position (\d+)/.exec(String(exc.message));
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : null;
    return { error: `JSON 格式错误${line ? `（第 ${line} 行）` : ''}：${exc.message}` };
  }
  const rules = Array.isArray(data) ? data : data?.rules;
  if (!Array.isArray(rules)) return { error: '应为规则数组，或含 rules 数组的对象' };
  return { rules };
}

/** A replay report's headline: "回放最近 1000 张工单：38 张结果改变（部门 30，优先级 8），转人工 2，脱离人工 0". */
export function replayHeadline(report) {
  return `回放最近 ${report.total} 张工单：${report.changed} 张结果改变（部门 ${report.department_changed}，`
    + `优先级 ${report.priority_changed}），转人工 ${report.to_triage}，脱离人工 ${report.from_triage}`;
}

/** The departments whose share moves in a replay: [{code, before, after}], largest move first. */
export function departmentShifts(report) {
  return Object.entries(report.by_department || {}).map(([code, v]) => ({ code, ...v }))
    .filter((d) => d.before !== d.after).sort((a, b) => Math.abs(b.after - b.before) - Math.abs(a.after - a.before));
}
