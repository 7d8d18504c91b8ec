/**
 * HTML for Steward's own pages (run and model pages): a tagged template that escapes every
 * value it is given, so a pipeline name, a reason or a spec from anyone is text, never
 * markup. Only what `html` or `raw` built is inserted as it is.
 */

/** Markup that is inserted unescaped: made by `html`, or by `raw` from a constant. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export const raw = (text: string): Html => new Html(text);

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** `html\`<td>${name}</td>\``: strings and numbers are escaped, nested `html` is kept, arrays joined, nullish and false dropped. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** A table with a header row; cells are values as `html` takes them. Nothing when there are no rows. */
export function table(
  head: readonly string[],
  rows: readonly (readonly Value[])[],
  className?: string,
): Html {
  if (rows.length === 0) return html``;
  return html`<table${className ? html` class="${className}"` : ''}><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows.map(
    (cells) => html`<tr>${cells.map((c) => html`<td>${c}</td>`)}</tr>`,
  )}</tbody></table>`;
}

/** A titled section; `id` lets other pages and tests find it. */
export function section(id: string, title: string, body: Value): Html {
  return html`<section id="${id}" aria-labelledby="${id}-title"><h2 id="${id}-title">${title}</h2>${body}</section>`;
}

/** A whole page: Steward's stylesheet, a way back to the console, no script. */
export function page({ title, heading, body }: { title: string; heading: Value; body: Value }): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Steward</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/console/pages.css"></head>
<body><header class="top"><a href="/">← Steward</a></header>
<main><h1>${heading}</h1>
${body}</main></body></html>`.text;
}

/** An error as a page: what went wrong and what to do, for a person who followed a link. */
export function problemPage(message: string): string {
  return page({
    title: 'Not shown',
    heading: 'This page cannot be shown',
    body: html`<p class="problem">${message}</p>`,
  });
}

/** An ISO time as `<time>`: `2026-01-02 14:03:05 UTC`; empty for none. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return html``;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return html`${iso}`;
  const at = new Date(ms).toISOString();
  return html`<time datetime="${at}">${at.slice(0, 19).replace('T', ' ')} UTC</time>`;
}
