/** include: other Compose projects pulled into this one. */
import { describe, expect, it } from 'vitest';
import { issueOf, load, yaml } from './helpers.js';

describe('include', () => {
  it('adds the included resources, with paths resolved against the included file’s directory', async () => {
    const { stack, dir } = await load({
      'compose.yaml': yaml('include:', '  - db/compose.yaml', 'services:', '  api:', '    build: .', '    depends_on: [db]'),
      'db/compose.yaml': yaml('services:', '  db:', '    image: postgres:16', '    volumes: ["./init:/docker-entrypoint-initdb.d", "pgdata:/var/lib/postgresql/data"]', 'volumes:', '  pgdata:'),
    });
    expect(Object.keys(stack.services)).toEqual(['api', 'db']);
    expect(stack.services['db']?.volumes[0]).toEqual({ type: 'bind', source: `${dir}/db/init`, target: '/docker-entrypoint-initdb.d', readOnly: false, createHostPath: true });
    expect(stack.services['api']?.build?.context).toBe(dir);
    expect(stack.volumes['pgdata']?.name).toBe('project_pgdata');
    expect(stack.files).toEqual([`${dir}/db/compose.yaml`, `${dir}/compose.yaml`]);
  });

  it('interpolates the included file with its own .env, overridden by the including project’s environment', async () => {
    const { stack } = await load({
      'compose.yaml': yaml('include:', '  - path: db/compose.yaml', 'services: {}'),
      '.env': 'DB_TAG=from-parent\n',
      'db/compose.yaml': yaml('services:', '  db:', '    image: "postgres:${DB_TAG}"', '    environment:', '      POSTGRES_DB: ${DB_NAME}'),
      'db/.env': yaml('DB_TAG=from-child', 'DB_NAME=shop'),
    });
    expect(stack.services['db']).toMatchObject({ image: 'postgres:from-parent', environment: { POSTGRES_DB: 'shop' } });
  });

  it('accepts the long form with project_directory and env_file', async () => {
    const { stack, dir } = await load({
      'compose.yaml': yaml('include:', '  - path: [stacks/mq.yaml, stacks/mq.dev.yaml]', '    project_directory: stacks/mq', '    env_file: stacks/mq.env'),
      'stacks/mq.yaml': yaml('services:', '  mq:', '    image: "rabbitmq:${MQ_TAG}"', '    volumes: ["./data:/var/lib/rabbitmq"]'),
      'stacks/mq.dev.yaml': yaml('services:', '  mq:', '    ports: ["15672:15672"]'),
      'stacks/mq.env': 'MQ_TAG=3-management\n',
    });
    const mq = stack.services['mq'];
    expect(mq?.image).toBe('rabbitmq:3-management');
    expect(mq?.volumes[0]).toMatchObject({ source: `${dir}/stacks/mq/data` });
    expect(mq?.ports).toHaveLength(1);
  });

  it('reports a service defined both here and in the included file', async () => {
    const files = {
      'compose.yaml': yaml('include:', '  - db.yaml', 'services:', '  db:', '    image: mysql'),
      'db.yaml': yaml('services:', '  db:', '    image: postgres'),
    };
    expect(await issueOf(files)).toMatch(/^compose\.yaml:4:3 services\.db: service 'db' conflicts with the service of the same name in included file .*db\.yaml:2:3$/);
  });

  it('allows the same network declared identically on both sides', async () => {
    const { stack } = await load({
      'compose.yaml': yaml('include:', '  - db.yaml', 'services:', '  api:', '    image: x', '    networks: [shared]', 'networks:', '  shared:', '    external: true'),
      'db.yaml': yaml('services:', '  db:', '    image: postgres', '    networks: [shared]', 'networks:', '  shared:', '    external: true'),
    });
    expect(stack.networks['shared']).toMatchObject({ name: 'shared', external: true });
  });

  it('reports an included file that does not exist at the include line', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('include:', '  - missing/compose.yaml', 'services: {}') })).toBe(
      'compose.yaml:2:5 include[0]: Compose file missing/compose.yaml does not exist',
    );
  });

  it('reports an include cycle', async () => {
    const files = { 'compose.yaml': yaml('include: [a.yaml]', 'services: {}'), 'a.yaml': yaml('include: [compose.yaml]', 'services: {}') };
    expect(await issueOf(files)).toBe('a.yaml:1:11 include[0]: include cycle: compose.yaml -> a.yaml -> compose.yaml');
  });

  it('reports an unknown key in the long form', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('include:', '  - path: db.yaml', '    env: db.env', 'services: {}'), 'db.yaml': 'services: {}\n' })).toBe(
      "compose.yaml:3:5 include[0].env: unknown key 'env' (allowed: path, project_directory, env_file)",
    );
  });
});
