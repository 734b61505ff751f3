import type { Alert } from '../../modules/alerts/alerts.types.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Escaped text with its line breaks kept. */
function lines(s: string): string {
  return esc(s).replace(/\r?\n/g, '<br>');
}

function rows(list: readonly { label: string; value: string }[]): string {
  return list.map((l) => `<tr><th style="text-align:start;padding:2px 12px 2px 0;vertical-align:top">${esc(l.label)}</th><td style="padding:2px 0">${lines(l.value)}</td></tr>`).join('');
}

/**
 * The HTML part of an alert e-mail: the same words as its text part (alerts.render.ts decides
 * them), as a table; everything escaped, nothing loaded from elsewhere, links only to the console.
 */
export function alertHtml(a: Alert): string {
  const dir = a.language === 'ar' ? 'rtl' : 'ltr';
  const todo = a.todo.map((t) => {
    if (a.url !== null && t.includes(a.url)) {
      const [before, after] = [t.slice(0, t.indexOf(a.url)), t.slice(t.indexOf(a.url) + a.url.length)];
      return `<li>${esc(before)}<a href="${esc(a.url)}">${esc(a.url)}</a>${esc(after)}</li>`;
    }
    return `<li>${esc(t)}</li>`;
  }).join('');
  return [
    `<!doctype html><html lang="${esc(a.language)}" dir="${dir}"><head><meta charset="utf-8"><title>${esc(a.subject)}</title></head>`,
    '<body style="font-family:sans-serif">',
    `<p><strong>${esc(a.headline)}</strong></p>`,
    `<table>${rows(a.facts)}</table>`,
    a.content.length === 0 ? '' : `<table style="margin-top:12px">${rows(a.content)}</table>`,
    a.todo.length === 0 ? '' : `<ul>${todo}</ul>`,
    '</body></html>',
  ].join('\n');
}
