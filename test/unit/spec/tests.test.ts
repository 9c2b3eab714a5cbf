/** `x-flotilla.tests`: suites resolved with their defaults, and every mistake named with its place. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStack, renderStack, type TestSuiteSpec } from '../../../src/spec/index.js';
import { HOME, issueOf, issuesOf, load, yaml } from './helpers.js';

/** A compose.yaml with service `api` (built from `.`) and `db`; `lines` go under api's `x-flotilla.tests`, indented at 8. */
function suites(...lines: string[]): Record<string, string> {
  return {
    'compose.yaml': yaml('services:', '  api:', '    build: .', '    x-flotilla:', '      tests:', ...lines, '  db:', '    image: postgres:16'),
    Dockerfile: 'FROM node:20\n',
  };
}

async function suitesOf(files: Record<string, string>, env: Record<string, string> = {}): Promise<{ tests: Record<string, TestSuiteSpec>; warnings: string[] }> {
  const { stack, warnings } = await load(files, { env });
  return { tests: stack.services['api']?.flotilla.tests ?? {}, warnings };
}

describe('resolved suites', () => {
  it('apply the defaults to a suite with only a command, split like a shell', async () => {
    const { tests } = await suitesOf(suites('        unit:', `          command: npm test -- --grep 'adds two'`));
    expect(tests).toEqual({
      unit: { name: 'unit', command: ['npm', 'test', '--', '--grep', 'adds two'], needs: [], environment: {}, timeout: '10m', after: [], matrix: {} },
    });
  });

  it('keep every setting, with after qualified and needs and after sorted without repeats', async () => {
    const { tests } = await suitesOf(
      suites(
        '        lint:',
        '          command: ["npm", "run", "lint"]',
        '        unit:',
        '          command: ["npm", "test"]',
        '          target: test',
        '          needs: [db, api, db]',
        '          environment: [MODE=ci, FROM_SHELL, UNSET]',
        '          timeout: 1m30s',
        '          junit: /reports/junit.xml',
        '          after: [lint, "api:lint"]',
        '          working_dir: /app',
      ),
      { FROM_SHELL: 'yes' },
    );
    expect(tests['unit']).toEqual({
      name: 'unit',
      command: ['npm', 'test'],
      target: 'test',
      needs: ['api', 'db'],
      environment: { MODE: 'ci', FROM_SHELL: 'yes' },
      timeout: '1m30s',
      junit: '/reports/junit.xml',
      after: ['api:lint'],
      matrix: {},
      workingDir: '/app',
    });
  });

  it('turn matrix numbers into their decimal text and sort the variables', async () => {
    const { tests, warnings } = await suitesOf(suites('        unit:', '          command: npm test', '          matrix:', '            PG: ["15", 16]', '            NODE_VERSION: [18.0, 20, "22"]'));
    expect(tests['unit']?.matrix).toEqual({ NODE_VERSION: ['18', '20', '22'], PG: ['15', '16'] });
    expect(Object.keys(tests['unit']?.matrix ?? {})).toEqual(['NODE_VERSION', 'PG']);
    expect(warnings).toEqual([]);
  });

  it('warn about a non-integer matrix number, which YAML may have shortened', async () => {
    const { tests, warnings } = await suitesOf(suites('        unit:', '          command: pytest', '          matrix:', '            PYTHON: [3.9, "3.10"]'));
    expect(tests['unit']?.matrix).toEqual({ PYTHON: ['3.9', '3.10'] });
    expect(warnings).toEqual([
      "compose.yaml:9:22 services.api.x-flotilla.tests.unit.matrix.PYTHON[0]: the number 3.9 is used as '3.9'; quote it if it was written otherwise (YAML reads 3.10 as 3.1)",
    ]);
  });

  it('interpolate variables as everywhere else', async () => {
    const { tests } = await suitesOf(suites('        smoke:', '          image: curlimages/curl:${CURL_TAG:-8.8.0}', '          command: curl -fsS http://${HOST}/health'), { HOST: 'api:3000' });
    expect(tests['smoke']).toMatchObject({ image: 'curlimages/curl:8.8.0', command: ['curl', '-fsS', 'http://api:3000/health'] });
  });

  it('allow a suite to need its own service (an end-to-end suite against it)', async () => {
    const { tests } = await suitesOf(suites('        e2e:', '          command: npm run e2e', '          needs: [api]'));
    expect(tests['e2e']?.needs).toEqual(['api']);
  });

  it('read an empty tests block, or none, as no suites', async () => {
    const { stack } = await load({ 'compose.yaml': yaml('services:', '  api:', '    image: nginx', '    x-flotilla:', '      tests:', '  web:', '    image: nginx') });
    expect(stack.services['api']?.flotilla).toEqual({ tests: {} });
    expect(stack.services['web']?.flotilla).toEqual({ tests: {} });
  });

  it('accept after on a suite of a service disabled by a profile', async () => {
    const { stack } = await load({
      'compose.yaml': yaml(
        'services:',
        '  api:',
        '    image: nginx',
        '    x-flotilla:',
        '      tests:',
        '        unit:',
        '          command: x',
        '          after: ["jobs:unit"]',
        '  jobs:',
        '    image: nginx',
        '    profiles: [jobs]',
        '    x-flotilla:',
        '      tests:',
        '        unit:',
        '          command: x',
      ),
    });
    expect(stack.services['api']?.flotilla.tests['unit']?.after).toEqual(['jobs:unit']);
  });

  it('accept a matrix of exactly 256 runs', async () => {
    const values = (count: number): string => `[${Array.from({ length: count }, (_, i) => i).join(', ')}]`;
    const { tests } = await suitesOf(suites('        unit:', '          command: x', '          matrix:', `            A: ${values(16)}`, `            B: ${values(16)}`));
    expect(tests['unit']?.matrix['A']).toHaveLength(16);
  });

  it('render in flotilla config and load back to the same suites', async () => {
    const files = suites(
      '        unit:',
      '          command: npm test',
      '          target: test',
      '          matrix: { NODE_VERSION: [20, 18] }',
      '        integration:',
      '          command: [npm, run, integration]',
      '          needs: [db]',
      '          after: [unit]',
    );
    const { stack } = await load(files);
    const rendered = renderStack(stack, 'yaml');
    expect(rendered).toContain(
      yaml(
        '    x-flotilla:',
        '      tests:',
        '        integration:',
        '          after:',
        '            - api:unit',
        '          command:',
        '            - npm',
        '            - run',
        '            - integration',
        '          needs:',
        '            - db',
        '          timeout: 10m',
        '        unit:',
        '          command:',
        '            - npm',
        '            - test',
        '          matrix:',
        '            NODE_VERSION:',
        '              - "20"',
        '              - "18"',
        '          target: test',
        '          timeout: 10m',
      ),
    );
    const again = await mkdtemp(path.join(os.tmpdir(), 'flotilla-tests-render-'));
    try {
      await writeFile(path.join(again, 'compose.yaml'), rendered);
      const reloaded = await loadStack({ cwd: again, env: { HOME } });
      expect(reloaded.services['api']?.flotilla).toEqual(stack.services['api']?.flotilla);
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });
});

describe('mistakes in the shape', () => {
  it('a suite without a command', async () => {
    expect(await issueOf(suites('        unit:', '          image: node:20'))).toBe("compose.yaml:6:9 services.api.x-flotilla.tests.unit: missing required key 'command'");
  });

  it('a misspelt key, with a suggestion', async () => {
    expect(await issueOf(suites('        unit:', '          command: x', '          neds: [db]'))).toBe(
      "compose.yaml:8:11 services.api.x-flotilla.tests.unit.neds: unknown key 'neds'; did you mean 'needs'?",
    );
  });

  it('a key far from any, with the allowed keys', async () => {
    expect(await issueOf(suites('        unit:', '          command: x', '          retries: 3'))).toBe(
      "compose.yaml:8:11 services.api.x-flotilla.tests.unit.retries: unknown key 'retries' (allowed: command, image, target, needs, environment, timeout, junit, after, matrix, working_dir)",
    );
  });

  it('values of the wrong kind, each at its own position', async () => {
    expect(await issuesOf(suites('        unit:', '          command: 42', '          needs: db', '          timeout: soon', '          matrix: [a]', '          environment: A=1'))).toEqual([
      'compose.yaml:7:20 services.api.x-flotilla.tests.unit.command: expected a command string or a list of arguments, found 42',
      "compose.yaml:8:18 services.api.x-flotilla.tests.unit.needs: expected a list, found 'db'",
      "compose.yaml:9:20 services.api.x-flotilla.tests.unit.timeout: expected a duration like 10s or 1m30s, found 'soon'",
      'compose.yaml:10:19 services.api.x-flotilla.tests.unit.matrix: expected a mapping, found a list',
      "compose.yaml:11:24 services.api.x-flotilla.tests.unit.environment: expected a mapping or a list of KEY=VALUE strings, found 'A=1'",
    ]);
  });

  it('matrix values that are neither strings nor numbers', async () => {
    expect(await issuesOf(suites('        unit:', '          command: x', '          matrix:', '            A: [true]', '            B: 3'))).toEqual([
      'compose.yaml:9:17 services.api.x-flotilla.tests.unit.matrix.A[0]: expected a string or a number, found true',
      'compose.yaml:10:16 services.api.x-flotilla.tests.unit.matrix.B: expected a list, found 3',
    ]);
  });

  it('tests that are not a mapping of suites', async () => {
    expect(await issueOf(suites('        - unit'))).toBe('compose.yaml:6:9 services.api.x-flotilla.tests: expected a mapping, found a list');
  });
});

describe('mistakes the resolver finds', () => {
  it('an unterminated quote and an empty command', async () => {
    expect(await issuesOf(suites('        unit:', `          command: "echo 'oops"`, '        lint:', '          command: ""', '        e2e:', '          command: []'))).toEqual([
      "compose.yaml:7:20 services.api.x-flotilla.tests.unit.command: unterminated single quote in 'echo 'oops'",
      'compose.yaml:9:20 services.api.x-flotilla.tests.lint.command: expected a command, found an empty string',
      'compose.yaml:11:20 services.api.x-flotilla.tests.e2e.command: expected a command, found an empty list',
    ]);
  });

  it('image and target together', async () => {
    expect(await issueOf(suites('        unit:', '          command: x', '          image: node:20', '          target: test'))).toBe(
      "compose.yaml:9:11 services.api.x-flotilla.tests.unit.target: 'target' and 'image' cannot both be set: 'image' runs that image, 'target' builds a stage of the service's build",
    );
  });

  it('a target on a service without a build section', async () => {
    const files = { 'compose.yaml': yaml('services:', '  web:', '    image: nginx', '    x-flotilla:', '      tests:', '        unit:', '          command: x', '          target: test') };
    expect(await issueOf(files)).toBe(
      "compose.yaml:8:11 services.web.x-flotilla.tests.unit.target: 'target' needs a build section on service 'web'; use 'image' to run the suite in another image",
    );
  });

  it('an image reference with a space', async () => {
    expect(await issueOf(suites('        unit:', '          command: x', "          image: 'node 20'"))).toBe(
      "compose.yaml:8:18 services.api.x-flotilla.tests.unit.image: expected an image reference like node:20, found 'node 20'",
    );
  });

  it('a needed service that does not exist, with a suggestion', async () => {
    expect(await issueOf(suites('        unit:', '          command: x', '          needs: [api, dbb]'))).toBe(
      "compose.yaml:8:24 services.api.x-flotilla.tests.unit.needs[1]: needs undefined service 'dbb'; did you mean 'db'?",
    );
  });

  it('after entries that name nothing, each with what is wrong', async () => {
    expect(await issuesOf(suites('        lint:', '          command: x', '        unit:', '          command: x', '          after: [lnit, "api:lnt", "db:x", "dbx:unit", ":", "a:b:c", unit]'))).toEqual([
      "compose.yaml:10:19 services.api.x-flotilla.tests.unit.after[0]: after refers to undefined test suite 'lnit'; did you mean 'lint'?",
      "compose.yaml:10:25 services.api.x-flotilla.tests.unit.after[1]: after refers to undefined test suite 'api:lnt'; did you mean 'api:lint'?",
      "compose.yaml:10:36 services.api.x-flotilla.tests.unit.after[2]: after refers to undefined test suite 'db:x' (service 'db' declares no tests)",
      "compose.yaml:10:44 services.api.x-flotilla.tests.unit.after[3]: after refers to undefined service 'dbx'; did you mean 'db'?",
      "compose.yaml:10:56 services.api.x-flotilla.tests.unit.after[4]: expected a suite name or service:suite, found ':'",
      "compose.yaml:10:61 services.api.x-flotilla.tests.unit.after[5]: expected a suite name or service:suite, found 'a:b:c'",
      "compose.yaml:10:70 services.api.x-flotilla.tests.unit.after[6]: suite 'unit' cannot run after itself",
    ]);
  });

  it('a cycle in after, across services, named once', async () => {
    const files = {
      'compose.yaml': yaml(
        'services:',
        '  web:',
        '    image: nginx',
        '    x-flotilla:',
        '      tests:',
        '        c:',
        '          command: x',
        '          after: ["api:a"]',
        '  api:',
        '    image: nginx',
        '    x-flotilla:',
        '      tests:',
        '        a:',
        '          command: x',
        '          after: [b]',
        '        b:',
        '          command: x',
        '          after: [lint, "web:c"]',
        '        lint:',
        '          command: x',
      ),
    };
    expect(await issueOf(files)).toBe("compose.yaml:15:19 services.api.x-flotilla.tests.a.after[0]: cycle in 'after': api:a -> api:b -> web:c -> api:a");
  });

  it('paths that are not absolute, and a zero timeout', async () => {
    expect(await issuesOf(suites('        unit:', '          command: x', '          junit: out.xml', '          working_dir: src', '          timeout: 0s'))).toEqual([
      "compose.yaml:8:18 services.api.x-flotilla.tests.unit.junit: expected an absolute path inside the container, found 'out.xml'",
      "compose.yaml:9:24 services.api.x-flotilla.tests.unit.working_dir: expected an absolute path inside the container, found 'src'",
      "compose.yaml:10:20 services.api.x-flotilla.tests.unit.timeout: expected a timeout above zero, found '0s'",
    ]);
  });

  it('a suite name that cannot be referred to', async () => {
    expect(await issueOf(suites('        "unit:fast":', '          command: x'))).toBe(
      `compose.yaml:6:9 services.api.x-flotilla.tests["unit:fast"]: invalid test suite name 'unit:fast': use letters, digits, '.', '_' and '-'`,
    );
  });

  it('matrix variables that are not environment names, empty lists and repeated values', async () => {
    expect(await issuesOf(suites('        unit:', '          command: x', '          matrix:', '            node-version: [1]', '            EMPTY: []', '            NODE: [18, "18"]'))).toEqual([
      "compose.yaml:9:13 services.api.x-flotilla.tests.unit.matrix.node-version: invalid matrix variable 'node-version': use letters, digits and '_', not starting with a digit",
      'compose.yaml:10:20 services.api.x-flotilla.tests.unit.matrix.EMPTY: expected a non-empty list of values, found an empty list',
      "compose.yaml:11:24 services.api.x-flotilla.tests.unit.matrix.NODE[1]: value '18' is listed twice for NODE",
    ]);
  });

  it('a matrix of more than 256 runs', async () => {
    const values = (count: number): string => `[${Array.from({ length: count }, (_, i) => i).join(', ')}]`;
    expect(await issueOf(suites('        unit:', '          command: x', '          matrix:', `            A: ${values(17)}`, `            B: ${values(16)}`))).toBe(
      'compose.yaml:8:11 services.api.x-flotilla.tests.unit.matrix: the matrix expands to 272 runs (A 17 × B 16), more than 256; drop values or split the suite',
    );
  });
});
