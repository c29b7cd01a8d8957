// The dispatcher workbench's pure helpers: which tickets a filter keeps, the deadline order, the SLA colour a row
// shows, and the lists the return and extension forms offer. No I/O here, so the rules read in one place.
import { api } from '../../api.js';

/** States the department still has to act on or wait for (the default view, 待办). */
export const TODO_STATES = ['dispatched', 'claimed', 'extension_requested', 'suspended', 'returned'];

/** Reasons a department returns a ticket for (退单), as the 数字城管 desks word them; the text adds detail. */
export const RETURN_REASONS = [
  '不属于本部门职责', '事发位置不在本部门辖区', '问题描述不清，无法处置', '重复工单，已在处置中', '已由其他部门处置', '其他',
];

/** Units an extension may be asked in (ExtensionBody.unit), in Chinese. */
export const EXTENSION_UNITS = [
  ['working_days', '工作日'], ['working_hours', '工作小时'], ['clock_hours', '自然小时'],
];

/** The photo limit of a handling report (dispatch's PHOTOS_MAX). */
export const PHOTOS_MAX = 9;

/** Whether the ticket's clock runs in the department's hands (待签收 or 处置中, not paused): those come first. */
export function inHand(ticket) {
  return !ticket.paused_at && (ticket.state === 'dispatched' || ticket.state === 'claimed');
}

/**
 * The queue's order: tickets whose clock runs in the department's hands first, then the rest (paused, awaiting
 * the command centre or a verification); within each, the deadline due soonest first, none last, then oldest first.
 */
export function byDeadline(a, b) {
  const ra = inHand(a) ? 0 : 1;
  const rb = inHand(b) ? 0 : 1;
  if (ra !== rb) return ra - rb;
  const da = a.deadline ? Date.parse(a.deadline) : Infinity;
  const db = b.deadline ? Date.parse(b.deadline) : Infinity;
  if (da !== db) return da < db ? -1 : 1;
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
}

/** The colour a row shows: the clock's own level, or red once the deadline is past while the clock runs. */
export function slaLevel(ticket, now) {
  if (ticket.state === 'closed') return 'green';
  if (!ticket.paused_at && ticket.deadline && Date.parse(ticket.deadline) < now) return 'red';
  return ticket.sla_level || 'green';
}

/**
 * Whether a ticket passes the filters dispatch cannot apply (category, town or village, free text), and the state
 * view 待办 (several states at once). `filters.area` is `town:<code>` or `village:<code>`.
 */
export function keeps(ticket, filters) {
  if (filters.state === 'todo' && !TODO_STATES.includes(ticket.state)) return false;
  if (filters.category && ticket.category_code !== filters.category) return false;
  if (filters.area) {
    const [level, code] = filters.area.split(':');
    if (level === 'town' && ticket.town_code !== code) return false;
    if (level === 'village' && ticket.village_code !== code) return false;
  }
  const q = (filters.search || '').trim().toLowerCase();
  if (q && !ticket.description.toLowerCase().includes(q) && !ticket.id.toLowerCase().includes(q)) return false;
  return true;
}

/**
 * The dispatch list path for the filters dispatch applies itself (the state or the 待办 states, overdue): a
 * department's past is tens of thousands of closed tickets, so the open ones must be asked for, not picked out of
 * the first pages here.
 */
export function listPath(filters) {
  const params = new URLSearchParams();
  if (filters.state === 'todo') for (const state of TODO_STATES) params.append('state', state);
  else if (filters.state && filters.state !== 'all') params.set('state', filters.state);
  if (filters.overdue) params.set('overdue', 'true');
  const query = params.toString();
  return `dispatch/v1/tickets${query ? `?${query}` : ''}`;
}

/** A photo as a data: URL (the page's CSP admits data: images, not blob:), read from a File or a Blob. */
export function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** A photo the caller uploaded, fetched with the token, as a data: URL (for the thumbnails after a refresh). */
export async function mediaDataUrl(mediaId) {
  const resp = await api('GET', `intake/v1/media/${encodeURIComponent(mediaId)}`, undefined, { raw: true });
  return dataUrl(await resp.blob());
}

/** Runs `task` over `items` with at most `limit` at a time; answers each item's outcome in order. */
export async function eachLimited(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next;
      next += 1;
      try {
        results[i] = { ok: true, value: await task(items[i]) };
      } catch (error) {
        results[i] = { ok: false, error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
