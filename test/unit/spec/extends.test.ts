/** extends: same file, another file, chains, and the ways it goes wrong. */
import { describe, expect, it } from 'vitest';
import { issueOf, issuesOf, load, yaml } from './helpers.js';

describe('extends', () => {
  it('merges a service from the same file, local values winning', async () => {
    const { stack } = await load({
      'compose.yaml': yaml(
        'services:',
        '  base:',
        '    image: busybox',
        '    environment: { TZ: utc, PORT: "80" }',
        '    volumes: ["common:/var/lib/backup/data:rw"]',
        '  cli:',
        '    extends: base',
        '    environment: [PORT=8080]',
        '    volumes: ["cli:/var/lib/backup/data:ro"]',
        'volumes:',
        '  common:',
        '  cli:',
      ),
    });
    const cli = stack.services['cli'];
    expect(cli?.image).toBe('busybox');
    expect(cli?.environment).toEqual({ TZ: 'utc', PORT: '8080' });
    expect(cli?.volumes).toEqual([{ type: 'volume', source: 'cli', target: '/var/lib/backup/data', readOnly: true, nocopy: false }]);
  });

  it('follows chains', async () => {
    const { stack } = await load({
      'compose.yaml': yaml('services:', '  base:', '    image: busybox', '    user: root', '  common:', '    extends: { service: base }', '    init: true', '  cli:', '    extends:', '      service: common'),
    });
    expect(stack.services['cli']).toMatchObject({ image: 'busybox', user: 'root', init: true });
  });

  it('reads another file, resolving its relative paths against its own directory', async () => {
    const { stack, dir } = await load({
      'compose.yaml': yaml('services:', '  web:', '    extends:', '      file: common/services.yaml', '      service: webapp', '    ports: ["8080:80"]'),
      'common/services.yaml': yaml('services:', '  webapp:', '    build: ./app', '    env_file: web.env', '    ports: ["80"]'),
      'common/web.env': 'MODE=prod\n',
    });
    const web = stack.services['web'];
    expect(web?.build?.context).toBe(`${dir}/common/app`);
    expect(web?.environment).toEqual({ MODE: 'prod' });
    expect(web?.ports.map((p) => `${p.published ?? ''}:${p.target}`)).toEqual([':80', '8080:80']);
  });

  it('lets !reset and !override remove or replace what the base defines', async () => {
    const { stack } = await load({
      'compose.yaml': yaml(
        'services:',
        '  base:',
        '    image: busybox',
        '    environment: { TZ: utc, DEBUG: "1" }',
        '    ports: ["80:80"]',
        '  cli:',
        '    extends: base',
        '    environment:',
        '      DEBUG: !reset null',
        '    ports: !override ["8080:8080"]',
      ),
    });
    expect(stack.services['cli']?.environment).toEqual({ TZ: 'utc' });
    expect(stack.services['cli']?.ports.map((p) => p.target)).toEqual([8080]);
  });

  it('does not inherit depends_on', async () => {
    const { stack } = await load({
      'compose.yaml': yaml('services:', '  base:', '    image: busybox', '    depends_on: [db]', '  db:', '    image: postgres', '  worker:', '    extends: base'),
    });
    expect(stack.services['worker']?.dependsOn).toEqual({});
    expect(Object.keys(stack.services['base']?.dependsOn ?? {})).toEqual(['db']);
  });

  it('reports a base service that does not exist, with a suggestion', async () => {
    const files = { 'compose.yaml': yaml('services:', '  base:', '    image: busybox', '  cli:', '    extends: bsae') };
    expect(await issueOf(files)).toBe("compose.yaml:5:14 services.cli.extends: service 'bsae' is not defined; did you mean 'base'?");
  });

  it('reports a base file that does not exist at the line naming it', async () => {
    const files = { 'compose.yaml': yaml('services:', '  cli:', '    extends:', '      file: common.yaml', '      service: base') };
    expect(await issueOf(files)).toBe('compose.yaml:4:13 services.cli.extends.file: Compose file common.yaml does not exist');
  });

  it('reports a service missing from the other file, naming the file', async () => {
    const files = {
      'compose.yaml': yaml('services:', '  cli:', '    extends:', '      file: common.yaml', '      service: base'),
      'common.yaml': yaml('services:', '  other:', '    image: x'),
    };
    expect(await issueOf(files)).toBe("compose.yaml:5:16 services.cli.extends.service: service 'base' is not defined in common.yaml");
  });

  it('reports a cycle', async () => {
    const files = { 'compose.yaml': yaml('services:', '  a:', '    extends: b', '  b:', '    extends: c', '  c:', '    extends: a') };
    expect(await issuesOf(files)).toEqual(['compose.yaml:7:14 services.c.extends: extends cycle: a -> b -> c -> a']);
  });

  it('reports syntax errors in the extended file', async () => {
    const files = {
      'compose.yaml': yaml('services:', '  cli:', '    extends:', '      file: common.yaml', '      service: base'),
      'common.yaml': yaml('services:', '  base:', '\timage: x'),
    };
    expect(await issueOf(files)).toBe('common.yaml:3:1 invalid YAML: a tab is used for indentation; YAML only allows spaces');
  });
});
