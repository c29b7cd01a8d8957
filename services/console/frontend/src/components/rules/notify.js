// 通知渠道: how notification reaches a department or a role outside the console — an SMS to the duty phone, an
// e-mail, a webhook to the department's own system — and what became of each message sent that way (投递记录).
// Contact points are the administrator's to keep; the deliveries are the command centre's to watch.
import { api } from '../../api.js';
import { ROLE_NAMES, departmentName } from '../../names.js';

export const CONTACTS_PATH = 'notification/v1/contacts';
export const DELIVERIES_PATH = 'notification/v1/deliveries';
export const CONTACT_CHANNELS = { sms: '短信', email: '邮件', webhook: 'Webhook' };
/** Every channel a delivery may take: the contact points' and the console's own inbox. */
export const DELIVERY_CHANNELS = { ...CONTACT_CHANNELS, inbox: '控制台消息' };
// What a ticket event tells its recipient, for a delivery without a subject of its own (an SMS has none).
const EVENT_NAMES = {
  registered: '新案件待分拨', dispatched: '新工单待签收', handled: '工单待核查', closed: '工单已办结', returned: '退单待裁定',
  return_ruled: '退单已裁定', extension_requested: '延期待审批', extension_approved: '延期已批准',
  extension_refused: '延期未批准', supervised: '工单督办', reopened: '工单返工', warned: '时限预警', escalated: '超期升级',
};

/** A delivery's notice in words: its subject, else what its event tells. */
export const noticeText = (d) => d.subject || EVENT_NAMES[String(d.event_type).replace(/^ticket\./, '')]
  || d.event_type;
export const DELIVERY_STATES = { pending: '待发送', sent: '已发送', failed: '重试中', dead: '已放弃' };
export const STATE_TAGS = { pending: 'info', sent: 'success', failed: 'warning', dead: 'danger' };
/** The roles a message can be addressed to as a whole. */
export const ADDRESS_ROLES = ['command_centre', 'admin'];
export const TARGET_HINTS = {
  sms: '手机号，如 13800138000', email: '邮箱，如 duty@water.dg.gov.cn', webhook: 'https:// 开头的接收地址',
};
export const SECRET_MIN = 16;

/** An address ("department:water", "role:command_centre", "grid:…", "user:…") by its Chinese name. */
export function addressName(address) {
  const [kind, value] = String(address).split(':');
  if (kind === 'department') return departmentName(value);
  if (kind === 'role') return ROLE_NAMES[value] || value;
  if (kind === 'grid') return `网格 ${value}`;
  if (kind === 'user') return `用户 ${value}`;
  return address;
}

/** Why a target cannot reach anyone on `channel` ('' when it can): the service's own checks, said first here. */
export function targetProblem(channel, target) {
  const t = target.trim();
  if (!t) return '请填写联系方式';
  if (channel === 'sms' && !/^\+?[0-9]{6,20}$/.test(t)) return '手机号只能是数字（可带 +）';
  if (channel === 'email' && !/^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$/.test(t)) return '不是有效的邮箱地址';
  if (channel === 'webhook' && !/^https?:\/\/[^\s/]+/.test(t)) return '须为 http:// 或 https:// 开头的地址';
  return '';
}

export const loadContacts = () => api('GET', CONTACTS_PATH);
export const addContact = (body) => api('POST', CONTACTS_PATH, body);
export const removeContact = (id) => api('DELETE', `${CONTACTS_PATH}/${encodeURIComponent(id)}`);
export const loadDeliveries = (status = '') => api('GET', `${DELIVERIES_PATH}?limit=100${status ? `&status=${status}` : ''}`);
