// Where the phone is: one fresh high-accuracy fix (the DeviceFix the server judges a report or a verification by),
// and whether a point lies in the worker's grid (ray casting on the grid's GeoJSON polygon, to warn before sending;
// the server decides).

const GEO_ERRORS = {
  1: '未允许定位：请在浏览器或系统设置中允许本页面使用位置信息',
  2: '无法获取位置（无卫星或网络信号），请到开阔处重试',
  3: '定位超时，请到开阔处重试',
};

/** One fresh fix: {lat, lon, accuracy_m, fixed_at, mocked: null} (the web cannot tell a mocked location). */
export function currentFix({ timeout = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error('此浏览器不支持定位'));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({
        lat: pos.coords.latitude,
        lon: pos.coords.longitude,
        // a fix must carry an accuracy above zero: a browser answering 0 claims more than any phone knows
        accuracy_m: Math.max(pos.coords.accuracy || 0, 1),
        fixed_at: new Date(pos.timestamp || Date.now()).toISOString(),
        mocked: null,
      }),
      (err) => reject(new Error(GEO_ERRORS[err.code] || err.message || '定位失败')),
      { enableHighAccuracy: true, timeout, maximumAge: 0 },
    );
  });
}

/** How old a fix is now, in seconds. */
export const fixAge = (fix, now = Date.now()) => (fix ? Math.max(0, (now - new Date(fix.fixed_at).getTime()) / 1000) : Infinity);

function inRing(ring, lon, lat) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(rings, lon, lat) {
  return rings.length > 0 && inRing(rings[0], lon, lat) && !rings.slice(1).some((hole) => inRing(hole, lon, lat));
}

/** Whether (lon, lat) lies in a GeoJSON Feature's Polygon or MultiPolygon (null when there is no geometry). */
export function contains(feature, lon, lat) {
  const g = feature?.geometry;
  if (!g) return null;
  if (g.type === 'Polygon') return inPolygon(g.coordinates, lon, lat);
  if (g.type === 'MultiPolygon') return g.coordinates.some((p) => inPolygon(p, lon, lat));
  return null;
}

/** Accuracy as the worker reads it: "±8 米". */
export const accuracyText = (fix) => (fix ? `±${Math.round(fix.accuracy_m)} 米` : '');
