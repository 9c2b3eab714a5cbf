/** Finding the files, naming the project, and where relative paths point. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { loadStack } from '../../../src/spec/index.js';
import { HOME, load, writeProject, yaml } from './helpers.js';

const minimal = yaml('services:', '  api:', '    image: nginx');

describe('finding Compose files', () => {
  it('finds compose.yaml in a parent directory and resolves paths against it', async () => {
    const dir = await writeProject({ 'compose.yaml': yaml('services:', '  api:', '    build: ./api'), 'api/src/main.ts': '' });
    const stack = await loadStack({ cwd: path.join(dir, 'api', 'src'), env: { HOME } });
    expect(stack.files).toEqual([path.join(dir, 'compose.yaml')]);
    expect(stack.workingDir).toBe(dir);
    expect(stack.services['api']?.build?.context).toBe(path.join(dir, 'api'));
  });

  it('prefers compose.yaml over docker-compose.yml and says so', async () => {
    const { stack, warnings } = await load({ 'compose.yaml': minimal, 'docker-compose.yml': yaml('services:', '  old:', '    image: x') });
    expect(Object.keys(stack.services)).toEqual(['api']);
    expect(warnings).toEqual(['found several Compose files in <dir> (compose.yaml, docker-compose.yml); using compose.yaml']);
  });

  it('reads COMPOSE_FILE, colon-separated, when there is no -f', async () => {
    const { stack } = await load(
      { 'base.yaml': minimal, 'extra.yaml': yaml('services:', '  api:', '    user: "1000"') },
      { env: { COMPOSE_FILE: 'base.yaml:extra.yaml' } },
    );
    expect(stack.services['api']?.user).toBe('1000');
  });

  it('reads COMPOSE_FILE from .env', async () => {
    const { stack } = await load({ 'stack.yaml': minimal, '.env': 'COMPOSE_FILE=stack.yaml\n' });
    expect(Object.keys(stack.services)).toEqual(['api']);
  });

  it('resolves against --project-directory when given', async () => {
    const dir = await writeProject({ 'deploy/compose.yaml': yaml('services:', '  api:', '    build: ./api') });
    await mkdir(path.join(dir, 'api'));
    const stack = await loadStack({ cwd: dir, files: ['deploy/compose.yaml'], projectDirectory: '.', env: { HOME } });
    expect(stack.services['api']?.build?.context).toBe(path.join(dir, 'api'));
    expect(stack.name).toBe('project');
  });

  it('expands ~ in paths to the home directory', async () => {
    const { stack } = await load({ 'compose.yaml': yaml('services:', '  api:', '    image: nginx', '    volumes: ["~/.aws:/root/.aws:ro"]') });
    expect(stack.services['api']?.volumes).toEqual([{ type: 'bind', source: `${HOME}/.aws`, target: '/root/.aws', readOnly: true, createHostPath: true }]);
  });
});

describe('project name', () => {
  it('comes from the directory, normalized', async () => {
    const dir = await writeProject({});
    const sub = path.join(dir, 'My Shop.v2');
    await mkdir(sub);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(sub, 'compose.yaml'), minimal);
    const stack = await loadStack({ cwd: sub, env: { HOME } });
    expect(stack.name).toBe('myshopv2');
    expect(stack.services['api']?.image).toBe('nginx');
  });

  it('comes from name: over the directory, from COMPOSE_PROJECT_NAME over name:, and from -p over both', async () => {
    const files = { 'compose.yaml': `name: from-file\n${minimal}` };
    expect((await load(files)).stack.name).toBe('from-file');
    expect((await load(files, { env: { COMPOSE_PROJECT_NAME: 'from-env' } })).stack.name).toBe('from-env');
    expect((await load(files, { env: { COMPOSE_PROJECT_NAME: 'from-env' }, projectName: 'from-flag' })).stack.name).toBe('from-flag');
  });

  it('rejects an invalid -p with a suggestion', async () => {
    const error = await load({ 'compose.yaml': minimal }, { projectName: 'My_App' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      "invalid project name 'My_App' (-p): use only lowercase letters, digits, '-' and '_', starting with a letter or digit; try 'my_app'",
    );
  });

  it('names the image of a build-only service after the project and service', async () => {
    const { stack } = await load({ 'compose.yaml': yaml('name: shop', 'services:', '  cart-api:', '    build: .', '  Admin.UI:', '    build: .') });
    expect(stack.services['cart-api']?.image).toBe('shop-cart-api');
    expect(stack.services['Admin.UI']?.image).toBe('shop-admin.ui');
  });

  it('prefixes networks and volumes with the project name unless named or external', async () => {
    const { stack } = await load({
      'compose.yaml': yaml(
        'name: shop',
        'services:',
        '  api:',
        '    image: nginx',
        '    networks: [front, legacy]',
        'networks:',
        '  front:',
        '  legacy:',
        '    external: true',
        '  named:',
        '    name: custom-net',
        'volumes:',
        '  data:',
        '  old:',
        '    external: true',
      ),
    });
    expect(Object.fromEntries(Object.entries(stack.networks).map(([key, n]) => [key, n.name]))).toEqual({ front: 'shop_front', legacy: 'legacy', named: 'custom-net' });
    expect(Object.fromEntries(Object.entries(stack.volumes).map(([key, v]) => [key, v.name]))).toEqual({ data: 'shop_data', old: 'old' });
  });

  it('adds the default network only when a service uses it', async () => {
    const withDefault = await load({ 'compose.yaml': yaml('name: shop', 'services:', '  api:', '    image: nginx') });
    expect(withDefault.stack.networks).toEqual({
      default: { name: 'shop_default', external: false, driver: 'bridge', driverOpts: {}, internal: false, attachable: false, enableIpv6: false, labels: {} },
    });
    const hostOnly = await load({ 'compose.yaml': yaml('name: shop', 'services:', '  api:', '    image: nginx', '    network_mode: host') });
    expect(hostOnly.stack.networks).toEqual({});
    expect(hostOnly.stack.services['api']?.networks).toEqual({});
  });

  it('warns that version is obsolete', async () => {
    const { warnings } = await load({ 'compose.yaml': `version: "3.9"\n${minimal}` });
    expect(warnings).toEqual(["compose.yaml:1:1 version: the top-level 'version' is obsolete and ignored"]);
  });
});
