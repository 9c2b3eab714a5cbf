/** -f overlays, merged by the Compose merge rules. */
import { describe, expect, it } from 'vitest';
import { issuesOf, load, yaml } from './helpers.js';

const base = yaml(
  'services:',
  '  api:',
  '    image: shop/api:1.0',
  '    command: ["serve", "--port", "80"]',
  '    environment:',
  '      LOG_LEVEL: info',
  '      REGION: eu',
  '    labels: ["team=shop"]',
  '    ports: ["8080:80", "9090:90"]',
  '    volumes: ["data:/data", "./conf:/etc/api:ro"]',
  '    cap_add: [NET_ADMIN]',
  '    healthcheck:',
  '      test: ["CMD", "curl", "-f", "http://localhost"]',
  '      interval: 10s',
  '    depends_on: [db]',
  '  db:',
  '    image: postgres:16',
  'volumes:',
  '  data:',
  '  cache:',
);

const override = yaml(
  'services:',
  '  api:',
  '    image: shop/api:2.0',
  '    command: ["serve"]',
  '    environment:',
  '      - LOG_LEVEL=debug',
  '      - EXTRA=1',
  '    labels:',
  '      tier: web',
  '    ports: ["8080:80", "127.0.0.1:7000:70"]',
  '    volumes: ["cache:/data"]',
  '    cap_add: [NET_ADMIN, SYS_TIME]',
  '    healthcheck:',
  '      test: ["CMD", "true"]',
  '    depends_on:',
  '      cache:',
  '        condition: service_started',
  '  cache:',
  '    image: redis:7',
);

describe('merging -f files', () => {
  it('follows the spec: scalars replaced, commands replaced, maps merged across list/map forms, sequences appended by identity', async () => {
    const { stack } = await load({ 'compose.yaml': base, 'compose.override.yaml': override }, { files: ['compose.yaml', 'compose.override.yaml'] });
    const api = stack.services['api'];
    expect(api?.image).toBe('shop/api:2.0');
    expect(api?.command).toEqual(['serve']);
    expect(api?.environment).toEqual({ LOG_LEVEL: 'debug', REGION: 'eu', EXTRA: '1' });
    expect(api?.labels).toEqual({ team: 'shop', tier: 'web' });
    expect(api?.ports.map((p) => `${p.hostIp ?? ''}:${p.published ?? ''}:${p.target}`)).toEqual([':8080:80', ':9090:90', '127.0.0.1:7000:70']);
    expect(api?.volumes.map((v) => `${v.type}:${'source' in v ? (v.source ?? '') : ''}:${v.target}`)).toEqual([
      'volume:cache:/data',
      `bind:${stack.workingDir}/conf:/etc/api`,
    ]);
    expect(api?.capAdd).toEqual(['NET_ADMIN', 'SYS_TIME']);
    expect(api?.healthcheck).toMatchObject({ test: ['CMD', 'true'], interval: '10s' });
    expect(Object.keys(api?.dependsOn ?? {})).toEqual(['db', 'cache']);
    expect(Object.keys(stack.services)).toEqual(['api', 'cache', 'db']);
  });

  it('picks up compose.override.yaml beside compose.yaml when no -f is given', async () => {
    const { stack } = await load({ 'compose.yaml': base, 'compose.override.yaml': override });
    expect(stack.services['api']?.image).toBe('shop/api:2.0');
    expect(stack.files.map((file) => file.split('/').pop())).toEqual(['compose.yaml', 'compose.override.yaml']);
  });

  it('resolves relative paths in every file against the first file’s directory', async () => {
    const { stack, dir } = await load(
      { 'compose.yaml': yaml('services:', '  api:', '    build: ./api'), 'overrides/dev.yaml': yaml('services:', '  api:', '    volumes: ["./src:/src"]') },
      { files: ['compose.yaml', 'overrides/dev.yaml'] },
    );
    expect(stack.services['api']?.build?.context).toBe(`${dir}/api`);
    expect(stack.services['api']?.volumes).toEqual([{ type: 'bind', source: `${dir}/src`, target: '/src', readOnly: false, createHostPath: true }]);
  });

  it('keeps the base build context when an overlay changes only the dockerfile', async () => {
    const { stack, dir } = await load(
      { 'compose.yaml': yaml('services:', '  api:', '    build: ./api'), 'dev.yaml': yaml('services:', '  api:', '    build:', '      dockerfile: Dockerfile.dev') },
      { files: ['compose.yaml', 'dev.yaml'] },
    );
    expect(stack.services['api']?.build).toEqual({ context: `${dir}/api`, dockerfile: 'Dockerfile.dev', args: {}, labels: {} });
  });

  it('honours !reset and !override', async () => {
    const { stack } = await load(
      {
        'compose.yaml': base,
        'reset.yaml': yaml('services:', '  api:', '    ports: !override ["8443:443"]', '    environment:', '      REGION: !reset null', '    cap_add: !reset []'),
      },
      { files: ['compose.yaml', 'reset.yaml'] },
    );
    const api = stack.services['api'];
    expect(api?.ports).toEqual([{ target: 443, published: '8443', protocol: 'tcp', mode: 'ingress' }]);
    expect(api?.environment).toEqual({ LOG_LEVEL: 'info' });
    expect(api?.capAdd).toEqual([]);
  });

  it('reports problems in the overlay at the overlay’s position', async () => {
    const issues = await issuesOf({ 'compose.yaml': base, 'prod.yaml': yaml('services:', '  api:', '    ports: ["80:80:80"]', '    restart: alway') }, { files: ['compose.yaml', 'prod.yaml'] });
    expect(issues).toEqual([
      "prod.yaml:3:13 services.api.ports[2]: invalid port '80:80:80': '80' is not an IP address; expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], like \"8080:80\" or \"127.0.0.1:8080:80/udp\"",
      "prod.yaml:4:14 services.api.restart: expected one of 'no', 'always', 'on-failure', 'on-failure:N', 'unless-stopped', found 'alway'",
    ]);
  });
});
