/** User text as an FTS5 query that cannot carry FTS5 syntax. */

/**
 * `text` as one FTS5 phrase: the words, in order, next to each other. The text goes inside a
 * double-quoted string with its own double quotes doubled, which is FTS5's only escape: nothing
 * in it (AND, OR, NOT, NEAR, *, ^, :, parentheses, column names) is read as syntax. Punctuation
 * inside the quotes is dropped by the tokenizer, as it is when a body is indexed.
 */
export function ftsPhrase(text: string): string {
  // A NUL would end the query string inside SQLite's C code, so it becomes a separator like any other.
  return `"${text.replaceAll('\0', ' ').replaceAll('"', '""')}"`;
}
