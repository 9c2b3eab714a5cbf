/** JUnit XML: reports of several tools read into counts and suites, merged into one document for CI, never crashing on bad input. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { mergeJUnit, parseJUnit, type JUnitReport, type JUnitRunResult } from '../../../src/testing/index.js';

const samples = path.join(path.dirname(fileURLToPath(import.meta.url)), 'junit');
const sample = (name: string): Promise<string> => readFile(path.join(samples, name), 'utf8');

/** A report's shape without the parsed elements: suite names and counts. */
function outline(report: JUnitReport): unknown {
  return { total: report.total, failures: report.failures, errors: report.errors, skipped: report.skipped, suites: report.suites.map((suite) => [suite.name, suite.counts.total]) };
}

/** The text inside the first element named `name` of a testcase. */
function textOf(report: JUnitReport, suite: number, testcase: number, name: string): string | undefined {
  const element = report.suites[suite]?.testcases[testcase]?.children.find((child) => 'name' in child && child.name === name);
  if (!element || !('children' in element)) return undefined;
  return element.children.map((child) => ('text' in child ? child.text : '')).join('');
}

describe('parseJUnit', () => {
  it('reads node --test output: nested suites flattened by path, top-level tests in a suite of their own, todo counted as skipped', async () => {
    const report = parseJUnit(await sample('node-test.xml'));
    expect(outline(report)).toEqual({ total: 5, failures: 1, errors: 0, skipped: 2, suites: [['orders', 2], ['orders › nested', 1], ['', 2]] });
    expect(report.suites[0]?.attributes).toEqual({ time: '0.002154', disabled: '0', hostname: 'vm' });
    expect(report.suites[0]?.testcases[1]?.attributes['name']).toBe('rejects <bad> & &quot;quoted&quot; input');
    expect(textOf(report, 0, 1, 'failure')).toContain('at TestContext.<anonymous> (file:///app/test/orders.test.mjs:5:55)');
  });

  it('reads a surefire report with a single testsuite root, properties, CDATA, an error and a skip', async () => {
    const report = parseJUnit(await sample('surefire.xml'));
    expect(outline(report)).toEqual({ total: 4, failures: 1, errors: 1, skipped: 1, suites: [['com.example.shop.OrderServiceTest', 4]] });
    expect(report.suites[0]?.extras.map((extra) => extra.name)).toEqual(['properties']);
    expect(textOf(report, 0, 1, 'failure')).toBe(
      'org.opentest4j.AssertionFailedError: expected: <400> but was: <200>\n\tat com.example.shop.OrderServiceTest.rejectsNegativeQuantity(OrderServiceTest.java:42)\n',
    );
    expect(report.suites[0]?.attributes).toMatchObject({ time: '0.412', version: '3.0' });
  });

  it('reads pytest (xunit2, on one line) with a setup error, and decodes character references', async () => {
    const report = parseJUnit(await sample('pytest.xml'));
    expect(outline(report)).toEqual({ total: 5, failures: 1, errors: 1, skipped: 1, suites: [['pytest', 5]] });
    const failure = report.suites[0]?.testcases[2]?.children.find((child) => 'name' in child && child.name === 'failure');
    expect(failure && 'attributes' in failure ? failure.attributes['message'] : undefined).toBe('assert 3 == 2\n +  where 3 = len([1, 2, 3])');
  });

  it('reads pytest xunit1 (a testsuite root, file and line on the cases)', async () => {
    const report = parseJUnit(await sample('pytest-xunit1.xml'));
    expect(outline(report)).toEqual({ total: 2, failures: 0, errors: 0, skipped: 0, suites: [['pytest', 2]] });
    expect(report.suites[0]?.testcases[0]?.attributes).toEqual({ classname: 'tests.test_cart', file: 'tests/test_cart.py', line: '3', name: 'test_add', time: '0.001' });
  });

  it('reads jest-junit, leaving the root name out of the suite names', async () => {
    expect(outline(parseJUnit(await sample('jest-junit.xml')))).toEqual({ total: 3, failures: 1, errors: 0, skipped: 0, suites: [['gateway routes', 2], ['health', 1]] });
  });

  it('counts test cases, not what the attributes claim', () => {
    expect(outline(parseJUnit('<testsuite name="s" tests="99" failures="7"><testcase name="a"/></testsuite>'))).toEqual({ total: 1, failures: 0, errors: 0, skipped: 0, suites: [['s', 1]] });
  });

  it('decodes each reference once: a written &amp;#65; stays &#65;', () => {
    const report = parseJUnit('<testsuite name="a &amp;#65; &#65;&#x42;"><testcase name="&lt;&#10;&gt;"/></testsuite>');
    expect(report.suites[0]?.name).toBe('a &#65; AB');
    expect(report.suites[0]?.testcases[0]?.attributes['name']).toBe('<\n>');
  });

  it.each([
    ['an empty document', '  \n', 'invalid JUnit XML: the document is empty'],
    ['an unclosed element', '<testsuite>\n  <testcase name="a">\n</testsuite>', "invalid JUnit XML: Expected closing tag 'testcase' (opened in line 2, col 3) instead of closing tag 'testsuite'. (line 3, column 1)"],
    ['text that is not XML', 'Error: Cannot find module jest', "invalid JUnit XML: char 'E' is not expected. (line 1, column 1)"],
    ['a truncated file', '<testsuites><testsuite name="a"><testcase name="b"/>', 'invalid JUnit XML: the document ends before <testsuite>, <testsuites> are closed'],
    ['another root element', '<html><body>502 Bad Gateway</body></html>', 'invalid JUnit XML: expected a <testsuites> or <testsuite> root element, found <html>'],
  ])('refuses %s with a FlotillaError saying where', (_what, xml, message) => {
    expect(() => parseJUnit(xml)).toThrow(expect.objectContaining({ code: 'JUNIT_INVALID', message: expect.stringContaining(message) as string }));
  });
});

describe('mergeJUnit', () => {
  const golden = path.join(samples, 'merged.golden.xml');

  async function mergedSamples(): Promise<string> {
    const results: JUnitRunResult[] = [
      { runId: 'orders:unit[NODE_VERSION=18]', xml: await sample('node-test.xml'), status: 'failed', reason: 'exit code 1', durationMs: 2154 },
      { runId: 'orders:java', xml: await sample('surefire.xml'), status: 'failed', reason: 'exit code 1', durationMs: 412 },
      { runId: 'inventory:unit', xml: await sample('pytest.xml'), status: 'failed', reason: 'exit code 1', durationMs: 173 },
      { runId: 'gateway:unit', xml: await sample('jest-junit.xml'), status: 'failed', reason: 'exit code 1', durationMs: 1524 },
      { runId: 'orders:lint', status: 'failed', reason: 'exit code 2', durationMs: 3000, logTail: '\u001b[31merror\u001b[39m  Unexpected any <T> & "U" ]]> done\u0007\n' },
      { runId: 'orders:integration', status: 'skipped', reason: 'orders:unit[NODE_VERSION=18] failed', durationMs: 0 },
      { runId: 'orders:smoke', status: 'cached', reason: 'passed 2026-05-01T10:00:00.000Z', durationMs: 0 },
      { runId: 'gateway:e2e', xml: '<testsuite name="e2e"><testcase name="a">', status: 'passed', durationMs: 900 },
      { runId: 'gateway:contract', xml: await sample('pytest-xunit1.xml'), status: 'failed', reason: 'timed out after 10m', durationMs: 600_000, logTail: 'waiting…' },
    ];
    return mergeJUnit(results);
  }

  it('merges every run into one document, suites named after their run (golden)', async () => {
    const merged = await mergedSamples();
    if (process.env['UPDATE_GOLDEN'] === '1') await writeFile(golden, merged);
    expect(merged).toBe(await readFile(golden, 'utf8'));
  });

  it('writes a valid document that reads back with the same counts', async () => {
    const merged = await mergedSamples();
    expect(XMLValidator.validate(merged)).toBe(true);
    const again = parseJUnit(merged);
    // node 5 + surefire 4 + pytest 5 + jest 3 + lint, integration, smoke, e2e 1 each + contract 2 and its failing case.
    expect({ total: again.total, failures: again.failures, errors: again.errors, skipped: again.skipped }).toEqual({ total: 24, failures: 6, errors: 2, skipped: 5 });
    expect(merged).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="flotilla" tests="24" failures="6" errors="2" skipped="5" time="608.163">/);
    expect(again.suites.map((suite) => suite.name)).toContain('orders:unit[NODE_VERSION=18] › orders › nested');
  });

  it('fails a run without a report with its reason and the log tail, escaped and stripped of what XML cannot hold', () => {
    const merged = mergeJUnit([{ runId: 'a:b', status: 'failed', reason: 'exit code 137 "killed"\n(OOM)', durationMs: 1500, logTail: '\u001b[1mBoom\u001b[0m ]]> <x/> &amp; \u0000\ud800 end' }]);
    expect(merged).toContain('<failure message="exit code 137 &quot;killed&quot;&#10;(OOM)" type="flotilla">Boom ]]&gt; &lt;x/&gt; &amp;amp; \ufffd\ufffd end</failure>');
    expect(XMLValidator.validate(merged)).toBe(true);
    expect(parseJUnit(merged).suites[0]?.testcases[0]?.children.filter((child) => 'name' in child)).toEqual([
      { name: 'failure', attributes: { message: 'exit code 137 "killed"\n(OOM)', type: 'flotilla' }, children: [{ text: 'Boom ]]> <x/> &amp; \ufffd\ufffd end' }] },
    ]);
  });

  it('turns an unreadable or empty report into the run outcome plus a note', () => {
    const broken = mergeJUnit([{ runId: 'a:b', xml: 'Segmentation fault', status: 'failed', reason: 'exit code 139', durationMs: 10 }]);
    expect(broken).toContain('<failure message="exit code 139" type="flotilla"/>');
    expect(broken).toContain("<system-err>flotilla: invalid JUnit XML: char 'S' is not expected. (line 1, column 1)</system-err>");
    const empty = mergeJUnit([{ runId: 'a:b', xml: '<testsuites/>', status: 'passed', durationMs: 10 }]);
    expect(parseJUnit(empty)).toMatchObject({ total: 1, failures: 0 });
    expect(empty).toContain('<system-err>flotilla: the JUnit XML this run wrote has no test cases</system-err>');
  });

  it('adds a failing case when the run failed but its report shows no failure, and none when it does', () => {
    const passingXml = '<testsuite name="s"><testcase name="t"/></testsuite>';
    const failed = parseJUnit(mergeJUnit([{ runId: 'a:b', xml: passingXml, status: 'failed', reason: 'coverage below 80%', durationMs: 10 }]));
    expect(failed.suites.map((suite) => [suite.name, suite.counts.failures])).toEqual([['a:b › s', 0], ['a:b', 1]]);
    const passed = parseJUnit(mergeJUnit([{ runId: 'a:b', xml: passingXml, status: 'passed', durationMs: 10 }]));
    expect(passed.suites.map((suite) => suite.name)).toEqual(['a:b › s']);
  });

  it('writes an empty document for no runs', () => {
    expect(mergeJUnit([])).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="flotilla" tests="0" failures="0" errors="0" skipped="0" time="0.000"/>\n');
  });
});
