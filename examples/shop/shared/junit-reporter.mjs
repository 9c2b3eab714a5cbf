// A JUnit XML reporter for node:test, in plain JavaScript with no dependencies, for Node 18.19+
// and 20 (Node 18 has no built-in junit reporter). Use it next to a human-readable reporter:
//
//   node --test \
//     --test-reporter=spec --test-reporter-destination=stdout \
//     --test-reporter=/app/dist/junit-reporter.mjs --test-reporter-destination=/reports/junit.xml \
//     dist/test/unit/
//
// The report has one <testsuite> per test file and one <testcase> per test (a test with
// subtests, or a describe(), is a suite, not a case: its name goes into its cases' classname).
// A failed test gets <failure message type>, a skipped or todo test <skipped>; a file that fails
// outside any test (it does not load, or exits early) and a failed hook get an <error> case.
// Output of the test files goes into <system-out> and <system-err>.
//
// Events (node:test reporters API): test:pass and test:fail carry { name, nesting, file,
// details: { duration_ms, error, type }, skip, todo }; test:stdout and test:stderr carry
// { file, message }. Events of different files may interleave; events of one file arrive in
// order, a test's own event after those of its subtests.
import { hostname } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/F). */
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Terminal colour codes that an error's inspection may contain. */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g;

/** Escapes text for an XML attribute or element, dropping what XML cannot carry. */
export function escapeXml(value) {
  return String(value)
    .replace(ANSI, '')
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Failures that only say that something below failed: the cases below carry the details. */
const ROLL_UPS = new Set(['subtestsFailed']);

/** The test file of an event as a path relative to the working directory ('' outside a file). */
function fileOf(data, cwd) {
  let file = data.file;
  if (typeof file !== 'string' || file === '') return '';
  if (file.startsWith('file:')) {
    try {
      file = fileURLToPath(file);
    } catch {
      // keep it as it is
    }
  }
  return path.isAbsolute(file) ? path.relative(cwd, file) || file : file;
}

/** The error a test failed with, as { message, type, detail }. */
function describeError(error) {
  // node:test wraps what the test threw in an ERR_TEST_FAILURE error whose cause it is.
  const wrapped = error !== null && typeof error === 'object' && error.code === 'ERR_TEST_FAILURE' && 'cause' in error;
  const cause = wrapped ? error.cause : error;
  const failureType = wrapped && typeof error.failureType === 'string' ? error.failureType : undefined;
  if (cause instanceof Error || (cause !== null && typeof cause === 'object' && typeof cause.message === 'string')) {
    const type = typeof cause.name === 'string' && cause.name !== '' ? cause.name : (failureType ?? 'Error');
    const stack = typeof cause.stack === 'string' ? cause.stack : '';
    // The stack starts with the message; keep both when it does not.
    const detail = stack.includes(cause.message) ? stack : [cause.message, stack].filter(Boolean).join('\n');
    return { message: firstLines(cause.message), type, detail, failureType };
  }
  const text = cause === undefined ? 'the test failed' : typeof cause === 'string' ? cause : safeJson(cause);
  return { message: firstLines(text), type: failureType ?? 'Error', detail: text, failureType };
}

function safeJson(value) {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A message attribute: the first few lines, trimmed, at most 1000 characters. */
function firstLines(text) {
  const lines = String(text).trim().split('\n');
  const head = lines.slice(0, 5).join('\n');
  const short = head.length > 1000 ? `${head.slice(0, 1000)}…` : head;
  return lines.length > 5 ? `${short}\n…` : short;
}

/** Seconds with millisecond precision, as JUnit wants them. */
function seconds(ms) {
  return (Math.max(0, Number(ms) || 0) / 1000).toFixed(3);
}

/**
 * Collects test:pass and test:fail events into files and cases; `report()` renders the XML.
 * Exported for unit tests; node:test uses the default export.
 */
export class JUnitCollector {
  constructor({ cwd = process.cwd(), now = () => new Date(), host = hostname() } = {}) {
    this.cwd = cwd;
    this.now = now;
    this.host = host;
    /** Files by relative path, in the order they first reported. */
    this.files = new Map();
  }

  file(name) {
    let file = this.files.get(name);
    if (file === undefined) {
      // pending[n]: finished tests at nesting n whose parent has not finished yet.
      file = { name, timestamp: this.now(), pending: [], durationMs: 0, wrapperMs: 0, out: [], err: [] };
      this.files.set(name, file);
    }
    return file;
  }

  /** Takes one reporter event. */
  add(event) {
    const { type, data } = event ?? {};
    if (data === null || typeof data !== 'object') return;
    if (type === 'test:stdout' || type === 'test:stderr') {
      const file = this.file(fileOf(data, this.cwd));
      (type === 'test:stdout' ? file.out : file.err).push(String(data.message ?? ''));
      return;
    }
    if (type !== 'test:pass' && type !== 'test:fail') return;

    const fileName = fileOf(data, this.cwd);
    const file = this.file(fileName);
    const nesting = Number.isInteger(data.nesting) && data.nesting >= 0 ? data.nesting : 0;
    const name = String(data.name ?? '');
    const details = data.details ?? {};
    const durationMs = Number(details.duration_ms ?? details.duration ?? 0);
    const children = file.pending[nesting + 1] ?? [];
    file.pending.length = Math.min(file.pending.length, nesting + 1);
    const here = (file.pending[nesting] ??= []);
    // The test that stands for a whole file (when the file fails outside its tests, or on
    // runners that wrap each file): not a suite level of its own.
    const isFileItself = nesting === 0 && data.file !== undefined && (name === data.file || path.resolve(this.cwd, fileName) === name);
    if (nesting === 0) {
      if (isFileItself) file.wrapperMs = Math.max(file.wrapperMs, durationMs);
      else file.durationMs += durationMs;
    }

    const failure = type === 'test:fail' ? describeError(details.error) : undefined;
    const isSuite = details.type === 'suite' || children.length > 0;
    if (isSuite || isFileItself) {
      for (const child of children) {
        if (!isFileItself) child.path.unshift(name);
        here.push(child);
      }
      // A suite (or file) that failed for a reason of its own: a hook, a crash, a timeout.
      if (failure !== undefined && !ROLL_UPS.has(failure.failureType)) {
        here.push({ name: isFileItself ? path.basename(name) : name, path: [], durationMs, status: 'error', failure });
      }
      return;
    }
    let status = 'passed';
    if (data.todo !== undefined && data.todo !== false) status = 'skipped';
    else if (data.skip !== undefined && data.skip !== false) status = 'skipped';
    else if (failure !== undefined) status = 'failed';
    const reason = status === 'skipped' ? (typeof data.todo === 'string' ? `todo: ${data.todo}` : data.todo ? 'todo' : typeof data.skip === 'string' ? data.skip : 'skipped') : undefined;
    here.push({ name, path: [], durationMs, status, failure: status === 'failed' ? failure : undefined, reason });
  }

  /** Every case of a file, including any left pending (a run that ended early). */
  casesOf(file) {
    return file.pending.flatMap((level) => level ?? []);
  }

  /** The JUnit XML document. */
  report() {
    const suites = [];
    const totals = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
    for (const file of this.files.values()) {
      const cases = this.casesOf(file);
      if (cases.length === 0 && file.out.length === 0 && file.err.length === 0) continue;
      const counts = {
        tests: cases.length,
        failures: cases.filter((c) => c.status === 'failed').length,
        errors: cases.filter((c) => c.status === 'error').length,
        skipped: cases.filter((c) => c.status === 'skipped').length,
      };
      const ms = Math.max(file.durationMs, file.wrapperMs);
      totals.tests += counts.tests;
      totals.failures += counts.failures;
      totals.errors += counts.errors;
      totals.skipped += counts.skipped;
      totals.ms += ms;
      const suiteName = file.name === '' ? 'node:test' : file.name;
      const classBase = file.name === '' ? 'node:test' : path.basename(file.name).replace(/\.[cm]?[jt]s$/, '');
      const lines = [
        `  <testsuite name="${escapeXml(suiteName)}" tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="${seconds(ms)}" timestamp="${escapeXml(file.timestamp.toISOString().replace(/\.\d+Z$/, ''))}" hostname="${escapeXml(this.host)}">`,
      ];
      for (const c of cases) {
        const classname = c.path.length > 0 ? c.path.join(' > ') : classBase;
        const open = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(classname)}" time="${seconds(c.durationMs)}"`;
        if (c.status === 'passed') {
          lines.push(`${open}/>`);
        } else if (c.status === 'skipped') {
          lines.push(`${open}>`, `      <skipped message="${escapeXml(c.reason ?? 'skipped')}"/>`, '    </testcase>');
        } else {
          const tag = c.status === 'failed' ? 'failure' : 'error';
          const { message, type, detail } = c.failure;
          lines.push(`${open}>`, `      <${tag} message="${escapeXml(message)}" type="${escapeXml(type)}">${escapeXml(detail)}</${tag}>`, '    </testcase>');
        }
      }
      if (file.out.length > 0) lines.push(`    <system-out>${escapeXml(file.out.join(''))}</system-out>`);
      if (file.err.length > 0) lines.push(`    <system-err>${escapeXml(file.err.join(''))}</system-err>`);
      lines.push('  </testsuite>');
      suites.push(lines.join('\n'));
    }
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="node:test" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}" time="${seconds(totals.ms)}">`,
      ...suites,
      '</testsuites>',
      '',
    ].join('\n');
  }
}

/** The reporter: node:test passes the events; the XML comes out once they end. */
export default async function* junitReporter(source) {
  const collector = new JUnitCollector();
  for await (const event of source) collector.add(event);
  yield collector.report();
}
