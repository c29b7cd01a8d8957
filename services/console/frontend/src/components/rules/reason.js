// The routing engine's reasons in Chinese. Dispatch's rule engine (``rules/engine.py``: ``_why``, ``decide``,
// ``RoutingContext.resolve_type`` and ``_evaluate``) writes its decision and the trace of each rule it tried in
// fixed English sentences, stored on the ticket as they were made; a desk reads them here in Chinese, with
// departments, towns, villages, categories and channels by name. A sentence this table does not know (a newer
// engine's) is shown as it is: never a wrong translation, at worst the English.
import { CHANNEL_NAMES, LOCATION_NAMES, PRIORITY_NAMES, areaName, categoryName, departmentName } from '../../names.js';

const KINDS = {
  'grid-level rule': '网格级规则', 'village-level rule': '村（社区）级规则', 'town-level rule': '镇街级规则',
  'department-area-level rule': '责任区级规则', 'conditional rule': '附条件规则', 'category-only rule': '类别规则',
  'unconditional rule': '兜底规则',
};
const KIND = `(${Object.keys(KINDS).join('|')})`;
const STATES = { unknown: '不存在', inactive: '已停用' };
const LABELS = { grid: '网格', village: '村（社区）', town: '镇街' };

/** A department type by the name of its city bureau (whose code is the type): 公安局, 水务局 … */
const typeName = (type) => departmentName(type);
const place = (label, code) => (label === 'grid' ? `${LABELS[label]} ${code}` : `${LABELS[label]} ${areaName(code)}`);
const list = (text, name) => text.split(', ').map(name).join('、');

// [pattern, Chinese] for the sentence before the first "; " (why this rule), then for what follows it.
const WHY = [
  [new RegExp(`^${KIND} (\\S+) is the only rule that matches$`), (m) => `仅${KINDS[m[1]]} ${m[2]} 命中`],
  [new RegExp(`^${KIND} (\\S+) beats ${KIND} (\\S+)$`),
    (m) => `${KINDS[m[1]]} ${m[2]} 比${KINDS[m[3]]} ${m[4]} 更具体，优先采用`],
  [/^rule (\S+) with the longer category prefix (\S+) beats rule (\S+) with (?:prefix (\S+)|no category prefix)$/,
    (m) => `规则 ${m[1]} 的类别前缀 ${m[2]} 比规则 ${m[3]} 的${m[4] ? `前缀 ${m[4]}` : '（无类别前缀）'}更细，优先采用`],
  [/^rule (\S+) with (\d+) further condition\(s\) beats rule (\S+) with (\d+) at the same location level and prefix$/,
    (m) => `同一地域层级和类别前缀下，规则 ${m[1]} 的附加条件（${m[2]} 个）多于规则 ${m[3]}（${m[4]} 个），优先采用`],
  [/^rule (\S+) \(order (-?\d+)\) beats the equally specific rule (\S+) \(order (-?\d+)\)$/,
    (m) => `规则 ${m[1]} 与规则 ${m[3]} 同样具体，按顺序号（${m[2]} 先于 ${m[4]}）采用前者`],
  [/^rule (\S+) beats the equally specific rule (\S+) of the same order by id$/,
    (m) => `规则 ${m[1]} 与规则 ${m[2]} 同样具体且顺序号相同，按规则编号采用前者`],
  [/^the report is not located to a town \(location_status (\S+)\): triage by the command centre$/,
    (m) => `上报未定位到镇街（${LOCATION_NAMES[m[1]] || m[1]}），由指挥中心人工分拨`],
  [/^no rule matches category (\S+): triage by the command centre$/,
    (m) => `没有适用于“${categoryName(m[1])}”的规则，由指挥中心人工分拨`],
];
const HOW = [
  [/^it sends the report to triage$/, () => '该规则指定由指挥中心人工分拨'],
  [/^its department (\S+) is (unknown|inactive), so triage$/,
    (m) => `其指定部门 ${departmentName(m[1])}${STATES[m[2]]}，转人工分拨`],
  [/^town branch of (\S+) in town (\d+)$/, (m) => `按部门类型派至${areaName(m[2])}的${typeName(m[1])}派出机构`],
  [/^department type (\S+) has no active city bureau, so triage$/,
    (m) => `部门类型“${typeName(m[1])}”没有在用的市级部门，转人工分拨`],
  [/^city bureau of (\S+) \(no active town branch in town (\d+)\)$/,
    (m) => `${areaName(m[2])}没有在用的${typeName(m[1])}派出机构，由市级部门承办`],
  [/^city bureau of (\S+)$/, (m) => `按部门类型由市级${typeName(m[1])}承办`],
];
// One condition of a rule's trace: held (matched on what) or failed (why not).
const CONDITIONS = [
  [/^no conditions$/, () => '无附加条件'],
  [/^category prefix (\S+)$/, (m) => `类别前缀 ${m[1]}（${categoryName(m[1])}）`],
  [/^(grid|village|town) (\S+)$/, (m) => place(m[1], m[2])],
  [/^department area (\S+)$/, (m) => `责任区 ${m[1]}`],
  [/^channel (\S+)$/, (m) => `渠道 ${CHANNEL_NAMES[m[1]] || m[1]}`],
  [/^keyword (.+)$/, (m) => `关键词“${m[1]}”`],
  [/^hours (\S+) \((\d\d:\d\d) local\)$/, (m) => `时段 ${m[1]}（当地 ${m[2]}）`],
  [/^priority (\S+)$/, (m) => `优先级 ${PRIORITY_NAMES[m[1]] || m[1]}`],
  [/^category: (\S+) does not start with (\S+)$/,
    (m) => `类别“${categoryName(m[1])}”不属于前缀 ${m[2]}（${categoryName(m[2])}）`],
  [/^(grids|villages|towns): (grid|village|town) (\S+) is not one of (.+)$/,
    (m) => `${m[3] === 'unknown' ? `${LABELS[m[2]]}未知` : place(m[2], m[3])} 不在规则所列范围内`],
  [/^department_areas: the point is in none of (.+)$/, (m) => `位置不在规则所列责任区（${m[1].split(', ').join('、')}）内`],
  [/^channels: channel (\S+) is not one of (.+)$/,
    (m) => `渠道 ${CHANNEL_NAMES[m[1]] || m[1]} 不在规则所列渠道（${list(m[2], (c) => CHANNEL_NAMES[c] || c)}）内`],
  [/^keywords: the description contains none of (.+)$/, (m) => `描述中没有规则所列关键词（${m[1].split(', ').join('、')}）`],
  [/^hours: (\d\d:\d\d) local is outside (\S+)$/, (m) => `当地时间 ${m[1]} 不在时段 ${m[2]} 内`],
  [/^priorities: priority (\S+) is not one of (.+)$/,
    (m) => `优先级 ${PRIORITY_NAMES[m[1]] || m[1]} 不在规则所列优先级（${list(m[2], (p) => PRIORITY_NAMES[p] || p)}）内`],
];

function translate(text, table) {
  for (const [pattern, zh] of table) {
    const m = pattern.exec(text);
    if (m) return zh(m);
  }
  return null;
}

/** A decision's reason in Chinese (the engine's own words when it is not one of the known sentences). */
export function reasonText(reason) {
  if (!reason) return reason;
  const [why, ...rest] = String(reason).split('; ');
  const parts = [translate(why, WHY), ...rest.map((r) => translate(r, HOW))];
  return parts.every((p) => p !== null) ? parts.join('；') : reason;
}

/** One held or failed condition of a rule's trace in Chinese (as it is when unknown). */
export const conditionText = (text) => (text ? translate(String(text), CONDITIONS) ?? text : text);

const LADDER = { village: '村（社区）', town: '镇街', city: '市' };

/** A note the system wrote on a ticket's trail, in Chinese: the routing decision's reason (立案, 派遣), the SLA
 *  clock's warning and escalations, a grid worker's own fix (自行处置, the worker by ``names`` when known). */
export function systemNoteText(action, note, names = {}) {
  if (!note) return note;
  if (action === 'register' || action === 'dispatch') return reasonText(note);
  if (note === "SLA warning: most of the stage's time is used") return '时限预警：本环节时限已用去大部分';
  let m = /^SLA breach: escalated to the (village|town|city) level$/.exec(note);
  if (m) return `超过时限：已升级至${LADDER[m[1]]}级督办`;
  m = /^handled on the spot by (\S+?)(?::\s*([\s\S]*))?$/.exec(note);
  if (m) return `网格员 ${names[m[1]] || m[1]} 现场自行处置${m[2] ? `：${m[2]}` : ''}`;
  return note;
}
