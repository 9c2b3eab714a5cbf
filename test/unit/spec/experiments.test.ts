/** `x-flotilla.experiments` and experiment files: resolved with their defaults, mistakes named with file, line and key. */
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/core/errors.js';
import { loadExperimentFiles, renderStack } from '../../../src/spec/index.js';
import { issuesOf, load, relative, writeProject, yaml } from './helpers.js';

/** A compose.yaml with services api and db, and these lines under `x-flotilla.experiments`. */
function project(...lines: string[]): Record<string, string> {
  return { 'compose.yaml': yaml('services:', '  api:', '    image: nginx', '  db:', '    image: postgres', 'x-flotilla:', '  experiments:', ...lines) };
}

describe('resolved experiments', () => {
  it('apply defaults, split commands and name probes and toxics', async () => {
    const { stack } = await load(
      project(
        '    pause-api:',
        '      hypothesis:',
        '        - http: { url: "http://127.0.0.1:${PORT}/health" }',
        '        - command: { service: db, run: "pg_isready -U postgres" }',
        '      method:',
        '        - container: { service: api, action: pause, duration: 5s }',
        '        - fault: { service: api, toxic: { type: latency, attributes: { latency: 100 } } }',
      ),
      { env: { PORT: '8080' } },
    );
    expect(stack.flotilla.experiments).toEqual({
      'pause-api': {
        name: 'pause-api',
        hypothesis: [
          { kind: 'http', name: 'http GET http://127.0.0.1:8080/health', request: { url: 'http://127.0.0.1:8080/health', method: 'GET', headers: {}, timeout: '5s' }, expect: {} },
          { kind: 'command', name: 'command in db: pg_isready -U postgres', service: 'db', replica: 1, run: ['pg_isready', '-U', 'postgres'], expect: { exitCode: 0 }, timeout: '30s' },
        ],
        method: [
          { kind: 'container', service: 'api', action: 'pause', at: '0s', length: { duration: '5s' } },
          { kind: 'fault', service: 'api', toxic: { name: 'chaos-pause-api-2', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100 } }, at: '0s', length: { until: 'end' } },
        ],
        rollbacks: [],
        settle: '0s',
      },
    });
  });

  it('render for `flotilla config` with every default, and load back the same', async () => {
    const { stack } = await load(
      project(
        '    full:',
        '      description: everything at once',
        '      settle: 1s',
        '      hypothesis:',
        '        - http: { url: http://127.0.0.1:8080/, method: post, body: { a: 1 }, expect: { status: [200, 201], body_contains: ok, json: { a: 1 } } }',
        '        - collector: { query: rate, edge: { source: api, target: db }, above: 1 }',
        '        - command: { service: db, replica: 1, run: [pg_isready], expect: { exit_code: 0, stdout_contains: accepting } }',
        '      load: { http: { url: http://127.0.0.1:8080/, headers: { x-test: "1" } }, rate: 5.5, duration: 10s, concurrency: 2 }',
        '      method:',
        '        - fault: { service: api, toxic: { type: http_delay, stream: upstream, toxicity: 0.5, attributes: { delay_ms: 100, jitter_ms: 20 } }, requests: 10 }',
        '        - container: { service: db, action: kill, signal: SIGTERM, at: 2s }',
        '        - network: { service: api, replica: 1, cut: true, duration: 1s }',
        '      rollbacks:',
        '        - container: { service: db, action: start }',
        '        - command: { service: db, run: "psql -c \'select 1\'" }',
      ),
    );
    const rendered = renderStack(stack, 'yaml');
    expect(rendered).toContain('  experiments:\n    full:\n      description: everything at once\n');
    const again = await load({ 'compose.yaml': rendered });
    expect(again.stack.flotilla.experiments).toEqual(stack.flotilla.experiments);
    expect(renderStack(again.stack, 'yaml')).toBe(rendered);
  });

  it('are absent from a stack that declares none', async () => {
    const { stack } = await load({ 'compose.yaml': yaml('services:', '  api:', '    image: nginx') });
    expect(stack.flotilla.experiments).toBeUndefined();
  });
});

describe('experiment mistakes', () => {
  it('name a misspelt key, a kind that is missing, and a value out of its set', async () => {
    expect(
      await issuesOf(
        project(
          '    e:',
          '      hypothesis:',
          '        - htp: { url: http://x/ }',
          '        - {}',
          '      method:',
          '        - container: { service: api, action: kil }',
          '        - { fault: { service: api, toxic: { type: latency } }, network: { service: api, cut: true } }',
          '      setle: 2s',
        ),
      ),
    ).toEqual([
      "compose.yaml:10:11 x-flotilla.experiments.e.hypothesis[0].htp: unknown key 'htp'; did you mean 'http'?",
      "compose.yaml:11:11 x-flotilla.experiments.e.hypothesis[1]: expected one of 'http', 'collector', 'command'",
      "compose.yaml:13:46 x-flotilla.experiments.e.method[0].container.action: expected one of 'kill', 'pause', 'unpause', 'restart', 'stop', 'start', found 'kil'; did you mean 'kill'?",
      "compose.yaml:14:11 x-flotilla.experiments.e.method[1]: only one of 'fault', 'network' may be set here; write them as separate entries",
      "compose.yaml:15:7 x-flotilla.experiments.e.setle: unknown key 'setle'; did you mean 'settle'?",
    ]);
  });

  it('name what only the resolver sees: services, bounds, lengths that mean nothing, toxic names used twice', async () => {
    expect(
      await issuesOf(
        project(
          '    e:',
          '      hypothesis:',
          '        - collector: { query: p99, service: apii }',
          '        - http: { url: "localhost:8080", expect: { status: 700 } }',
          '      method:',
          '        - container: { service: api, action: restart, duration: 5s }',
          '        - fault: { service: api, toxic: { name: t, type: http_abort, attributes: { status: 503, header: "no colon" } } }',
          '        - fault: { service: api, toxic: { name: t, type: latency } }',
          '        - network: { service: db, cut: true, requests: 10 }',
        ),
      ),
    ).toEqual([
      "compose.yaml:8:5 x-flotilla.experiments.e: a step lasts a number of requests but the experiment has no 'load' to send them",
      "compose.yaml:10:11 x-flotilla.experiments.e.hypothesis[0].collector: a collector probe needs a bound: 'below', 'above' or both",
      "compose.yaml:10:45 x-flotilla.experiments.e.hypothesis[0].collector.service: no service 'apii' in the stack; did you mean 'api'?",
      "compose.yaml:11:24 x-flotilla.experiments.e.hypothesis[1].http.url: expected an http:// or https:// URL such as http://127.0.0.1:8080/health, found 'localhost:8080'",
      "compose.yaml:11:60 x-flotilla.experiments.e.hypothesis[1].http.expect.status: expected an HTTP status from 100 to 599, found 700",
      "compose.yaml:13:55 x-flotilla.experiments.e.method[0].container.duration: 'duration' applies to action 'pause' only (then the container is unpaused); 'restart' is done once",
      "compose.yaml:14:105 x-flotilla.experiments.e.method[1].fault.toxic.attributes.header: expected 'name: value', found 'no colon'",
      "compose.yaml:15:49 x-flotilla.experiments.e.method[2].fault.toxic.name: toxic 't' of api is already added by step 2; give each a name of its own",
    ]);
  });

  it('in a file given with --file are named with that file, and a name defined twice is refused', async () => {
    const dir = await writeProject({
      'one.yaml': yaml('smoke:', '  hypothesis:', '    - http: { url: http://127.0.0.1/ }'),
      'two.yaml': yaml('smoke:', '  hypothesis:', '    - http: { url: http://127.0.0.1/ }', 'load-test:', '  load: { http: { url: http://127.0.0.1/ }, rate: 0, duration: 1s }', '  method:', '    - network: { service: web, cut: yes }'),
    });
    const error = await loadExperimentFiles(['one.yaml', 'two.yaml'], { cwd: dir, env: {}, services: ['api'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).issues.map((issue) => relative(`${issue.position?.file ?? ''}:${issue.position?.line ?? 0}:${issue.position?.column ?? 0} ${issue.path}: ${issue.message}`, dir))).toEqual([
      'two.yaml:5:51 load-test.load.rate: expected a rate above 0, up to 10000 requests per second, found 0',
      "two.yaml:7:37 load-test.method[0].network.cut: expected one of 'true', found 'yes'",
    ]);
    const fixed = await writeProject({
      'one.yaml': yaml('smoke:', '  hypothesis:', '    - http: { url: http://127.0.0.1/ }'),
      'two.yaml': yaml('smoke:', '  hypothesis:', '    - http: { url: http://127.0.0.1/ }', 'cut:', '  method:', '    - network: { service: web, cut: true }'),
    });
    const again = await loadExperimentFiles(['one.yaml', 'two.yaml'], { cwd: fixed, env: {}, services: ['api'] }).catch((caught: unknown) => caught);
    expect((again as SpecError).issues.map((issue) => relative(`${issue.position?.file ?? ''}:${issue.position?.line ?? 0} ${issue.path}: ${issue.message}`, fixed))).toEqual([
      "two.yaml:1 smoke: experiment 'smoke' is also defined in one.yaml",
      "two.yaml:6 cut.method[0].network.service: no service 'web' in the stack",
    ]);
  });
});
