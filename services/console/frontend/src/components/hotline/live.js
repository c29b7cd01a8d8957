// A request that follows what the operator types (分类建议, 地址定位, 知识库, 重复来电): it starts `delay` ms after the
// last keystroke, the one before it is cancelled, and an answer that comes back after a newer request started is
// dropped, so a slow answer never overwrites a newer one. A service that is down (or not deployed yet) makes its
// section say 暂不可用; the form itself never depends on it.
import { onBeforeUnmount, reactive, watch } from 'vue';
import { ApiError } from '../../api.js';

/** Whether an error means "this helper is not there now" (network, missing route, 5xx, refused role). */
export function unavailable(exc) {
  return !(exc instanceof ApiError) || exc.status === 0 || exc.status === 403 || exc.status === 404
    || exc.status === 405 || exc.status >= 500;
}

/**
 * Follows `source` (a getter; `null` means nothing to ask) and calls `fetcher(input, signal)` after `delay` ms of
 * quiet. Answers `{status, data, error, input}`: status is idle | loading | ok | unavailable | refused.
 */
export function useLive(source, fetcher, { delay = 300 } = {}) {
  const state = reactive({ status: 'idle', data: null, error: '', input: null });
  let timer = null;
  let controller = null;
  let seq = 0;

  function cancel() {
    clearTimeout(timer);
    timer = null;
    if (controller) controller.abort();
    controller = null;
  }

  function run(input) {
    cancel();
    const mine = ++seq;
    if (input === null || input === undefined) {
      Object.assign(state, { status: 'idle', data: null, error: '', input: null });
      return;
    }
    // the previous answer stays on screen (dimmed) until the new one arrives: no flicker on every keystroke
    state.status = 'loading';
    timer = setTimeout(async () => {
      controller = new AbortController();
      try {
        const data = await fetcher(input, controller.signal);
        if (mine !== seq) return;
        Object.assign(state, { status: 'ok', data, error: '', input });
      } catch (exc) {
        if (mine !== seq || exc?.name === 'AbortError') return;
        const down = unavailable(exc);
        Object.assign(state, {
          status: down ? 'unavailable' : 'refused', data: null, input,
          error: down ? '' : exc.text,
        });
      }
    }, delay);
  }

  // sources are compared as JSON, so a getter that builds a new object with the same content asks nothing new
  watch(() => JSON.stringify(source() ?? null), (key) => run(JSON.parse(key)), { immediate: true });
  onBeforeUnmount(() => { seq += 1; cancel(); });
  return state;
}
