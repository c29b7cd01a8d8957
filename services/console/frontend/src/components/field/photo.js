// A phone photo made small enough to send over a weak signal (longest side ~1600 px, JPEG) WITHOUT losing what the
// server judges a photo by: its EXIF APP1 segment (GPS position and time taken). A canvas re-encode drops every
// EXIF tag, and a photo with no EXIF can never be judged "inside" the grid, so the original's APP1 segment is cut
// out byte for byte and put back right after the resized JPEG's SOI marker. Its Orientation tag is set to 1 there:
// the canvas already drew the picture upright, and a viewer applying the original orientation again would turn it.

const MAX_SIDE = 1600;
const QUALITY = 0.85;
// Below these a photo is sent as taken: resizing it would only lose detail.
const KEEP_BYTES = 1.5 * 1024 * 1024;

/** The EXIF APP1 segment of a JPEG (marker, length and data, as bytes), or null when it has none. */
export function exifSegment(bytes) {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image: no more headers
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2 || at + 2 + length > bytes.length) break;
    if (marker === 0xe1 && length >= 8 && String.fromCharCode(...bytes.subarray(at + 4, at + 10)) === 'Exif\0\0') {
      return bytes.slice(at, at + 2 + length);
    }
    at += 2 + length;
  }
  return null;
}

// IFD0 of the segment's TIFF block: its byte order, its offset and a reader (null when the block is malformed).
function ifd0(segment) {
  const tiff = 10; // FF E1, 2 length bytes, "Exif\0\0"
  const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
  if (segment.length < tiff + 8) return null;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return null;
  const little = order === 0x4949;
  const first = view.getUint32(tiff + 4, little);
  const at = tiff + first;
  if (at + 2 > segment.length) return null;
  const count = view.getUint16(at, little);
  if (at + 2 + count * 12 > segment.length) return null;
  return { view, little, at, count, tiff };
}

/** Tags of IFD0 the app reads: whether a GPS block is there (the server judges its position) and the orientation. */
export function exifFacts(segment) {
  const facts = { hasGps: false, orientation: 1 };
  const ifd = segment && ifd0(segment);
  if (!ifd) return facts;
  for (let i = 0; i < ifd.count; i += 1) {
    const entry = ifd.at + 2 + i * 12;
    const tag = ifd.view.getUint16(entry, ifd.little);
    if (tag === 0x8825) facts.hasGps = true;
    if (tag === 0x0112) facts.orientation = ifd.view.getUint16(entry + 8, ifd.little);
  }
  return facts;
}

/** A copy of the segment with its Orientation tag set to 1 (upright): the resized picture is drawn upright. */
export function uprightSegment(segment) {
  const copy = segment.slice();
  const ifd = ifd0(copy);
  if (!ifd) return copy;
  for (let i = 0; i < ifd.count; i += 1) {
    const entry = ifd.at + 2 + i * 12;
    if (ifd.view.getUint16(entry, ifd.little) === 0x0112) ifd.view.setUint16(entry + 8, 1, ifd.little);
  }
  return copy;
}

/** The resized JPEG with the original's APP1 put back after its SOI (bytes in, bytes out). */
export function withExif(resized, segment) {
  if (!segment) return resized;
  const out = new Uint8Array(resized.length + segment.length);
  out.set(resized.subarray(0, 2), 0);
  out.set(segment, 2);
  out.set(resized.subarray(2), 2 + segment.length);
  return out;
}

async function encode(file, scale) {
  // Chrome and Safari draw the bitmap upright from the EXIF orientation (imageOrientation 'from-image').
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const k = Math.min(1, scale / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * k);
  canvas.height = Math.round(bitmap.height * k);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close?.();
  const blob = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/jpeg', QUALITY); });
  if (!blob) throw new Error('照片压缩失败');
  return { bytes: new Uint8Array(await blob.arrayBuffer()), width: canvas.width, height: canvas.height };
}

/**
 * Prepares a photo the worker took or picked: answers {blob, hasExif, hasGps, width, height, bytes}; a photo small
 * enough is kept as it is, a larger one is resized to ~1600 px with its EXIF kept. Throws with a Chinese message.
 */
export async function preparePhoto(file) {
  if (!file.type.startsWith('image/')) throw new Error('请选择图片文件（JPEG、PNG 或 WebP）');
  const original = new Uint8Array(await file.arrayBuffer());
  const segment = exifSegment(original);
  const facts = exifFacts(segment);
  let bitmapSize = null;
  try {
    const probe = await createImageBitmap(file);
    bitmapSize = [probe.width, probe.height];
    probe.close?.();
  } catch {
    throw new Error('无法读取这张照片，请重新拍摄');
  }
  const small = Math.max(...bitmapSize) <= MAX_SIDE && original.length <= KEEP_BYTES;
  if (small && /^image\/(jpeg|png|webp)$/.test(file.type)) {
    return { blob: new Blob([original], { type: file.type }), hasExif: Boolean(segment), hasGps: facts.hasGps,
      width: bitmapSize[0], height: bitmapSize[1], bytes: original.length, resized: false };
  }
  const { bytes, width, height } = await encode(file, MAX_SIDE);
  const out = withExif(bytes, segment && uprightSegment(segment));
  return { blob: new Blob([out], { type: 'image/jpeg' }), hasExif: Boolean(segment), hasGps: facts.hasGps,
    width, height, bytes: out.length, resized: true };
}

/** A data: URL of a blob, for a preview (the page's CSP allows data: images, not blob:). */
export function previewUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
