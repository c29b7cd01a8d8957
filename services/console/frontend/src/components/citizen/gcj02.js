// WGS84 → GCJ-02, the same published series as gridgov_common.geo (which converts back on the server).
// The browser's Geolocation API answers WGS84; the citizen channel takes GCJ-02, as phones' map SDKs and
// mini-programs in China report it, so the page sends what every other citizen client sends.
const A = 6378245.0;
const EE = 0.00669342162296594323;
const CHINA = [72.004, 0.8293, 137.8347, 55.8271]; // west, south, east, north

function offset(lon, lat) {
  const x = lon - 105.0;
  const y = lat - 35.0;
  const sqrtAbsX = Math.sqrt(Math.abs(x));
  const shared = ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrtAbsX + shared
    + ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0
    + ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320.0 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrtAbsX + shared
    + ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0
    + ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  const radLat = (lat / 180.0) * Math.PI;
  const magic = 1.0 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1.0 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [dLon, dLat];
}

/** [lon, lat] in GCJ-02 of a WGS84 point (unchanged outside China). */
export function wgs84ToGcj02(lon, lat) {
  if (lon < CHINA[0] || lon > CHINA[2] || lat < CHINA[1] || lat > CHINA[3]) return [lon, lat];
  const [dLon, dLat] = offset(lon, lat);
  return [lon + dLon, lat + dLat];
}
