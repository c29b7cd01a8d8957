// The console's one way to the services: every call goes to the console's same-origin API (/api/<service>/...),
// which passes the services' answers through unchanged, so an error shown is the service's own (Chinese) message.
import { reactive } from 'vue';

const SESSION_KEY = 'gridgov.console.session';
// A grid worker's phone app must open without signal, long after the tab that signed in is gone: their session
// is also kept in localStorage (a phone is personal; sign-out or another sign-in removes it).
const FIELD_SESSION_KEY = 'gridgov.console.field-session';

/** The signed-in user (token, role, sub, department, grid), kept for the tab's life so a refresh keeps it. */
export const session = reactive({ user: readSession() });

function readSession() {
  try {
    const user = JSON.parse(sessionStorage.getItem(SESSION_KEY) || localStorage.getItem(FIELD_SESSION_KEY) || 'null');
    // a token past its expiry would only earn 401s: start at the login page instead
    if (user && user.expires_at && user.expires_at < Date.now()) return null;
    return user;
  } catch {
    return null;
  }
}

/** Keeps the login answer (with its expiry as a clock time) for this tab. */
export function signIn(answer) {
  const user = { ...answer, expires_at: Date.now() + answer.expires_in * 1000 };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(user));
  // a citizen's phone keeps its login too (the 随手拍 page is opened again days later, from a follow-up message)
  if (user.role === 'grid_worker' || user.role === 'citizen') localStorage.setItem(FIELD_SESSION_KEY, JSON.stringify(user));
  else localStorage.removeItem(FIELD_SESSION_KEY);
  session.user = user;
}

/** Forgets the user; drafts stay in localStorage (they belong to the person at this desk, not the token). */
export function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
  localStorage.removeItem(FIELD_SESSION_KEY);
  session.user = null;
}

/** An error answered by a service (or by the network), with the service's message and its per-field reasons. */
export class ApiError extends Error {
  constructor(status, message, details = [], code = '') {
    super(message);
    this.status = status;
    this.details = details;
    this.code = code;
  }

  /**
   * One line for a message box: the message, then each field's reason the message does not already say (the field
   * by its name on the page).
   */
  get text() {
    const reasons = this.details.filter((d) => !(d.reason && this.message.includes(d.reason)))
      .map((d) => (d.field ? `${fieldLabel(d.field)}：${d.reason}` : d.reason));
    return [this.message, ...reasons].join('；');
  }
}

// What the pages call the fields the services name in their errors (`details[].field`, e.g. `photos.2`); a field
// not listed keeps its own name, which is what the API documents.
const FIELD_LABELS = {
  description: '问题描述', category_code: '事件类别', catalog_code: '事项编码', lon: '经度', lat: '纬度',
  location: '位置', address_string: '地址', media_ids: '照片', photos: '照片', note: '说明', handled_note: '处置说明',
  reason: '原因', department: '部门', grid: '网格', grid_code: '网格', village: '村（社区）', town: '镇街',
  state: '状态', open: '在办', overdue: '超期', version: '版本', amount: '时长', unit: '单位', passed: '核查结果',
  satisfaction: '满意度', solved: '是否解决', phone: '手机号', caller_phone: '来电号码', code: '验证码',
  since: '开始时间', until: '结束时间', start: '开始', end: '结束', period: '统计周期', q: '搜索词',
  device_id: '设备编号', repeat_of: '原工单', request_id: '验证码请求', body: '请求内容',
};

/** The page's name of an error's field: `photos.2` → `照片（第 3 项）`; an unknown field keeps its own name. */
export function fieldLabel(field) {
  const [head, index] = String(field).split('.');
  const label = FIELD_LABELS[head];
  if (!label) return field;
  return /^\d+$/.test(index || '') ? `${label}（第 ${Number(index) + 1} 项）` : label;
}

// The services answer {"error": {code, message, details: [{field, reason}]}}; Open311 answers [{code, description}].
function errorFrom(status, body, text) {
  if (body && body.error) {
    return new ApiError(status, body.error.message, body.error.details || [], body.error.code);
  }
  if (Array.isArray(body) && body.length && body[0].description) {
    return new ApiError(status, body.map((e) => e.description).join('；'), []);
  }
  if (status === 502 || status === 503 || status === 504) {
    return new ApiError(status, '服务暂时不可用，请稍后重试', []);
  }
  return new ApiError(status, text ? `服务返回错误（HTTP ${status}）` : `服务无响应（HTTP ${status}）`, []);
}

/** Calls `/api/<path>` as the signed-in user; answers the parsed JSON (or text), throws ApiError otherwise. */
export async function api(method, path, body, { raw = false, signal, headers: extra = {} } = {}) {
  // The page is Chinese whatever the browser's language: the services answer their errors in Chinese for it.
  const headers = { 'Accept-Language': 'zh-CN', ...extra };
  if (session.user) headers.Authorization = `Bearer ${session.user.token}`;
  let payload;
  if (body instanceof FormData || body instanceof Blob) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let resp;
  try {
    // no-cache: revalidate with the ETag each time (the counts and the GeoJSON answer 304 when unchanged).
    resp = await fetch(`/api/${path}`, { method, headers, cache: 'no-cache', body: payload, signal });
  } catch (exc) {
    if (exc.name === 'AbortError') throw exc;
    throw new ApiError(0, '无法连接控制台服务，请检查网络后重试', []);
  }
  if (resp.status === 401 && session.user) {
    // the token expired or was revoked: back to the login page, keeping where the user was
    signOut();
  }
  if (raw && resp.ok) return resp;
  const text = await resp.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!resp.ok) throw errorFrom(resp.status, parsed, text);
  return parsed;
}

// Reads started before the page's code is in (main.js, on a phone's first visit: they travel while the page's chunk
// downloads, instead of one more round trip after it); the page's own read takes the answer, once.
const early = new Map();

/** Starts `GET /api/<path>` now, for the first `allPages` read of that exact path to take. */
export function prefetch(path) {
  if (early.has(path)) return;
  const answer = api('GET', path);
  answer.catch(() => {}); // a failure is the taker's to handle (or nobody's, if the page is never opened)
  early.set(path, answer);
}

/** `GET /api/<path>`: the answer `prefetch` started for that exact path (taken once), or a new read. */
export function read(path) {
  const started = early.get(path);
  early.delete(path);
  return started || api('GET', path);
}

/** The grid worker's 待核查 list as the field app reads it (a page of 200), so main.js can start it early. */
export const HANDLED_TASKS = { path: 'dispatch/v1/tickets?state=handled', pageSize: 200 };

/** The path of one page of a list read by `allPages`. */
export const pagePath = (path, pageSize, offset) => `${path}${path.includes('?') ? '&' : '?'}limit=${pageSize}&offset=${offset}`;

/**
 * Reads a dispatch list (oldest first, like the list) whole, or its newest `max` items when it is longer: a list
 * nobody reads whole (every ticket of a city with a past), where `allPages` would give the oldest. The first page
 * tells the total; a longer list is then read from its last pages. Answers `{ items, total }`.
 */
export async function newestPages(path, { pageSize = 500, max = 5000 } = {}) {
  const first = await read(pagePath(path, pageSize, 0));
  const { total } = first;
  if (total <= max) {
    const items = [...first.items];
    for (let offset = pageSize; items.length < total && first.items.length === pageSize; offset += pageSize) {
      const page = await read(pagePath(path, pageSize, offset));
      items.push(...page.items);
      if (page.items.length < pageSize) break;
    }
    return { items, total };
  }
  const items = [];
  for (let offset = total - max; offset < total; offset += pageSize) {
    const size = Math.min(pageSize, total - offset);
    const page = await read(pagePath(path, size, offset));
    items.push(...page.items);
    if (page.items.length < size) break;
  }
  return { items, total };
}

/** Reads every page of a dispatch list (`items`, `total`) up to `max` items. */
export async function allPages(path, { pageSize = 500, max = 5000 } = {}) {
  const items = [];
  for (let offset = 0; offset < max; offset += pageSize) {
    const page = await read(pagePath(path, pageSize, offset));
    items.push(...page.items);
    if (items.length >= page.total || page.items.length < pageSize) break;
  }
  return items;
}
