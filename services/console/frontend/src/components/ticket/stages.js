// A ticket's stages (签收, 处置, 核查) and their pauses, read from its audit trail: dispatch keeps only the current
// stage's clock, so earlier stages are told by when they started and ended, how long their limit was, and whether
// the clock warned (预警) or escalated (超期) while they ran.

import { minutesText } from '../../names.js';

// The state in which each stage's clock runs (as dispatch's lifecycle.STAGE_OF).
const STAGE_OF = { dispatched: 'claim', claimed: 'handle', handled: 'verify' };
// States in which the clock stands still, and the actions that start it again.
const PAUSED = new Set(['returned', 'extension_requested', 'suspended']);
const RESUMING = new Set(['resume', 'refuse_extension', 'approve_extension']);
const KEEPING = new Set(['supervise', 'warn', 'escalate']);

/** The stages of a ticket, oldest first: {stage, start, end, endAction, pauses[{from, until, action, endAction,
 * note}], warned, escalated, supervised, current}. */
export function stagesOf(transitions, ticket) {
  const stages = [];
  let cur = null;
  const closePause = (at, action) => {
    const open = cur && cur.pauses.find((p) => !p.until);
    if (open) Object.assign(open, { until: at, endAction: action });
  };
  for (const t of transitions) {
    if (KEEPING.has(t.action)) {
      if (cur) cur[{ supervise: 'supervised', warn: 'warned', escalate: 'escalated' }[t.action]] = true;
      continue;
    }
    if (PAUSED.has(t.to_state)) {
      if (cur) cur.pauses.push({ from: t.at, until: null, action: t.action, endAction: null, note: t.note });
      continue;
    }
    if (RESUMING.has(t.action)) {
      closePause(t.at, t.action);
      continue;
    }
    if (cur) {
      closePause(t.at, t.action);
      Object.assign(cur, { end: t.at, endAction: t.action });
    }
    const stage = STAGE_OF[t.to_state];
    cur = stage ? { stage, start: t.at, end: null, endAction: null, pauses: [], warned: false, escalated: false,
      supervised: false, current: false } : null;
    if (cur) stages.push(cur);
  }
  if (cur && !cur.end && ticket.stage === cur.stage && ticket.state !== 'closed') cur.current = true;
  return stages;
}

export const UNIT_NAMES = { clock_hours: '自然小时', working_hours: '工作小时', working_days: '工作日' };

/** A limit such as {amount: 4, unit: 'working_hours'} as text ("4 工作小时"). */
export const limitText = (limit) => (limit ? `${limit.amount} ${UNIT_NAMES[limit.unit] || limit.unit}` : '—');

/** A span of clock time as text ("1小时05分", "3天2小时", "12分"). */
export const spanText = (fromIso, toIso) => minutesText(Math.max(0, Math.round((new Date(toIso) - new Date(fromIso))
  / 60000)));
