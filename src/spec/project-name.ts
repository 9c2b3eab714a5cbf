/** Project names: what Compose accepts, and how a directory name becomes one. */

const VALID = /^[a-z0-9][a-z0-9_-]*$/;

/** True for a name Compose accepts: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export function isValidProjectName(name: string): boolean {
  return VALID.test(name);
}

/** A directory name made into a project name: lowercased, other characters dropped (`My App.v2` → `myappv2`). */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

/** The message for an invalid explicit name, with the normalized form as a suggestion when there is one. */
export function invalidProjectNameMessage(name: string, source: string): string {
  const suggestion = normalizeProjectName(name);
  const hint = suggestion && suggestion !== name ? `; try '${suggestion}'` : '';
  return `invalid project name '${name}' (${source}): use only lowercase letters, digits, '-' and '_', starting with a letter or digit${hint}`;
}
