// Chinese names for the codes the services answer with, and the city's reference data (catalog items,
// departments, towns and villages) by code, read once per session and shared by every page.
import { reactive } from 'vue';
import { api, session } from './api.js';

export const STATE_NAMES = {
  registered: '已立案', dispatched: '已派遣', claimed: '已签收', handled: '已处置', verified: '已核查',
  closed: '已结案', returned: '已退单', extension_requested: '延期申请中', suspended: '已挂起',
};
export const ACTION_NAMES = {
  register: '立案', dispatch: '派遣', claim: '签收', handle: '处置反馈', verify: '核查通过', rework: '核查不通过（返工）',
  close: '结案', return: '退单', rule_return: '退单裁定', request_extension: '申请延期', approve_extension: '批准延期',
  refuse_extension: '驳回延期', suspend: '挂起', resume: '恢复', supervise: '督办', reopen: '重新打开', warn: '预警',
  escalate: '超期升级', merge: '并案', split: '拆案', sensor_evidence: '感知证据',
};
export const SLA_NAMES = { green: '正常', yellow: '预警', red: '超期' };
export const STAGE_NAMES = { claim: '签收', handle: '处置', verify: '核查' };
export const ESCALATION_NAMES = ['未升级', '村（社区）级', '镇街级', '市级'];
export const ROLE_NAMES = {
  command_centre: '指挥中心', dept_dispatcher: '部门调度员', grid_worker: '网格员', admin: '管理员', citizen: '市民',
  system: '系统', device: '感知设备', device_gateway: '设备网关',
};
export const CHANNEL_NAMES = {
  patrol: '网格巡查', hotline: '12345热线', citizen: '市民随手拍', open311: 'Open311', video_ai: '视频AI', iot: '物联感知',
};
export const PRIORITY_NAMES = { normal: '一般', urgent: '紧急' };
/** The channels a report comes by, in the order the pages list them. */
export const CHANNELS = Object.keys(CHANNEL_NAMES);
export const LOCATION_NAMES = { located: '已定位', village_only: '定位到村', town_only: '仅定位到镇街', unlocated: '未定位' };

/** Reference data by code: catalog items, departments and areas (towns, villages), with loading flags. */
export const ref = reactive({ categories: {}, departments: {}, areas: {}, loaded: false, loading: null });

/** The catalog's classes (大类), each with its middle items (中类), in code order: a category filter's options. */
export function categoryGroups() {
  const items = Object.values(ref.categories);
  return items.filter((c) => c.level === 'major').sort((a, b) => a.code.localeCompare(b.code)).map((major) => ({
    major,
    items: items.filter((c) => c.level === 'middle' && c.parent_code === major.code)
      .sort((a, b) => a.code.localeCompare(b.code)),
  }));
}

/** Loads the catalog, the departments and the towns and villages once; pages await it before naming codes. */
export function loadReference() {
  if (ref.loaded) return Promise.resolve(ref);
  if (ref.loading) return ref.loading;
  ref.loading = (async () => {
    // Each list is optional: a service that is down leaves its codes shown as codes, not a broken page.
    // A grid worker's phone names its own village and town from its grid's answer (loadGrid), not every town and
    // village of the city (issue #14: 24 KB and two requests on the first screen); another area asked for by name
    // reads them all then (areaName).
    const grid = session.user?.role === 'grid_worker' ? session.user.grid : null;
    const [catalog, departments] = await Promise.allSettled([
      api('GET', 'dispatch/v1/catalog'),
      api('GET', 'dispatch/v1/departments'),
      grid ? loadGrid(grid) : loadAreas(),
    ]);
    if (catalog.status === 'fulfilled') {
      for (const item of catalog.value.items) ref.categories[item.code] = item;
    }
    if (departments.status === 'fulfilled') {
      for (const d of departments.value) ref.departments[d.code] = d;
    }
    ref.loaded = true;
    ref.loading = null;
    return ref;
  })();
  return ref.loading;
}

/** The towns, villages… read so far (`loadAreas`) at the levels given, by code. */
export const areasAt = (...levels) => Object.values(ref.areas).filter((a) => levels.includes(a.level))
  .sort((a, b) => a.code.localeCompare(b.code));

let areas = null;

/** Reads every town's and village's name once (each layer optional: a failed one leaves codes shown as codes). */
export function loadAreas() {
  if (!areas) {
    areas = Promise.allSettled([
      api('GET', 'registry/v1/grids?level=town&zoom=8'),
      api('GET', 'registry/v1/grids?level=village&zoom=8'),
    ]).then((layers) => {
      for (const layer of layers) {
        if (layer.status !== 'fulfilled') continue;
        for (const f of layer.value.features) ref.areas[f.properties.code] = f.properties;
      }
    });
  }
  return areas;
}

// The signed-in grid worker's grid, read once: the frame names it and the field page draws it.
const grids = new Map();

/** The grid's feature from grid-registry, one request per code per session (a failed one is asked again); the
 * village and town above it (`properties.parents`, nearest first) are named from it. */
export function loadGrid(code) {
  if (!grids.has(code)) {
    grids.set(code, api('GET', `registry/v1/grids/${encodeURIComponent(code)}`).then((feature) => {
      const above = feature.properties?.parents || [];
      above.forEach((p, i) => {
        ref.areas[p.code] ??= { code: p.code, name: p.name, level: p.level, parent: above[i + 1]?.code ?? null };
      });
      return feature;
    }, (exc) => {
      grids.delete(code);
      throw exc;
    }));
  }
  return grids.get(code);
}

/** Forgets the reference data (a new user may see other departments). */
export function resetReference() {
  Object.assign(ref, { categories: {}, departments: {}, areas: {}, loaded: false, loading: null });
  grids.clear();
  areas = null;
}

/** The category's Chinese name (with its code when unknown). */
export const categoryName = (code) => (code ? ref.categories[code]?.name_zh || code : '—');
/** The department's Chinese name (with its code when unknown). */
export const departmentName = (code) => (code ? ref.departments[code]?.name_zh || code : '未派遣');
/** A town's or village's name (with its code when unknown; a town or village not read yet starts the reading of
 * all of them once the session's reference data is in, and is named when they arrive). */
export function areaName(code) {
  if (!code) return '—';
  const known = ref.areas[code];
  if (!known && ref.loaded && !areas && /^\d{9}(\d{3})?$/.test(code)) loadAreas();
  return known?.name || code;
}
/** A state's Chinese name. */
export const stateName = (s) => STATE_NAMES[s] || s;
/** An action's Chinese name. */
export const actionName = (a) => ACTION_NAMES[a] || a;
/** The city's time zone. Every time the console shows or names is the city's, whatever the browser's zone: a
 *  laptop set to another zone, or a test machine's UTC, must not shift a deadline by eight hours. China keeps no
 *  daylight saving time, so the city's clock is also UTC+8, which the date arithmetic below relies on. */
export const CITY_ZONE = 'Asia/Shanghai';
const CITY_OFFSET_MS = 8 * 3600 * 1000;
/** The city's wall clock at a moment, as a Date whose UTC fields read it (`getUTCHours()` is the city's hour). */
export const cityClock = (t = Date.now()) => new Date(new Date(t).getTime() + CITY_OFFSET_MS);
/** The city's calendar day of a moment, e.g. "2026-12-06". */
export const cityDay = (t = Date.now()) => cityClock(t).toISOString().slice(0, 10);
/** Two digits, as clocks write them. */
export const pad2 = (n) => String(n).padStart(2, '0');
/** A time as the city reads it (24-hour, Beijing order, the city's zone). */
export const timeText = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false, timeZone: CITY_ZONE })
  : '—');
/** The last eight characters of an id, as the desks quote it: random in every id, where a time-ordered id
 *  (UUIDv7, the demo history's) begins with its time, the same for the cases of one minute. */
export const shortId = (id) => (id ? id.slice(-8) : '');

/** A span of whole minutes as text: "3天2小时", "1小时05分", "12分". */
export function minutesText(minutes) {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days) return `${days}天${hours}小时`;
  if (hours) return `${hours}小时${pad2(mins)}分`;
  return `${mins}分`;
}

/** Time left until `deadline` as text (负数为已超期), e.g. "剩 2小时05分" or "超期 35分". */
export function countdown(deadline, now = Date.now()) {
  if (!deadline) return '—';
  const ms = new Date(deadline).getTime() - now;
  const text = minutesText(Math.floor(Math.abs(ms) / 60000));
  return ms < 0 ? `超期 ${text}` : `剩 ${text}`;
}
