/** Splits a command string into words the way a POSIX shell would (quotes and backslashes; no expansion). */

/** The words of `text`, or an error message for an unterminated quote. */
export function shellWords(text: string): { words: string[] } | { error: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { error: `unterminated single quote in '${text}'` };
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text.charAt(j) !== '"'; j++) {
        const d = text.charAt(j);
        // Inside double quotes a backslash only escapes these characters.
        if (d === '\\' && '"\\$`\n'.includes(text.charAt(j + 1)) && j + 1 < text.length) {
          j++;
          if (text.charAt(j) !== '\n') word += text.charAt(j);
        } else {
          word += d;
        }
      }
      if (j >= text.length) return { error: `unterminated double quote in '${text}'` };
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 < text.length) {
        if (text.charAt(i + 1) !== '\n') word += text.charAt(i + 1);
        i++;
        inWord = true;
      }
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return { words };
}
