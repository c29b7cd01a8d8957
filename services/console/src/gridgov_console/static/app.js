// The gridgov console (一网统管控制台): one page, a view per role. Every call goes through the console's
// same-origin API (/api/<service>/...), which passes the services' answers through unchanged, so an error shown
// here is the service's own message. Leaflet (vendored, window.L) draws the grid polygons; there is no tile layer.

const L = window.L;
const SESSION_KEY = 'gridgov.console.session';

const STATE_NAMES = {
  registered: '已立案', dispatched: '已派遣', claimed: '已签收', handled: '已处置', verified: '已核查',
  closed: '已结案', returned: '已退单', extension_requested: '延期申请中', suspended: '已挂起',
};
const SLA_NAMES = { green: '正常', yellow: '预警', red: '超期' };
const ESCALATION_NAMES = { none: '未升级', village: '村（社区）级', town: '镇街级', city: '市级' };
const ROLE_NAMES = { command_centre: '指挥中心', dept_dispatcher: '部门调度员', grid_worker: '网格员', admin: '管理员' };
const FILL = { none: '#ffffff', open: '#4f8fd8', yellow: '#f2c200', red: '#d93025' };
// Used when intake's Open311 service list cannot be read, so a grid worker can still report.
const FALLBACK_CATEGORIES = [
  { service_code: '01002', service_name: '暴露垃圾' }, { service_code: '04002', service_name: '自来水管破裂' },
  { service_code: '05003', service_name: '机动车乱停放' },
];

const $ = (sel) => document.querySelector(sel);
let session = null;
let map = null;
let areaLayer = null;
let pickMarker = null;
let fitted = false;
let feed = null;
let refreshTimer = null;

// ---- messages ---------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, details) { super(message); this.status = status; this.details = details; }
}

function showError(message, details = []) {
  $('#error-text').textContent = message;
  const list = $('#error-details');
  list.replaceChildren(...details.map((d) => el('li', {}, d)));
  $('#error-box').hidden = false;
}

function clearError() { $('#error-box').hidden = true; }

function notice(text) {
  const box = $('#notice-box');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

// The services answer {"error": {code, message, details: [{field, reason}]}}; Open311 answers [{code, description}].
function errorFrom(status, body, text) {
  if (body && body.error) {
    const details = (body.error.details || []).map((d) => `${d.field}: ${d.reason}`);
    return new ApiError(status, `${body.error.message}（HTTP ${status}，${body.error.code}）`, details);
  }
  if (Array.isArray(body) && body.length && body[0].description) {
    return new ApiError(status, `${body.map((e) => e.description).join('；')}（HTTP ${status}）`, []);
  }
  return new ApiError(status, `${text || '服务无响应'}（HTTP ${status}）`, []);
}

// ---- API ------------------------------------------------------------------------------------------------------

async function api(method, path, body) {
  // The page is Chinese whatever the browser's language: the services answer their errors in Chinese for it.
  const headers = { 'Accept-Language': 'zh-CN' };
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    // no-cache: revalidate with the ETag each time (the counts and the GeoJSON answer 304 when unchanged).
    resp = await fetch(`/api/${path}`, {
      method, headers, cache: 'no-cache', body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (exc) {
    throw new ApiError(0, `无法连接控制台服务：${exc.message}`, []);
  }
  const text = await resp.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (!resp.ok) throw errorFrom(resp.status, parsed, text);
  return parsed;
}

// Runs a user's action: shows the API's error in the message box instead of failing silently.
async function act(fn) {
  try {
    clearError();
    return await fn();
  } catch (exc) {
    showError(exc.message, exc.details || []);
    return undefined;
  }
}

// ---- small DOM helpers ------------------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'className') node.className = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const short = (id) => id.slice(0, 8);
const stateName = (s) => STATE_NAMES[s] || s;
const time = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false }) : '');

function fillRows(table, rows, empty) {
  const body = $(`${table} tbody`);
  if (!rows.length) {
    const cols = $(`${table} thead tr`).children.length;
    body.replaceChildren(el('tr', { className: 'empty' }, el('td', { colspan: String(cols) }, empty)));
  } else {
    body.replaceChildren(...rows);
  }
}

function button(label, onclick, name) {
  const b = el('button', { type: 'button', 'data-action': name }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await onclick(); } finally { b.disabled = false; }
  });
  return b;
}

async function transition(ticketId, action, body, done) {
  const result = await act(() => api('POST', `dispatch/v1/tickets/${encodeURIComponent(ticketId)}/${action}`, body));
  if (result) {
    notice(`工单 ${short(ticketId)}：${stateName(result.state)}`);
    await refresh();
  }
  return result;
}

// newest tickets the caller may see (dispatch lists oldest first)
async function newestTickets(query, count) {
  const first = await api('GET', `dispatch/v1/tickets?${query}&limit=${count}`);
  if (first.total <= count) return first.items.slice().reverse();
  const last = await api('GET', `dispatch/v1/tickets?${query}&limit=${count}&offset=${first.total - count}`);
  return last.items.slice().reverse();
}

// ---- login ------------------------------------------------------------------------------------------------------

function syncLoginFields() { $('#login-form').className = `role-${$('#login-role').value}`; }

async function login(event) {
  event.preventDefault();
  const role = $('#login-role').value;
  const body = { role, sub: $('#login-sub').value.trim() };
  if (role === 'dept_dispatcher' && $('#login-department').value.trim()) body.department = $('#login-department').value.trim();
  if (role === 'grid_worker' && $('#login-grid').value.trim()) body.grid = $('#login-grid').value.trim();
  const result = await act(() => api('POST', 'login', body));
  if (!result) return;
  session = result;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  await start();
}

function logout() {
  sessionStorage.removeItem(SESSION_KEY);
  session = null;
  stopFeed();
  window.location.reload();
}

// ---- map --------------------------------------------------------------------------------------------------------

function levelOf(count) {
  if (!count) return 'none';
  if (count.red > 0) return 'red';
  if (count.yellow > 0) return 'yellow';
  return count.open > 0 ? 'open' : 'none';
}

function ensureMap() {
  if (map) return;
  map = L.map('map', { attributionControl: false, zoomSnap: 0.25 }).setView([23.02, 113.75], 11);
  map.on('click', (e) => {
    if (!session || session.role !== 'grid_worker') return;
    $('#report-lon').value = e.latlng.lng.toFixed(6);
    $('#report-lat').value = e.latlng.lat.toFixed(6);
    placeMarker();
  });
}

// The report's location on the map, whether tapped or typed.
function placeMarker() {
  const lon = Number($('#report-lon').value);
  const lat = Number($('#report-lat').value);
  if (!map || !$('#report-lon').value || !$('#report-lat').value || Number.isNaN(lon) || Number.isNaN(lat)) return;
  if (pickMarker) pickMarker.remove();
  pickMarker = L.circleMarker([lat, lon], { radius: 7, color: '#0b3d91', fillOpacity: 0.9 }).addTo(map);
}

async function loadMap() {
  ensureMap();
  const level = $('#map-level').value;
  const [geo, counts] = await Promise.all([
    api('GET', `registry/v1/grids?level=${level}&zoom=14`),
    api('GET', `dispatch/v1/sla/counts?level=${level}`),
  ]);
  if (areaLayer) areaLayer.remove();
  const codeOf = (f) => f.id || (f.properties && f.properties.code);
  areaLayer = L.geoJSON(geo, {
    style: (f) => {
      const lvl = levelOf(counts[codeOf(f)]);
      return {
        color: '#3d4b5c', weight: 1, fillColor: FILL[lvl], fillOpacity: lvl === 'none' ? 0.25 : 0.6,
        className: `area area-${codeOf(f)} level-${lvl}`,
      };
    },
    onEachFeature: (f, layer) => {
      const c = counts[codeOf(f)] || { open: 0, yellow: 0, red: 0 };
      const name = (f.properties && f.properties.name) || codeOf(f);
      // A DOM node, never a string: Leaflet puts a string tooltip in as HTML, and area names come from imported
      // grid sets (a name like <img onerror=...> ran script here once).
      layer.bindTooltip(() => el('span', { className: 'area-tip' }, el('b', { className: 'area-name' }, name),
        `（${codeOf(f)}）未结 ${c.open} · 预警 ${c.yellow} · 超期 ${c.red}`));
    },
  }).addTo(map);
  if (!fitted && areaLayer.getBounds().isValid()) {
    map.fitBounds(areaLayer.getBounds());
    fitted = true;
  }
  const names = Object.fromEntries((geo.features || []).map((f) => [codeOf(f), (f.properties || {}).name || '']));
  const rows = Object.entries(counts)
    .sort(([, a], [, b]) => b.red - a.red || b.yellow - a.yellow || b.open - a.open)
    .map(([code, c]) => el('tr', { className: `level-${levelOf(c)}`, 'data-code': code },
      el('td', {}, names[code] || ''), el('td', {}, code), el('td', { className: 'open' }, String(c.open)),
      el('td', { className: 'yellow' }, String(c.yellow)), el('td', { className: 'red' }, String(c.red))));
  fillRows('#area-table', rows, '暂无未结工单');
}

// ---- command centre ---------------------------------------------------------------------------------------------

function ticketCell(id) { return el('td', { className: 'ticket-id', title: id }, short(id)); }

async function loadCentre() {
  const [breaches, returns, toClose, recent] = await Promise.all([
    api('GET', 'dispatch/v1/sla/breaches?limit=100'),
    api('GET', 'dispatch/v1/sla/returns?limit=100'),
    api('GET', 'dispatch/v1/tickets?state=verified&limit=100'),
    newestTickets('', 30),
  ]);
  $('#breach-total').textContent = String(breaches.total);
  fillRows('#breaches', breaches.items.map((b) => el('tr', { className: 'level-red', 'data-id': b.id },
    ticketCell(b.id), el('td', {}, b.category_code), el('td', {}, b.department || ''), el('td', {}, b.grid_code || ''),
    el('td', {}, String(b.overdue_hours)), el('td', {}, ESCALATION_NAMES[b.escalation_level_name] || b.escalation_level_name))), '暂无超期工单');
  fillRows('#returns', returns.items.map((r) => {
    const dept = el('input', { placeholder: '改派部门（留空=退回原部门）', 'aria-label': '改派部门' });
    return el('tr', { 'data-id': r.id }, ticketCell(r.id), el('td', {}, r.department || ''), el('td', {}, r.reason || ''),
      el('td', {}, r.returned_by || ''), el('td', {}, dept, button('裁定', () => transition(r.id, 'rule_return',
        dept.value.trim() ? { department: dept.value.trim() } : {}), 'rule_return')));
  }), '暂无退单');
  fillRows('#to-close', toClose.items.map((t) => el('tr', { 'data-id': t.id }, ticketCell(t.id),
    el('td', {}, t.category_code), el('td', {}, t.grid_code || ''),
    el('td', {}, button('结案', () => transition(t.id, 'close', {}), 'close')))), '暂无待结案工单');
  fillRows('#recent', recent.map((t) => el('tr', { className: `level-${t.sla_level}`, 'data-id': t.id, 'data-state': t.state },
    ticketCell(t.id), el('td', {}, t.category_code), el('td', {}, t.department || ''), el('td', {}, t.grid_code || ''),
    el('td', { className: 'state' }, stateName(t.state)), el('td', {}, SLA_NAMES[t.sla_level] || t.sla_level))), '暂无工单');
}

function addFeedItem(event) {
  const text = event.kind === 'created'
    ? `新工单 ${short(event.id)}（${event.category_code}，网格 ${event.grid_code || '未定位'}）：${stateName(event.state)}`
    : `工单 ${short(event.id)}：${event.previous_state && event.previous_state !== event.state
      ? `${stateName(event.previous_state)} → ${stateName(event.state)}` : stateName(event.state)}`
      + (event.sla_level !== event.previous_sla_level && event.previous_sla_level ? `，${SLA_NAMES[event.sla_level]}` : '');
  const item = el('li', { 'data-id': event.id, 'data-state': event.state },
    `${new Date().toLocaleTimeString('zh-CN', { hour12: false })} ${text}`);
  $('#feed').prepend(item);
  while ($('#feed').children.length > 100) $('#feed').lastElementChild.remove();
}

// ---- department dispatcher --------------------------------------------------------------------------------------

async function loadQueue() {
  const dept = encodeURIComponent(session.department || '');
  const page = await api('GET', `dispatch/v1/tickets?department=${dept}&limit=500`);
  const open = page.items.filter((t) => !['closed', 'verified'].includes(t.state)).reverse();
  fillRows('#queue', open.map((t) => {
    const actions = el('td', { className: 'actions' });
    if (t.state === 'dispatched') {
      actions.append(button('签收', () => transition(t.id, 'claim', {}), 'claim'));
    }
    if (t.state === 'claimed') {
      const note = el('input', { placeholder: '处置说明', 'aria-label': '处置说明', name: 'note' });
      actions.append(note, button('处置', () => transition(t.id, 'handle', { note: note.value.trim() }), 'handle'));
    }
    if (t.state === 'dispatched' || t.state === 'claimed') {
      const reason = el('input', { placeholder: '退单理由', 'aria-label': '退单理由', name: 'reason' });
      actions.append(reason, button('退单', () => transition(t.id, 'return', { note: reason.value.trim() }), 'return'));
    }
    return el('tr', { className: `level-${t.sla_level}`, 'data-id': t.id, 'data-state': t.state }, ticketCell(t.id),
      el('td', {}, t.category_code), el('td', {}, t.description), el('td', {}, t.grid_code || ''),
      el('td', { className: 'state' }, stateName(t.state)), el('td', {}, time(t.deadline)), actions);
  }), '队列为空');
}

// ---- grid worker ------------------------------------------------------------------------------------------------

async function loadCategories() {
  let services = FALLBACK_CATEGORIES;
  try {
    const list = await api('GET', 'intake/open311/v2/services.json');
    if (Array.isArray(list) && list.length) services = list;
  } catch (exc) {
    showError(`事项目录读取失败，使用内置列表：${exc.message}`, exc.details);
  }
  $('#report-category').replaceChildren(...services.map((s) => el('option', { value: s.service_code },
    `${s.service_code} ${s.description || s.service_name}`)));
}

async function report(event) {
  event.preventDefault();
  const body = {
    category_code: $('#report-category').value,
    description: $('#report-description').value.trim(),
    lon: Number($('#report-lon').value),
    lat: Number($('#report-lat').value),
  };
  const result = await act(() => api('POST', 'intake/v1/reports/patrol', body));
  if (result) {
    $('#report-result').textContent = `已上报，编号 ${result.report_id}`;
    $('#report-result').dataset.reportId = result.report_id;
    notice('上报成功');
    $('#report-description').value = '';
  }
}

async function loadVerify() {
  const page = await api('GET', 'dispatch/v1/tickets?state=handled&limit=100');
  const items = page.items.map((t) => {
    const note = el('input', { placeholder: '核查说明', 'aria-label': '核查说明', name: 'note' });
    const noteValue = () => note.value.trim() || null;
    return el('li', { 'data-id': t.id },
      el('div', {}, `工单 ${short(t.id)} · ${t.category_code} · ${t.description}`), note,
      button('核查通过', () => transition(t.id, 'verify', { passed: true, note: noteValue() }), 'verify-pass'), ' ',
      button('核查不通过', () => transition(t.id, 'verify', { passed: false, note: noteValue() }), 'verify-fail'));
  });
  $('#verify-list').replaceChildren(...(items.length ? items : [el('li', { className: 'empty' }, '暂无待核查工单')]));
}

// ---- live feed --------------------------------------------------------------------------------------------------

// The feed is read with fetch() rather than EventSource, which cannot send an Authorization header and would put
// the token in the URL (and so in access logs and history). This parses the server-sent-events wire format.
class EventStreamParser {
  constructor(onEvent) { this.onEvent = onEvent; this.buffer = ''; this.reset(); }

  reset() { this.event = ''; this.data = []; }

  // Takes decoded text as it arrives (a line may be split across chunks); dispatches on each blank line.
  push(text) {
    this.buffer += text;
    // A trailing '\r' may be the first half of '\r\n': that line ends with the next chunk.
    const held = this.buffer.endsWith('\r') ? 1 : 0;
    const lines = this.buffer.slice(0, this.buffer.length - held).split(/\r\n|\r|\n/);
    this.buffer = lines.pop() + (held ? '\r' : ''); // the unfinished last line waits for the rest
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === '') {
      if (this.data.length) this.onEvent(this.event || 'message', this.data.join('\n'));
      this.reset();
      return;
    }
    if (line.startsWith(':')) return; // a comment: the server's keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

const FEED_HANDLERS = {
  ready: (data) => { $('#feed-status').textContent = `已连接，监视 ${data.watching} 张工单`; },
  ticket: (data) => { addFeedItem(data); scheduleRefresh(); },
  problem: (data) => { $('#feed-status').textContent = `动态暂不可用：${data.message}`; },
};

function onFeedEvent(name, text) {
  const handler = FEED_HANDLERS[name];
  if (!handler) return;
  let data;
  try { data = JSON.parse(text); } catch { return; }
  handler(data);
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

// Reads the stream until it ends or the page stops it, reconnecting with backoff (1 s doubling to 30 s, jittered)
// as EventSource would. A refused token (401/403) ends it: signing in again is the only cure.
async function runFeed(signal) {
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      const resp = await fetch('/api/events', {
        headers: { Authorization: `Bearer ${session.token}`, Accept: 'text/event-stream' }, cache: 'no-store', signal,
      });
      if (resp.status === 401 || resp.status === 403) {
        $('#feed-status').textContent = `动态不可用：登录已失效，请重新登录（HTTP ${resp.status}）`;
        return;
      }
      if (!resp.ok || !resp.body) throw new Error(`HTTP ${resp.status}`);
      const parser = new EventStreamParser((name, text) => { backoff = 1000; onFeedEvent(name, text); });
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch {
      // a network error or the stream cut: reconnect below, unless the page stopped the feed
    }
    if (signal.aborted) return;
    $('#feed-status').textContent = '连接中断，正在重连…';
    await sleep(backoff * (0.75 + Math.random() / 2), signal);
    backoff = Math.min(backoff * 2, 30000);
  }
}

function startFeed() {
  stopFeed();
  feed = new AbortController();
  runFeed(feed.signal);
}

function stopFeed() {
  if (feed) feed.abort();
  feed = null;
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { act(refresh); }, 300);
}

// ---- start ------------------------------------------------------------------------------------------------------

async function refresh() {
  const role = session.role;
  const jobs = [];
  if (role === 'command_centre' || role === 'admin') jobs.push(loadMap(), loadCentre());
  if (role === 'dept_dispatcher') jobs.push(loadQueue());
  if (role === 'grid_worker') jobs.push(loadMap(), loadVerify());
  await Promise.all(jobs);
}

async function start() {
  const role = session.role;
  $('#login-panel').hidden = true;
  $('#whoami').hidden = false;
  $('#whoami-text').textContent = `${ROLE_NAMES[role] || role} ${session.sub}`
    + (session.department ? ` · 部门 ${session.department}` : '') + (session.grid ? ` · 网格 ${session.grid}` : '');
  $('#map-panel').hidden = !['command_centre', 'admin', 'grid_worker'].includes(role);
  $('#centre-panel').hidden = !['command_centre', 'admin'].includes(role);
  $('#dispatcher-panel').hidden = role !== 'dept_dispatcher';
  $('#worker-panel').hidden = role !== 'grid_worker';
  document.body.dataset.role = role;
  if (role === 'grid_worker') await loadCategories();
  await act(refresh);
  startFeed();
  document.body.dataset.ready = 'true';
}

$('#login-role').addEventListener('change', syncLoginFields);
$('#login-form').addEventListener('submit', login);
$('#logout').addEventListener('click', logout);
$('#error-close').addEventListener('click', clearError);
$('#report-form').addEventListener('submit', report);
$('#report-lon').addEventListener('change', placeMarker);
$('#report-lat').addEventListener('change', placeMarker);
$('#map-level').addEventListener('change', () => act(loadMap));
$('#map-refresh').addEventListener('click', () => act(refresh));
syncLoginFields();

// For a test that needs a deliberately stale page (a colleague acts while this page still shows the old state).
window.gridgovConsole = { stopFeed, refresh: () => act(refresh) };

// Whether this console offers the DEV login; where it is off, the page points to the city's SSO instead.
async function showLoginOptions() {
  let options;
  try { options = await api('GET', 'login'); } catch { return; } // the form stays; signing in will say why
  if (options && options.dev_login === false) {
    $('#login-form').hidden = true;
    $('#login-dev-hint').hidden = true;
    $('#login-sso').hidden = false;
  }
}

const saved = sessionStorage.getItem(SESSION_KEY);
if (saved) {
  session = JSON.parse(saved);
  start();
} else {
  showLoginOptions();
}
