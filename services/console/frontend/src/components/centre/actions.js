// What the command centre's queues share: a Chinese confirmation before an irreversible action, the error text
// shown next to the control, and the action call itself.
import { ElMessage, ElMessageBox } from 'element-plus';
import { ApiError, api } from '../../api.js';

/** Asks "确定…？" in a message box; answers true when confirmed, false when cancelled. */
export async function confirmZh(message, title, confirmText = '确定') {
  try {
    await ElMessageBox.confirm(message, title, {
      confirmButtonText: confirmText, cancelButtonText: '取消', type: 'warning', closeOnClickModal: false,
    });
    return true;
  } catch {
    return false;
  }
}

/** The text of an error for the line next to a control: the service's message, then each field's reason. */
export function errorText(exc) {
  if (exc instanceof ApiError) return exc.text;
  return `操作失败：${exc?.message || exc}`;
}

/** A refused save's reasons into a form's `errors` (field → reason): each beside the field the form has (a list's
 *  item beside the list), the rest and the message in `general`. */
export function refusalInto(exc, errors) {
  if (!(exc instanceof ApiError)) {
    errors.general = `保存失败：${exc.message || exc}`;
    return;
  }
  errors.general = exc.message;
  for (const d of exc.details) {
    // `body.keywords.3` is the keywords field's reason: beside the field, whichever item it names
    const field = String(d.field || '').replace(/^body\./, '').replace(/\.\d+$/, '');
    if (field in errors && field !== 'general') errors[field] = d.reason;
    else errors.general += `；${d.reason}`;
  }
}

/** Takes `action` on a ticket (POST /v1/tickets/{id}/{action}) and shows `done` as a success message. */
export async function act(ticketId, action, body, done) {
  const result = await api('POST', `dispatch/v1/tickets/${ticketId}/${action}`, body);
  if (done) ElMessage.success(done);
  return result;
}
