// 知识库: the answers 12345 seats give on the call (直接答复) — each a question as callers ask it, the answer, the
// department it comes from, the days it holds and its source. The command centre keeps them: adds one when a policy
// is announced, corrects one, withdraws one. A change names the version it was read at, so two seats editing one
// article cannot overwrite each other (409: reload it).
import { api } from '../../api.js';
import { cityDay } from '../../names.js';

export const ARTICLES_PATH = 'intake/v1/knowledge/articles';
export const PAGE = 50;
export const QUESTION_MAX = 500;
export const ANSWER_MAX = 2000;
export const SOURCE_MAX = 200;
export const KEYWORDS_MAX = 20;
export const QUERY_MAX = 200;

/** A page of articles, newest change first (of a department, with a piece of text, when given): {items, total}. */
export const loadArticles = (offset = 0, department = '', text = '') => {
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (department) query.set('department', department);
  if (text.trim()) query.set('q', text.trim().slice(0, QUERY_MAX));
  return api('GET', `${ARTICLES_PATH}?${query}`);
};

/** Where an article stands today in the city: 'valid', 'expired' or 'pending' (not yet in force). */
export function validity(article, today = cityDay()) {
  if (article.valid_today) return 'valid';
  return article.valid_from > today ? 'pending' : 'expired';
}
export const VALIDITY_NAMES = { valid: '有效', pending: '未生效', expired: '已过期' };

/** "2026-12-01 起" / "2026-12-01 至 2027-06-30". */
export const periodText = (a) => (a.valid_to ? `${a.valid_from} 至 ${a.valid_to}` : `${a.valid_from} 起`);

/** Keywords typed as one line ("社保，医保 养老") → the list the service takes (trimmed, distinct, no blanks). */
export const keywordsOf = (text) => [...new Set(String(text || '').split(/[,，、;；\s]+/).map((k) => k.trim())
  .filter(Boolean))];

/** The body the service takes for an article from the form's fields ('' dates and department left out). */
export function articleBody(form) {
  const body = { question: form.question.trim(), answer: form.answer.trim(), source: form.source.trim(),
    keywords: keywordsOf(form.keywords) };
  if (form.department) body.department = form.department;
  if (form.validFrom) body.valid_from = form.validFrom;
  if (form.validTo) body.valid_to = form.validTo;
  return body;
}

/** Add an article (201) or replace one at the version read (409 when someone changed it since). */
export const saveArticle = (article, body) => (article
  ? api('PUT', `${ARTICLES_PATH}/${encodeURIComponent(article.id)}`, { ...body, version: article.version })
  : api('POST', ARTICLES_PATH, body));

/** Withdraw an article at the version read. */
export const deleteArticle = (article) => api('DELETE', `${ARTICLES_PATH}/${encodeURIComponent(article.id)}`,
  undefined, { headers: { 'If-Match': `"${article.version}"` } });
