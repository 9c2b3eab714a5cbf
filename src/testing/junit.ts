/**
 * JUnit XML in and out: reports written by surefire, `node --test`, jest-junit or pytest are read
 * into counts and suites, and the runs of one `flotilla test` are merged into one document for
 * `--junit FILE`, every suite named after its run so CI tells matrix cells apart.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FlotillaError } from '../core/errors.js';

/** How many tests a report or suite holds, by outcome (`total` includes the others). */
export interface JUnitCounts {
  total: number;
  failures: number;
  errors: number;
  skipped: number;
}

/** An element as parsed, entities decoded. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}

/** Element content: an element or text. */
export type XmlNode = XmlElement | { text: string };

/** One suite, nested suites flattened: a nested suite's name is its path, joined with ` › `. */
export interface JUnitSuite {
  name: string;
  /** Attributes other than the name and the counts (time, timestamp, hostname…), as written. */
  attributes: Record<string, string>;
  /** `<properties>`, `<system-out>`, `<system-err>`: everything but test cases and suites. */
  extras: XmlElement[];
  testcases: XmlElement[];
  /** Counted from its test cases, never taken from its attributes. */
  counts: JUnitCounts;
}

/** A parsed report: its suites, and counts over all of them. */
export interface JUnitReport extends JUnitCounts {
  suites: JUnitSuite[];
}

/** The outcome of one run, for `mergeJUnit`. */
export interface JUnitRunResult {
  runId: string;
  /** The JUnit XML the run wrote, when it wrote one. */
  xml?: string | undefined;
  status: 'passed' | 'failed' | 'skipped' | 'cached';
  /** Why it failed, was skipped or cached. */
  reason?: string | undefined;
  durationMs: number;
  /** The last lines of its output, shown for a failure that has no test case of its own. */
  logTail?: string | undefined;
}

const COUNT_ATTRIBUTES = new Set(['name', 'tests', 'failures', 'errors', 'skipped']);
const SEPARATOR = ' › ';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Entities are decoded here in one pass: the parser leaves numeric references alone, and
  // decoding after it would turn a written `&amp;#65;` into `A`. No DOCTYPE entity is expanded.
  processEntities: false,
});

/** Parses a JUnit report (`<testsuites>` or a single `<testsuite>` at the root); throws a FlotillaError (JUNIT_INVALID) for anything else. */
export function parseJUnit(xml: string): JUnitReport {
  const text = xml.replace(/^\uFEFF/, '');
  if (text.trim() === '') throw invalid('the document is empty');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw invalid(validationMessage(valid.err));
  let nodes: XmlNode[];
  try {
    nodes = toNodes(parser.parse(text) as unknown[]);
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  const root = nodes.find(isElement);
  if (!root || (root.name !== 'testsuites' && root.name !== 'testsuite')) {
    throw invalid(`expected a <testsuites> or <testsuite> root element, found ${root ? `<${root.name}>` : 'no element'}`);
  }
  const suites: JUnitSuite[] = [];
  collect(root, [], suites);
  return { ...sum(suites.map((suite) => suite.counts)), suites };
}

/**
 * One JUnit document for all runs: each run's suites with the run id in front of their names; a run
 * without a readable report (or without test cases) becomes one suite with one test case that
 * passes, fails with the reason and the log tail, or is skipped. A run that failed although its
 * report shows no failure gets such a failing case too, so CI never shows it green.
 */
export function mergeJUnit(results: readonly JUnitRunResult[]): string {
  const suites: string[] = [];
  const totals: JUnitCounts[] = [];
  for (const result of results) {
    let report: JUnitReport | undefined;
    let note: string | undefined;
    if (result.xml !== undefined) {
      try {
        report = parseJUnit(result.xml);
        if (report.total === 0) note = 'the JUnit XML this run wrote has no test cases';
      } catch (error) {
        note = error instanceof Error ? error.message : String(error);
      }
    }
    if (report && note === undefined) {
      for (const suite of report.suites) {
        suites.push(writeSuite(suite.name === '' ? result.runId : `${result.runId}${SEPARATOR}${suite.name}`, suite));
        totals.push(suite.counts);
      }
      if (result.status !== 'failed' || report.failures + report.errors > 0) continue;
    }
    const synthetic = syntheticSuite(result, note);
    suites.push(writeSuite(result.runId, synthetic));
    totals.push(synthetic.counts);
  }
  const counts = sum(totals);
  const time = seconds(results.reduce((total, result) => total + result.durationMs, 0));
  const attributes = attrs({ name: 'flotilla', tests: String(counts.total), failures: String(counts.failures), errors: String(counts.errors), skipped: String(counts.skipped), time });
  const body = suites.length > 0 ? `>\n${suites.join('')}</testsuites>\n` : '/>\n';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attributes}${body}`;
}

/** The validator's message with its place; for a file that ends early, the elements left open (the validator lists them as JSON). */
function validationMessage(err: { msg: string; line: number; col?: number | undefined }): string {
  const open = /^Invalid '(\[[^']*\])' found\.$/.exec(err.msg)?.[1];
  if (open !== undefined) {
    const names = (JSON.parse(open) as unknown[]).map((name) => `<${String(name)}>`);
    return `the document ends before ${names.reverse().join(', ')} ${names.length === 1 ? 'is' : 'are'} closed`;
  }
  return `${err.msg} (line ${err.line}${err.col === undefined ? '' : `, column ${err.col}`})`;
}

function syntheticSuite(result: JUnitRunResult, note: string | undefined): JUnitSuite {
  const time = seconds(result.durationMs);
  const outcome: XmlNode[] = [];
  if (result.status === 'failed') {
    outcome.push(element('failure', { message: result.reason ?? 'failed', type: 'flotilla' }, result.logTail ? [{ text: result.logTail }] : []));
  } else if (result.status === 'skipped') {
    outcome.push(element('skipped', result.reason === undefined ? {} : { message: result.reason }));
  } else if (result.status === 'cached' && result.reason !== undefined) {
    outcome.push(element('system-out', {}, [{ text: `cached: ${result.reason}` }]));
  }
  const testcase = element('testcase', { name: result.runId, classname: 'flotilla', time }, outcome);
  const extras = note === undefined ? [] : [element('system-err', {}, [{ text: `flotilla: ${note}` }])];
  return { name: result.runId, attributes: { time }, extras, testcases: [testcase], counts: countCases([testcase]) };
}

function collect(node: XmlElement, path: readonly string[], out: JUnitSuite[]): void {
  const own = node.name === 'testsuite' ? (node.attributes['name'] ?? '') : '';
  const name = own === '' ? path : [...path, own];
  const testcases = node.children.filter((child): child is XmlElement => isElement(child) && child.name === 'testcase');
  const extras = node.children.filter((child): child is XmlElement => isElement(child) && child.name !== 'testcase' && child.name !== 'testsuite' && child.name !== 'testsuites');
  const nested = (): void => {
    for (const child of node.children) if (isElement(child) && (child.name === 'testsuite' || child.name === 'testsuites')) collect(child, name, out);
  };
  // node --test writes top-level tests straight under `<testsuites>`, after the suites: keep them after too.
  if (node.name === 'testsuites') nested();
  if (testcases.length > 0 || (node.name === 'testsuite' && extras.length > 0)) {
    const attributes = Object.fromEntries(Object.entries(node.attributes).filter(([key]) => !COUNT_ATTRIBUTES.has(key)));
    // A `<testsuites>` root's own attributes describe the whole report, not its loose test cases.
    out.push({ name: name.join(SEPARATOR), attributes: node.name === 'testsuite' ? attributes : {}, extras, testcases, counts: countCases(testcases) });
  }
  if (node.name === 'testsuite') nested();
}

/** A case with `<error>` is an error, else with `<failure>` a failure, else with `<skipped>` skipped. */
function countCases(testcases: readonly XmlElement[]): JUnitCounts {
  const counts: JUnitCounts = { total: testcases.length, failures: 0, errors: 0, skipped: 0 };
  for (const testcase of testcases) {
    const names = new Set(testcase.children.filter(isElement).map((child) => child.name));
    if (names.has('error')) counts.errors++;
    else if (names.has('failure')) counts.failures++;
    else if (names.has('skipped')) counts.skipped++;
  }
  return counts;
}

function sum(all: readonly JUnitCounts[]): JUnitCounts {
  return all.reduce((a, b) => ({ total: a.total + b.total, failures: a.failures + b.failures, errors: a.errors + b.errors, skipped: a.skipped + b.skipped }), { total: 0, failures: 0, errors: 0, skipped: 0 });
}

function writeSuite(name: string, suite: JUnitSuite): string {
  const { total, failures, errors, skipped } = suite.counts;
  const head = `  <testsuite${attrs({ name, tests: String(total), failures: String(failures), errors: String(errors), skipped: String(skipped), ...suite.attributes })}`;
  const children = [...suite.extras.filter((extra) => extra.name === 'properties'), ...suite.testcases, ...suite.extras.filter((extra) => extra.name !== 'properties')];
  if (children.length === 0) return `${head}/>\n`;
  return `${head}>\n${children.map((child) => writeElement(child, '    ')).join('')}  </testsuite>\n`;
}

function writeElement(node: XmlElement, indent: string): string {
  const open = `${indent}<${node.name}${attrs(node.attributes)}`;
  const nested = node.children.some(isElement);
  // Whitespace between child elements, or alone in an element, is layout; other text is content, kept as written.
  const blank = node.children.every((child) => !isElement(child) && child.text.trim() === '');
  const children = blank ? [] : nested ? node.children.filter((child) => isElement(child) || child.text.trim() !== '') : node.children;
  if (children.length === 0) return `${open}/>\n`;
  if (!nested) return `${open}>${children.map((child) => (isElement(child) ? '' : escapeText(child.text))).join('')}</${node.name}>\n`;
  const inner = children.map((child) => (isElement(child) ? writeElement(child, `${indent}  `) : `${indent}  ${escapeText(child.text.trim())}\n`)).join('');
  return `${open}>\n${inner}${indent}</${node.name}>\n`;
}

function attrs(attributes: Record<string, string>): string {
  return Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escapeAttribute(value)}"`)
    .join('');
}

/** Text content: markup characters escaped, and what XML 1.0 cannot hold (terminal colours, control characters) removed or replaced. */
export function escapeText(text: string): string {
  return xmlSafe(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(text: string): string {
  // Line breaks and tabs as references: a reader would turn literal ones into spaces.
  return escapeText(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

// eslint-disable-next-line no-control-regex -- these are exactly the characters to remove
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;
// eslint-disable-next-line no-control-regex -- characters XML 1.0 does not allow, lone surrogates included
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function xmlSafe(text: string): string {
  return text.replace(ANSI, '').replace(NOT_XML, '\ufffd');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function element(name: string, attributes: Record<string, string>, children: XmlNode[] = []): XmlElement {
  return { name, attributes, children };
}

function isElement(node: XmlNode): node is XmlElement {
  return 'name' in node;
}

function invalid(message: string): FlotillaError {
  return new FlotillaError('JUNIT_INVALID', `invalid JUnit XML: ${message}`);
}

const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(ENTITY, (whole, entity: string) => {
    if (!entity.startsWith('#')) return NAMED[entity] ?? whole;
    const code = entity.startsWith('#x') ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
  });
}

/** fast-xml-parser's ordered form (`[{ tag: [...children], ':@': {attributes} }, { '#text': '…' }]`) → XmlNodes. */
function toNodes(items: readonly unknown[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    for (const [key, value] of Object.entries(record)) {
      if (key === ':@') continue;
      if (key === '#text') out.push({ text: decode(textOf(value)) });
      else if (key === '#cdata') out.push({ text: (Array.isArray(value) ? value : []).map((part) => textOf((part as Record<string, unknown>)['#text'])).join('') });
      else {
        const raw = (record[':@'] ?? {}) as Record<string, unknown>;
        const attributes = Object.fromEntries(Object.entries(raw).map(([name, attribute]) => [name, decode(textOf(attribute))]));
        out.push({ name: key, attributes, children: toNodes(Array.isArray(value) ? value : []) });
      }
    }
  }
  return out;
}

/** The parser gives strings (values are not parsed); anything else is treated as no text. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}
