import { describe, expect, it } from 'vitest';
import junitReporter, { escapeXml, JUnitCollector, type TestEvent } from '../../../examples/shop/shared/junit-reporter.mjs';

const CWD = '/app';
const collector = (): JUnitCollector => new JUnitCollector({ cwd: CWD, now: () => new Date('2025-03-04T05:06:07.890Z'), host: 'box' });

/** node:test wraps what a test threw in an ERR_TEST_FAILURE error. */
function testFailure(cause: unknown, failureType = 'testCodeFailure'): Error {
  return Object.assign(new Error(cause instanceof Error ? cause.message : String(cause)), { code: 'ERR_TEST_FAILURE', failureType, cause });
}

function assertionError(message: string): Error {
  const error = new Error(message);
  error.name = 'AssertionError';
  error.stack = `AssertionError [ERR_ASSERTION]: ${message}\n    at TestContext.<anonymous> (file:///app/dist/test/unit/a.test.js:5:34)`;
  return error;
}

const pass = (file: string, name: string, nesting: number, extra: Record<string, unknown> = {}, details: Record<string, unknown> = {}): TestEvent => ({
  type: 'test:pass',
  data: { name, nesting, file, testNumber: 1, details: { duration_ms: 1.5, ...details }, ...extra },
});
const fail = (file: string, name: string, nesting: number, error: Error, details: Record<string, unknown> = {}): TestEvent => ({
  type: 'test:fail',
  data: { name, nesting, file, testNumber: 1, details: { duration_ms: 2, error, ...details } },
});

describe('escapeXml', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`<a href="x">Tom & 'Jerry'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;');
  });

  it('drops what XML 1.0 cannot carry: control characters, colour codes, lone surrogates', () => {
    expect(escapeXml('a\u0000b\u0007c\u001b[31mred\u001b[39m\ud800d\udc00e')).toBe('abcredde');
    expect(escapeXml('tab\tnew\nline\r')).toBe('tab\tnew\nline\r');
    expect(escapeXml('emoji 🚢 and é')).toBe('emoji 🚢 and é');
  });

  it('takes any value', () => {
    expect(escapeXml(42)).toBe('42');
    expect(escapeXml(undefined)).toBe('undefined');
  });
});

describe('JUnitCollector', () => {
  it('writes a testsuite per file and a testcase per test, with suites as classnames', () => {
    const c = collector();
    const a = 'file:///app/dist/test/unit/a.test.js'; // Node 18 names files of nested tests by URL…
    const b = '/app/dist/test/unit/b.test.js'; // …Node 20 by path
    for (const event of [
      pass(a, 'passes', 1),
      fail(a, 'fails <&>', 1, testFailure(assertionError('Expected values to be strictly equal:\n\n1 !== 2\n'))),
      pass(a, 'deep', 2),
      pass(a, 'skipped', 2, { skip: true }),
      pass(a, 'later', 2, { todo: 'needs a fake clock' }),
      pass(a, 'inner', 1, {}, { type: 'suite' }),
      fail(a, 'suite A', 0, testFailure('1 subtest failed', 'subtestsFailed'), { type: 'suite' }),
      pass(b, 'top-level', 0),
      { type: 'test:stdout', data: { file: '/app/dist/test/unit/a.test.js', message: 'hello <world>\n' } },
      { type: 'test:diagnostic', data: { nesting: 0, message: 'tests 6' } },
    ]) {
      c.add(event);
    }
    expect(c.report()).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="node:test" tests="6" failures="1" errors="0" skipped="2" time="0.004">',
        '  <testsuite name="dist/test/unit/a.test.js" tests="5" failures="1" errors="0" skipped="2" time="0.002" timestamp="2025-03-04T05:06:07" hostname="box">',
        '    <testcase name="passes" classname="suite A" time="0.002"/>',
        '    <testcase name="fails &lt;&amp;&gt;" classname="suite A" time="0.002">',
        '      <failure message="Expected values to be strictly equal:\n\n1 !== 2" type="AssertionError">AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n1 !== 2\n\n    at TestContext.&lt;anonymous&gt; (file:///app/dist/test/unit/a.test.js:5:34)</failure>',
        '    </testcase>',
        '    <testcase name="deep" classname="suite A &gt; inner" time="0.002"/>',
        '    <testcase name="skipped" classname="suite A &gt; inner" time="0.002">',
        '      <skipped message="skipped"/>',
        '    </testcase>',
        '    <testcase name="later" classname="suite A &gt; inner" time="0.002">',
        '      <skipped message="todo: needs a fake clock"/>',
        '    </testcase>',
        '    <system-out>hello &lt;world&gt;\n</system-out>',
        '  </testsuite>',
        '  <testsuite name="dist/test/unit/b.test.js" tests="1" failures="0" errors="0" skipped="0" time="0.002" timestamp="2025-03-04T05:06:07" hostname="box">',
        '    <testcase name="top-level" classname="b.test" time="0.002"/>',
        '  </testsuite>',
        '</testsuites>',
        '',
      ].join('\n'),
    );
  });

  it('treats a test with subtests as a suite even without details.type', () => {
    const c = collector();
    const f = '/app/t.test.js';
    c.add(pass(f, 'sub', 1));
    c.add(pass(f, 'parent', 0));
    c.add(pass(f, 'alone', 0));
    const report = c.report();
    expect(report).toContain('<testcase name="sub" classname="parent"');
    expect(report).toContain('<testcase name="alone" classname="t.test"');
    expect(report).not.toContain('<testcase name="parent"');
  });

  it('reports a failed hook as an error case of its suite, and the cancelled tests as failures', () => {
    const c = collector();
    const f = '/app/h.test.js';
    c.add(fail(f, 'x', 1, testFailure('test did not finish before its parent and was cancelled', 'cancelledByParent')));
    const hookError = new Error('before broke');
    c.add(fail(f, 'hook fails', 0, Object.assign(new Error('failed running before hook'), { code: 'ERR_TEST_FAILURE', failureType: 'hookFailed', cause: hookError }), { type: 'suite' }));
    const report = c.report();
    expect(report).toContain('tests="2" failures="1" errors="1"');
    expect(report).toContain('<testcase name="x" classname="hook fails"');
    expect(report).toContain('<failure message="test did not finish before its parent and was cancelled" type="cancelledByParent">');
    expect(report).toMatch(/<testcase name="hook fails" classname="h.test" time="0.002">\n {6}<error message="before broke" type="Error">Error: before broke/);
  });

  it('reports a file that fails outside its tests as an error case, with its stderr', () => {
    const c = collector();
    const f = '/app/dist/test/unit/crash.test.js';
    c.add({ type: 'test:stderr', data: { file: f, message: "Error: cannot find module 'x'\n" } });
    c.add(fail(f, f, 0, testFailure('test failed')));
    const report = c.report();
    expect(report).toContain('<testsuite name="dist/test/unit/crash.test.js" tests="1" failures="0" errors="1"');
    expect(report).toContain('<testcase name="crash.test.js" classname="crash.test" time="0.002">');
    expect(report).toContain('<error message="test failed" type="testCodeFailure">test failed</error>');
    expect(report).toContain("<system-err>Error: cannot find module &apos;x&apos;\n</system-err>");
  });

  it('ignores a file-level failure that only rolls up its failed tests', () => {
    const c = collector();
    const f = '/app/r.test.js';
    c.add(fail(f, 'broken', 0, testFailure(assertionError('no'))));
    c.add(fail(f, f, 0, testFailure('test failed', 'subtestsFailed')));
    expect(c.report()).toContain('tests="1" failures="1" errors="0"');
  });

  it('keeps interleaved files apart', () => {
    const c = collector();
    c.add(pass('/app/one.test.js', 'a', 1));
    c.add(pass('/app/two.test.js', 'b', 1));
    c.add(pass('/app/one.test.js', 'A', 0, {}, { type: 'suite' }));
    c.add(pass('/app/two.test.js', 'B', 0, {}, { type: 'suite' }));
    const report = c.report();
    expect(report).toContain('<testcase name="a" classname="A"');
    expect(report).toContain('<testcase name="b" classname="B"');
  });

  it('describes a thrown non-error value', () => {
    const c = collector();
    c.add(fail('/app/s.test.js', 'throws a string', 0, testFailure('a string')));
    c.add(fail('/app/s.test.js', 'throws an object', 0, testFailure({ code: 42 })));
    const report = c.report();
    expect(report).toContain('<failure message="a string" type="testCodeFailure">a string</failure>');
    expect(report).toContain('<failure message="{&quot;code&quot;:42}" type="testCodeFailure">{&quot;code&quot;:42}</failure>');
  });

  it('writes an empty report when there were no tests', () => {
    expect(collector().report()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="node:test" tests="0" failures="0" errors="0" skipped="0" time="0.000">\n</testsuites>\n',
    );
  });
});

describe('the reporter', () => {
  it('reads the whole event stream, then yields the report once', async () => {
    async function* events(list: TestEvent[]): AsyncGenerator<TestEvent> {
      for (const event of list) yield await Promise.resolve(event);
    }
    const chunks: string[] = [];
    const source = events([pass(`${process.cwd()}/x.test.js`, 'works', 0), { type: 'test:plan', data: { nesting: 0, count: 1 } }]);
    for await (const chunk of junitReporter(source)) chunks.push(chunk);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toContain('<testsuite name="x.test.js" tests="1" failures="0"');
  });
});
