/**
 * The stable text form of a trace: one line per link of the chain, each saying where it was read
 * from (`[store]`, `[labels]`…), then what those sources mean. Used by the CLI, compared by tests.
 */
import type { Origin, TagCheck, TracedGit, TracedImage, TraceResult } from './trace-types.js';

type Line = [key: string, value: string, from: string];

const ORIGINS: Record<Origin | 'git', string> = {
  engine: 'what the Docker Engine reports now',
  stack: 'the Compose file',
  store: "the record of the build in this project's state database (.flotilla/state.db)",
  labels: "the image's own labels: this project has no record of its build (built on another machine, by another project, or not by Flotilla)",
  git: "the project's git repository now",
};

/** The chain, as aligned lines and a legend of the sources used. */
export function traceText(result: TraceResult): string {
  const lines: Line[] = [];
  if (result.service !== null) {
    // A container's labels name its service; an image's build labels the service it was built for.
    const from = { service: 'stack', container: 'engine', image: 'labels' }[result.matched];
    lines.push(['service', `${result.service}${result.project ? ` (project ${result.project})` : ''}`, from]);
  }
  for (const container of result.containers) lines.push(['container', `${container.name}  ${container.id.slice(0, 12)}  ${container.state}`, 'engine']);
  if (result.matched === 'service' && result.containers.length === 0) lines.push(['container', 'none: the service has no containers', 'engine']);
  for (const image of result.images) lines.push(...imageLines(image));
  if (result.images.length === 0) lines.push(['image', "none: the service's image is not on the engine", 'engine']);
  return `${align(lines)}\n\n${legend(lines)}`;
}

function imageLines(image: TracedImage): Line[] {
  const lines: Line[] = [];
  const id = image.id.slice(0, 'sha256:'.length + 12);
  lines.push(['image', [id, image.reference, image.present ? null : '(no longer on the engine)'].filter(Boolean).join('  '), 'engine']);
  // An image the engine no longer has keeps only the digests its record lists.
  const digestFrom = !image.present && image.build?.from === 'store' ? 'store' : 'engine';
  lines.push(['  digest', image.digests.length > 0 ? image.digests.join(', ') : 'none (a local build, never pushed)', digestFrom]);
  const build = image.build;
  if (build) {
    const version = build.version ? build.version.slice(0, 20) : 'unknown';
    lines.push(['  build', `version ${version}${build.builtAt ? `, built ${build.builtAt}` : ''}`, build.from]);
  } else {
    lines.push(['  build', 'unknown: this project has no record of it, and the image has no Flotilla build labels (not built by Flotilla)', image.present ? 'labels' : 'store']);
  }
  const git = image.git;
  if (git) {
    lines.push(['  commit', `${git.commit}  ${dirtyText(git.dirty)}`, git.from]);
    lines.push(tagLine(git, image.tag));
    if (git.source) lines.push(['  source', git.source, git.from]);
  } else {
    lines.push(['  git', image.noGit ?? 'no git information', image.build?.from ?? (image.present ? 'labels' : 'store')]);
  }
  for (const base of image.baseImages) {
    lines.push(['  base', [base.reference, base.digest ?? (base.id ? base.id.slice(0, 'sha256:'.length + 12) : null)].filter(Boolean).join('  '), base.from]);
  }
  for (const test of image.tests) lines.push(['  test', `${test.run.padEnd(28)} ${test.status.padEnd(6)} ${test.finishedAt}`, 'store']);
  for (const note of image.notes) lines.push(['  note', note, '']);
  return lines;
}

function dirtyText(dirty: boolean | null): string {
  if (dirty === null) return '(dirty or not: unknown)';
  return dirty ? 'DIRTY: built with uncommitted changes in the build context' : '(clean)';
}

function tagLine(git: TracedGit, check: TagCheck | null): Line {
  if (check === null) {
    const describe = git.describe && git.describe !== git.commit.slice(0, git.describe.length) ? ` (describe: ${git.describe})` : '';
    return ['  tag', `none: no tag pointed at the commit${describe}`, git.from];
  }
  const short = (sha: string | null) => (sha ?? '').slice(0, 12);
  switch (check.status) {
    case 'unchanged':
      return ['  tag', `${check.tag} (still points to this commit)`, `${git.from}+git`];
    case 'moved':
      return ['  tag', `${check.tag} MOVED: it now points to ${short(check.now)}, not to the commit this image was built from`, `${git.from}+git`];
    case 'missing':
      return ['  tag', `${check.tag} (not in the repository at ${check.dir ?? '?'}: deleted, or never fetched there)`, `${git.from}+git`];
    case 'unchecked':
      return ['  tag', `${check.tag} (not checked: no git repository to look it up in)`, git.from];
  }
}

/** Rows of `key  [from]  value`, the columns aligned. */
function align(lines: Line[]): string {
  const tagged = lines.map(([key, value, from]): Line => [key, from ? `[${from}]` : '', value]);
  const keyWidth = Math.max(...tagged.map(([key]) => key.length));
  const fromWidth = Math.max(...tagged.map(([, from]) => from.length));
  return tagged.map(([key, from, value]) => `${key.padEnd(keyWidth)}  ${from.padEnd(fromWidth)}  ${value}`.trimEnd()).join('\n');
}

function legend(lines: Line[]): string {
  const used = new Set(lines.flatMap(([, , from]) => from.split('+').filter(Boolean)));
  const origins = (Object.keys(ORIGINS) as (keyof typeof ORIGINS)[]).filter((origin) => used.has(origin));
  const width = Math.max(...origins.map((origin) => origin.length + 2));
  return origins.map((origin) => `${`[${origin}]`.padEnd(width)}  ${ORIGINS[origin]}\n`).join('');
}
