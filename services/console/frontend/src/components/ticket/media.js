// Photos of a ticket: the media service answers them only to a signed-in caller, so an <img src> (which carries
// no Authorization header) cannot load them. They are fetched with the token and shown as data: URLs (the page's
// CSP allows 'self' and data: images, not blob:). Uploads go to the same service as the raw body.
import { api } from '../../api.js';

const cache = new Map(); // media id → Promise of a data: URL (one fetch per photo per page life)

function dataUrlOf(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** A photo as a URL the page may show: a media id is fetched with the token; a same-origin path is used as is. */
export function photoUrl(idOrUrl) {
  if (idOrUrl.startsWith('/') || idOrUrl.startsWith('data:image/')) return Promise.resolve(idOrUrl);
  if (/^https?:\/\//.test(idOrUrl)) return Promise.reject(new Error('外部链接的照片无法在本页显示'));
  if (!cache.has(idOrUrl)) {
    const loading = api('GET', `intake/v1/media/${encodeURIComponent(idOrUrl)}`, undefined, { raw: true })
      .then((resp) => resp.blob()).then(dataUrlOf);
    loading.catch(() => cache.delete(idOrUrl)); // a failed photo is tried again on the next load
    cache.set(idOrUrl, loading);
  }
  return cache.get(idOrUrl);
}

/** Uploads one photo (the file as the raw body, its type as Content-Type); answers its media id. */
export async function uploadPhoto(file) {
  const answer = await api('POST', 'intake/v1/media', file);
  const url = await dataUrlOf(file);
  cache.set(answer.media_id, Promise.resolve(url));
  return answer.media_id;
}
