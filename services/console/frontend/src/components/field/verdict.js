// The server's geofence verdict on a check, and the fields its refusals name, in the worker's words.

const VERDICTS = {
  inside: '在网格内',
  boundary: '在网格边界附近（已通过，标记供指挥中心复核）',
  outside: '不在网格内',
  unverifiable: '无法判定（缺少可信的定位或照片位置）',
};

const FIELDS = {
  fix: '定位', 'fix.accuracy_m': '定位精度', 'fix.fixed_at': '定位时间', 'fix.mocked': '模拟定位', 'fix.lat': '纬度',
  'fix.lon': '经度', photos: '照片', note: '说明', lon: '经度', lat: '纬度', media_ids: '照片',
};

/** A verdict's name (inside → 在网格内). */
export const verdictName = (v) => VERDICTS[v] || v || '—';

/** One refusal reason as "定位精度：…" (the field named in Chinese, `body.` dropped). */
export function reasonText(detail) {
  const field = String(detail.field || '').replace(/^body\./, '');
  const name = FIELDS[field] || field;
  return name ? `${name}：${detail.reason}` : detail.reason;
}
