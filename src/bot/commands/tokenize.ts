/**
 * Splits command text into words on whitespace, keeping double-quoted stretches together:
 * `reject 12 "AUC too low"` is three words and `note="two words"` one. Quotes are removed;
 * a word that had any is marked `quoted`, so the grammar can take it literally.
 */

export type Word = { text: string; quoted: boolean };

export type Tokens = { ok: true; words: Word[] } | { ok: false; error: string };

export function tokenize(text: string): Tokens {
  const words: Word[] = [];
  let current: Word | undefined;
  let inQuote = false;
  for (const char of text) {
    if (char === '"') {
      inQuote = !inQuote;
      current ??= { text: '', quoted: true };
      current.quoted = true;
    } else if (!inQuote && /\s/.test(char)) {
      if (current) words.push(current);
      current = undefined;
    } else {
      current ??= { text: '', quoted: false };
      current.text += char;
    }
  }
  if (inQuote) return { ok: false, error: 'a `"` is not closed — close the quote or remove it' };
  if (current) words.push(current);
  return { ok: true, words };
}
