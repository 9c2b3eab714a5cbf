/** What a service becomes: defaults applied, every short form expanded, every path absolute. */
import { describe, expect, it } from 'vitest';
import { load, yaml } from './helpers.js';

async function service(...lines: string[]) {
  const { stack, dir, warnings } = await load({ 'compose.yaml': yaml('name: shop', 'services:', '  api:', ...lines), 'app.env': 'FROM_FILE=1\n' }, { env: { SHELL_VAR: 'from-shell' } });
  const api = stack.services['api'];
  if (!api) throw new Error('no api service');
  return { api, stack, dir, warnings };
}

describe('resolved services', () => {
  it('apply Compose defaults to a minimal service', async () => {
    const { api } = await service('    image: nginx');
    expect(api).toEqual({
      name: 'api',
      image: 'nginx',
      environment: {},
      ports: [],
      expose: [],
      volumes: [],
      networks: { default: { aliases: [] } },
      dependsOn: {},
      restart: 'no',
      replicas: 1,
      labels: {},
      stopGracePeriod: '10s',
      secrets: [],
      configs: [],
      extraHosts: [],
      capAdd: [],
      capDrop: [],
      readOnly: false,
      privileged: false,
      tty: false,
      stdinOpen: false,
      ulimits: {},
      pullPolicy: 'missing',
      profiles: [],
      flotilla: { tests: {} },
      extensions: {},
    });
  });

  it('read an empty list or mapping (everything commented out) as none', async () => {
    const { api } = await service('    image: nginx', '    ports:', '      # - "80:80"', '    environment:', '    depends_on:');
    expect(api.ports).toEqual([]);
    expect(api.environment).toEqual({});
    expect(api.dependsOn).toEqual({});
  });

  it('split a string command like a shell and keep a list as it is', async () => {
    const { api } = await service('    image: nginx', `    command: sh -c 'nginx -g "daemon off;"'`, '    entrypoint: ["/docker-entrypoint.sh"]');
    expect(api.command).toEqual(['sh', '-c', 'nginx -g "daemon off;"']);
    expect(api.entrypoint).toEqual(['/docker-entrypoint.sh']);
  });

  it('build the environment from env_file, then environment, bare keys from the shell or dropped', async () => {
    const { api } = await service('    image: nginx', '    env_file: app.env', '    environment:', '      - A=1', '      - SHELL_VAR', '      - NOT_SET', '      - EMPTY=');
    expect(api.environment).toEqual({ FROM_FILE: '1', A: '1', SHELL_VAR: 'from-shell', EMPTY: '' });
  });

  it('read a long build with args and labels in either form', async () => {
    const { api, dir } = await service('    build:', '      context: ./api', '      dockerfile: docker/Dockerfile', '      target: prod', '      args: [VERSION=1.2, SHELL_VAR, UNSET]', '      labels:', '        team: shop');
    expect(api.build).toEqual({ context: `${dir}/api`, dockerfile: 'docker/Dockerfile', target: 'prod', args: { VERSION: '1.2', SHELL_VAR: 'from-shell' }, labels: { team: 'shop' } });
    expect(api.image).toBe('shop-api');
  });

  it('default a build mapping without context to the project directory', async () => {
    const { api, dir } = await service('    build:', '      dockerfile: Dockerfile.dev');
    expect(api.build).toEqual({ context: dir, dockerfile: 'Dockerfile.dev', args: {}, labels: {} });
  });

  it('keep a git build context as written', async () => {
    const { api } = await service('    build: https://github.com/docker/example.git#main');
    expect(api.build?.context).toBe('https://github.com/docker/example.git#main');
  });

  it('expand a healthcheck with its defaults; a string test is CMD-SHELL', async () => {
    const { api } = await service('    image: nginx', '    healthcheck:', '      test: curl -f http://localhost || exit 1', '      interval: 5s');
    expect(api.healthcheck).toEqual({ disable: false, test: ['CMD-SHELL', 'curl -f http://localhost || exit 1'], interval: '5s', timeout: '30s', retries: 3, startPeriod: '0s', startInterval: '5s' });
  });

  it('default every healthcheck timing as Compose does', async () => {
    const { api } = await service('    image: nginx', '    healthcheck:', '      test: ["CMD", "true"]');
    expect(api.healthcheck).toEqual({ disable: false, test: ['CMD', 'true'], interval: '30s', timeout: '30s', retries: 3, startPeriod: '0s', startInterval: '5s' });
  });

  it('keep the image test (an empty test) when only timings are given', async () => {
    const { api } = await service('    image: nginx', '    healthcheck:', '      interval: 1m');
    expect(api.healthcheck).toMatchObject({ disable: false, test: [], interval: '1m' });
  });

  it('treat test: ["NONE"] and disable: true alike', async () => {
    expect((await service('    image: nginx', '    healthcheck:', '      test: ["NONE"]')).api.healthcheck).toEqual({ disable: true });
    expect((await service('    image: nginx', '    healthcheck:', '      disable: true')).api.healthcheck).toEqual({ disable: true });
  });

  it('fill depends_on defaults in both forms', async () => {
    const { stack } = await load({
      'compose.yaml': yaml(
        'services:',
        '  api:',
        '    image: x',
        '    depends_on:',
        '      db: { condition: service_healthy, restart: true }',
        '      migrate: { condition: service_completed_successfully }',
        '  worker:',
        '    image: x',
        '    depends_on: [db]',
        '  db:',
        '    image: postgres',
        '    healthcheck: { test: pg_isready }',
        '  migrate:',
        '    image: x',
      ),
    });
    expect(stack.services['api']?.dependsOn).toEqual({
      db: { condition: 'service_healthy', restart: true, required: true },
      migrate: { condition: 'service_completed_successfully', restart: false, required: true },
    });
    expect(stack.services['worker']?.dependsOn).toEqual({ db: { condition: 'service_started', restart: false, required: true } });
  });

  it('make network_mode service:x a dependency on x', async () => {
    const { stack } = await load({ 'compose.yaml': yaml('services:', '  app:', '    image: x', '    network_mode: service:vpn', '  vpn:', '    image: wireguard') });
    expect(stack.services['app']?.dependsOn).toEqual({ vpn: { condition: 'service_started', restart: false, required: true } });
    expect(stack.services['app']?.networks).toEqual({});
  });

  it('read networks with aliases and addresses', async () => {
    const { api } = await service('    image: nginx', '    networks:', '      front:', '        aliases: [web, www]', '        ipv4_address: 172.20.0.5', '      back:', 'networks:', '  front:', '  back:');
    expect(api.networks).toEqual({ front: { aliases: ['web', 'www'], ipv4Address: '172.20.0.5' }, back: { aliases: [] } });
  });

  it('read deploy with defaults, CPUs as text, memory as bytes', async () => {
    const { api } = await service(
      '    image: nginx',
      '    deploy:',
      '      replicas: 3',
      '      resources:',
      '        limits: { cpus: "0.5", memory: 512M, pids: 100 }',
      '        reservations: { cpus: 0.25, memory: 1g }',
      '      restart_policy: { max_attempts: 3 }',
      '      update_config: { parallelism: 2, order: start-first }',
      '      rollback_config: {}',
      '      placement:',
      '        constraints: [node.role == worker]',
      '      labels: [tier=web]',
    );
    expect(api.replicas).toBe(3);
    expect(api.deploy).toEqual({
      mode: 'replicated',
      replicas: 3,
      resources: { limits: { cpus: 0.5, memory: 536870912, pids: 100 }, reservations: { cpus: 0.25, memory: 1073741824 } },
      restartPolicy: { condition: 'any', maxAttempts: 3 },
      updateConfig: { parallelism: 2, delay: '0s', failureAction: 'pause', monitor: '0s', maxFailureRatio: 0, order: 'start-first' },
      rollbackConfig: { parallelism: 1, delay: '0s', failureAction: 'pause', monitor: '0s', maxFailureRatio: 0, order: 'stop-first' },
      labels: { tier: 'web' },
      placement: { constraints: ['node.role == worker'], preferences: [] },
    });
  });

  it('read secrets and configs in both forms, with default targets and octal modes', async () => {
    const { api, stack, dir } = await service(
      '    image: nginx',
      '    secrets:',
      '      - db_password',
      '      - source: api_key',
      '        target: key.txt',
      '        uid: "1000"',
      '        mode: 0440',
      '    configs:',
      '      - nginx_conf',
      'secrets:',
      '  db_password:',
      '    file: ./secrets/db.txt',
      '  api_key:',
      '    environment: API_KEY',
      'configs:',
      '  nginx_conf:',
      '    content: |',
      '      server {}',
    );
    expect(api.secrets).toEqual([
      { source: 'db_password', target: '/run/secrets/db_password' },
      { source: 'api_key', target: '/run/secrets/key.txt', uid: '1000', mode: 0o440 },
    ]);
    expect(api.configs).toEqual([{ source: 'nginx_conf', target: '/nginx_conf' }]);
    expect(stack.secrets).toEqual({
      api_key: { name: 'shop_api_key', external: false, environment: 'API_KEY' },
      db_password: { name: 'shop_db_password', external: false, file: `${dir}/secrets/db.txt` },
    });
    expect(stack.configs).toEqual({ nginx_conf: { name: 'shop_nginx_conf', external: false, content: 'server {}\n' } });
  });

  it('read extra_hosts in list and map forms', async () => {
    expect((await service('    image: nginx', '    extra_hosts: ["db=10.0.0.5", "legacy:10.0.0.6", "v6=[::1]", "gw=host-gateway"]')).api.extraHosts).toEqual([
      { host: 'db', ip: '10.0.0.5' },
      { host: 'legacy', ip: '10.0.0.6' },
      { host: 'v6', ip: '::1' },
      { host: 'gw', ip: 'host-gateway' },
    ]);
    expect((await service('    image: nginx', '    extra_hosts:', '      db: 10.0.0.5')).api.extraHosts).toEqual([{ host: 'db', ip: '10.0.0.5' }]);
  });

  it('read the remaining settings', async () => {
    const { api } = await service(
      '    image: nginx',
      '    restart: on-failure:3',
      '    user: 1000',
      '    working_dir: /srv',
      '    init: true',
      '    stop_signal: SIGQUIT',
      '    stop_grace_period: 1m30s',
      '    hostname: api-1',
      '    domainname: shop.local',
      '    cap_add: [NET_ADMIN, NET_ADMIN]',
      '    cap_drop: [ALL]',
      '    read_only: true',
      '    privileged: false',
      '    tty: yes',
      '    stdin_open: true',
      '    ulimits: { nofile: 65535, nproc: { soft: 10, hard: 20 } }',
      '    logging: { driver: json-file, options: { max-size: 10m, max-file: 3 } }',
      '    pull_policy: if_not_present',
      '    labels: ["com.example.team=shop", "com.example.flag"]',
      '    expose: [3000, "9000/udp"]',
      '    x-notes: keep me',
    );
    expect(api).toMatchObject({
      restart: 'on-failure:3',
      user: '1000',
      workingDir: '/srv',
      init: true,
      stopSignal: 'SIGQUIT',
      stopGracePeriod: '1m30s',
      hostname: 'api-1',
      domainname: 'shop.local',
      capAdd: ['NET_ADMIN'],
      capDrop: ['ALL'],
      readOnly: true,
      privileged: false,
      tty: true,
      stdinOpen: true,
      ulimits: { nofile: { soft: 65535, hard: 65535 }, nproc: { soft: 10, hard: 20 } },
      logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
      pullPolicy: 'missing',
      labels: { 'com.example.team': 'shop', 'com.example.flag': '' },
      expose: ['3000', '9000/udp'],
      extensions: { 'x-notes': 'keep me' },
    });
  });

  it('warn about Compose keys Flotilla ignores', async () => {
    const { warnings } = await service('    image: nginx', '    container_name: my-api', '    build:', '      context: .', '      cache_from: [x]');
    expect(warnings).toEqual([
      "compose.yaml:5:5 services.api.container_name: 'container_name' is not supported by Flotilla yet and is ignored",
      "compose.yaml:8:7 services.api.build.cache_from: 'cache_from' is not supported by Flotilla yet and is ignored",
    ]);
  });

  it('read top-level networks, volumes, secrets and configs with their defaults', async () => {
    const { stack } = await load({
      'compose.yaml': yaml(
        'name: shop',
        'services: {}',
        'networks:',
        '  back:',
        '    driver: bridge',
        '    internal: true',
        '    driver_opts: { com.docker.network.bridge.name: br-shop }',
        '    ipam:',
        '      config:',
        '        - subnet: 172.28.0.0/16',
        '          gateway: 172.28.0.1',
        '    labels: [tier=back]',
        '  legacy:',
        '    external:',
        '      name: corp-net',
        'volumes:',
        '  data:',
        '    driver_opts: { type: nfs }',
        'secrets:',
        '  token:',
        '    external: true',
        'configs:',
        '  app:',
        '    environment: APP_CONFIG',
      ),
    });
    expect(stack.networks).toEqual({
      back: {
        name: 'shop_back',
        external: false,
        driver: 'bridge',
        driverOpts: { 'com.docker.network.bridge.name': 'br-shop' },
        internal: true,
        attachable: false,
        enableIpv6: false,
        ipam: { config: [{ subnet: '172.28.0.0/16', gateway: '172.28.0.1' }] },
        labels: { tier: 'back' },
      },
      legacy: { name: 'corp-net', external: true, driver: 'bridge', driverOpts: {}, internal: false, attachable: false, enableIpv6: false, labels: {} },
    });
    expect(stack.volumes).toEqual({ data: { name: 'shop_data', external: false, driver: 'local', driverOpts: { type: 'nfs' }, labels: {} } });
    expect(stack.secrets).toEqual({ token: { name: 'token', external: true } });
    expect(stack.configs).toEqual({ app: { name: 'shop_app', external: false, environment: 'APP_CONFIG' } });
  });

  it('read x-flotilla settings and keep other top-level x- keys', async () => {
    const { stack } = await load({ 'compose.yaml': yaml('x-common: &common', '  image: nginx', 'services:', '  api:', '    <<: *common', 'x-flotilla:', '  wait_timeout: 2m') });
    expect(stack.flotilla).toEqual({ waitTimeoutSeconds: 120, telemetry: { enabled: true } });
    expect(stack.extensions).toEqual({ 'x-common': { image: 'nginx' } });
    expect(stack.services['api']?.image).toBe('nginx');
  });
});
