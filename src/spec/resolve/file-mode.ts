/** File modes: a number (YAML `0440` is already read as octal) or an octal string such as "0440". */

/** The mode as a number, or undefined when it is not a valid mode. */
export function parseMode(value: number | string): number | undefined {
  const mode = typeof value === 'number' ? value : /^0?[0-7]{1,4}$/.test(value.trim()) ? Number.parseInt(value.trim(), 8) : undefined;
  return mode !== undefined && Number.isInteger(mode) && mode >= 0 && mode <= 0o7777 ? mode : undefined;
}
