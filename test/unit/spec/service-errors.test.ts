/** Mistakes inside services: each names the file, line, column, key path, what was expected and what was found. */
import { describe, expect, it } from 'vitest';
import { issueOf, issuesOf, yaml } from './helpers.js';

/** A compose.yaml with one service `api` whose settings are `lines` (indented by the caller at 4 spaces). */
function api(...lines: string[]): Record<string, string> {
  return { 'compose.yaml': yaml('services:', '  api:', '    image: nginx', ...lines) };
}

describe('unknown keys', () => {
  it('suggests the closest service key', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services:', '  api:', '    imgae: nginx') })).toBe(
      "compose.yaml:3:5 services.api.imgae: unknown key 'imgae'; did you mean 'image'?",
    );
  });

  it('suggests for a nested key', async () => {
    expect(await issueOf(api('    healthcheck:', '      test: ["CMD", "true"]', '      intervall: 5s'))).toBe(
      "compose.yaml:6:7 services.api.healthcheck.intervall: unknown key 'intervall'; did you mean 'interval'?",
    );
  });

  it('lists the allowed keys when nothing is close', async () => {
    expect(await issueOf(api('    logging:', '      kind: json-file'))).toBe("compose.yaml:5:7 services.api.logging.kind: unknown key 'kind' (allowed: driver, options)");
  });

  it('reports a typo in a port mapping in flow style at its column', async () => {
    expect(await issueOf(api('    ports:', '      - { target: 80, publised: 8080 }'))).toBe(
      "compose.yaml:5:23 services.api.ports[0].publised: unknown key 'publised'; did you mean 'published'?",
    );
  });

  it('reports unknown keys under x-flotilla with a suggestion', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services: {}', 'x-flotilla:', '  wait_timout: 10s') })).toBe(
      "compose.yaml:3:3 x-flotilla.wait_timout: unknown key 'wait_timout'; did you mean 'wait_timeout'?",
    );
  });

  it('reports unknown keys under a service x-flotilla with a suggestion', async () => {
    expect(await issueOf(api('    x-flotilla:', '      test: {}'))).toBe(
      "compose.yaml:5:7 services.api.x-flotilla.test: unknown key 'test'; did you mean 'tests'?",
    );
  });

  it('accepts other x- keys anywhere and keeps them', async () => {
    expect(await issuesOf(api('    x-team: payments', '    imgae: oops'))).toEqual([
      "compose.yaml:5:5 services.api.imgae: unknown key 'imgae'; did you mean 'image'?",
    ]);
  });
});

describe('wrong types', () => {
  it('ports given as a single number', async () => {
    expect(await issueOf(api('    ports: 8080'))).toBe('compose.yaml:4:12 services.api.ports: expected a list, found 8080');
  });

  it('environment given as one string', async () => {
    expect(await issueOf(api('    environment: DEBUG=1'))).toBe(
      "compose.yaml:4:18 services.api.environment: expected a mapping or a list of KEY=VALUE strings, found 'DEBUG=1'",
    );
  });

  it('a list where a mapping is expected', async () => {
    expect(await issueOf(api('    deploy:', '      - replicas: 2'))).toBe('compose.yaml:5:7 services.api.deploy: expected a mapping, found a list');
  });

  it('a mapping where a list is expected', async () => {
    expect(await issueOf(api('    cap_add:', '      NET_ADMIN: true'))).toBe('compose.yaml:5:7 services.api.cap_add: expected a list, found a mapping');
  });

  it('a boolean that is not one', async () => {
    expect(await issueOf(api('    privileged: maybe'))).toBe("compose.yaml:4:17 services.api.privileged: expected true or false, found 'maybe'");
  });

  it('a negative count', async () => {
    expect(await issueOf(api('    scale: -1'))).toBe('compose.yaml:4:12 services.api.scale: expected a number of at least 0, found -1');
  });

  it('a number of replicas that is not a number', async () => {
    expect(await issueOf(api('    deploy:', '      replicas: two'))).toBe("compose.yaml:5:17 services.api.deploy.replicas: expected an integer, found 'two'");
  });

  it('a duration without a unit', async () => {
    expect(await issueOf(api('    stop_grace_period: 10'))).toBe('compose.yaml:4:24 services.api.stop_grace_period: expected a duration like 10s or 1m30s, found 10');
  });

  it('an enum value with a typo, with a suggestion', async () => {
    const files = { 'compose.yaml': yaml('services:', '  api:', '    image: nginx', '    depends_on:', '      db:', '        condition: service_healty', '  db:', '    image: postgres') };
    expect(await issueOf(files)).toBe(
      "compose.yaml:6:20 services.api.depends_on.db.condition: expected one of 'service_started', 'service_healthy', 'service_completed_successfully', found 'service_healty'; did you mean 'service_healthy'?",
    );
  });

  it('a build key with nothing after it', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services:', '  api:', '    build:') })).toBe(
      'compose.yaml:3:5 services.api.build: expected a build context path or a mapping with context, found an empty value',
    );
  });

  it('a restart policy Compose does not know', async () => {
    expect(await issueOf(api('    restart: sometimes'))).toBe(
      "compose.yaml:4:14 services.api.restart: expected one of 'no', 'always', 'on-failure', 'on-failure:N', 'unless-stopped', found 'sometimes'",
    );
  });

  it('reports every problem of a service, not just the first', async () => {
    expect(await issuesOf(api('    imgae: x', '    ports: [70000]', '    privileged: maybe'))).toEqual([
      "compose.yaml:4:5 services.api.imgae: unknown key 'imgae'; did you mean 'image'?",
      'compose.yaml:5:13 services.api.ports[0]: port 70000 is out of range; expected 1-65535',
      "compose.yaml:6:17 services.api.privileged: expected true or false, found 'maybe'",
    ]);
  });
});

describe('ports', () => {
  it('a container port out of range', async () => {
    expect(await issueOf(api('    ports:', '      - "8080:80000"'))).toBe(
      "compose.yaml:5:9 services.api.ports[0]: invalid port '8080:80000': container port 80000 is out of range; expected 1-65535",
    );
  });

  it('three numbers where the first should be an IP', async () => {
    expect(await issueOf(api('    ports: ["8080:80:90"]'))).toBe(
      `compose.yaml:4:13 services.api.ports[0]: invalid port '8080:80:90': '8080' is not an IP address; expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], like "8080:80" or "127.0.0.1:8080:80/udp"`,
    );
  });

  it('ranges of different lengths', async () => {
    expect(await issueOf(api('    ports: ["8080-8082:80-81"]'))).toBe(
      "compose.yaml:4:13 services.api.ports[0]: invalid port '8080-8082:80-81': 3 host ports for 2 container ports; the two ranges must be the same length",
    );
  });

  it('an unknown protocol', async () => {
    expect(await issueOf(api('    ports: ["53:53/dns"]'))).toBe("compose.yaml:4:13 services.api.ports[0]: invalid port '53:53/dns': unknown protocol 'dns'; expected tcp, udp or sctp");
  });

  it('a long-form port without target', async () => {
    expect(await issueOf(api('    ports:', '      - published: 8080'))).toBe("compose.yaml:5:9 services.api.ports[0]: missing required key 'target'");
  });

  it('a range that runs backwards', async () => {
    expect(await issueOf(api('    ports: ["9000-8000:80"]'))).toBe("compose.yaml:4:13 services.api.ports[0]: invalid port '9000-8000:80': host port range '9000-8000' ends before it starts");
  });
});

describe('volumes', () => {
  it('a named volume that is not declared, with a suggestion', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services:', '  db:', '    image: postgres', '    volumes: ["pgdat:/var/lib/postgresql/data"]', 'volumes:', '  pgdata:') })).toBe(
      "compose.yaml:4:15 services.db.volumes[0]: volume 'pgdat' is not declared under the top-level 'volumes:' key; did you mean 'pgdata'?",
    );
  });

  it('a relative container path', async () => {
    expect(await issueOf(api('    volumes: ["data"]'))).toBe("compose.yaml:4:15 services.api.volumes[0]: invalid volume 'data': the container path 'data' must be absolute");
  });

  it('an unknown mode', async () => {
    expect(await issueOf(api('    volumes: ["/srv:/srv:rx"]'))).toBe(
      "compose.yaml:4:15 services.api.volumes[0]: invalid volume '/srv:/srv:rx': unknown mode 'rx'; expected ro, rw, z, Z, nocopy or a propagation mode",
    );
  });

  it('a long-form bind mount without a source', async () => {
    expect(await issueOf(api('    volumes:', '      - type: bind', '        target: /app'))).toBe('compose.yaml:5:9 services.api.volumes[0]: a bind mount needs a source (the host path)');
  });

  it('a long-form mount without a type', async () => {
    expect(await issueOf(api('    volumes:', '      - source: data', '        target: /data', 'volumes:', '  data:'))).toBe("compose.yaml:5:9 services.api.volumes[0]: missing required key 'type'");
  });

  it('two mounts on the same container path', async () => {
    expect(await issueOf(api('    volumes: ["/a:/data", "/b:/data"]'))).toBe("compose.yaml:4:27 services.api.volumes[1]: container path '/data' is already mounted by volumes[0]");
  });
});

describe('networks', () => {
  it('network_mode together with networks', async () => {
    expect(await issueOf(api('    network_mode: host', '    networks: [front]', 'networks:', '  front:'))).toBe(
      "compose.yaml:5:5 services.api.networks: 'networks' cannot be used together with 'network_mode: host'; remove one of them",
    );
  });

  it('an undeclared network', async () => {
    expect(await issueOf(api('    networks: [backend]', 'networks:', '  back-end:'))).toBe(
      "compose.yaml:4:16 services.api.networks[0]: network 'backend' is not declared under the top-level 'networks:' key; did you mean 'back-end'?",
    );
  });

  it('an unknown network_mode', async () => {
    expect(await issueOf(api('    network_mode: hostt'))).toBe("compose.yaml:4:19 services.api.network_mode: expected host, none, bridge, service:NAME or container:ID, found 'hostt'");
  });

  it('network_mode on a service that does not exist', async () => {
    expect(await issueOf(api('    network_mode: service:vpn'))).toBe("compose.yaml:4:19 services.api.network_mode: network_mode refers to undefined service 'vpn'");
  });

  it('an external network with a driver', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services: {}', 'networks:', '  shared:', '    external: true', '    driver: overlay') })).toBe(
      "compose.yaml:5:5 networks.shared.driver: network 'shared' is external, so 'driver' cannot be set (it is managed outside this project)",
    );
  });
});

describe('depends_on', () => {
  it('a dependency on a service that does not exist, with a suggestion', async () => {
    const files = { 'compose.yaml': yaml('services:', '  api:', '    image: nginx', '    depends_on: [dbb]', '  db:', '    image: postgres') };
    expect(await issueOf(files)).toBe("compose.yaml:4:18 services.api.depends_on[0]: depends on undefined service 'dbb'; did you mean 'db'?");
  });

  it('a missing dependency marked required: false is dropped with a warning', async () => {
    const { load } = await import('./helpers.js');
    const { stack, warnings } = await load(api('    depends_on:', '      cache:', '        condition: service_started', '        required: false'));
    expect(stack.services['api']?.dependsOn).toEqual({});
    expect(warnings).toEqual(["compose.yaml:5:7 services.api.depends_on.cache: depends on undefined service 'cache'; skipped because it is marked required: false"]);
  });

  it('a cycle names the services in order', async () => {
    const files = {
      'compose.yaml': yaml('services:', '  a:', '    image: x', '    depends_on: [b]', '  b:', '    image: x', '    depends_on: [c]', '  c:', '    image: x', '    depends_on: [a]'),
    };
    expect(await issueOf(files)).toBe('compose.yaml:4:18 services.a.depends_on[0]: dependency cycle: a -> b -> c -> a');
  });

  it('a service that depends on itself', async () => {
    expect(await issueOf(api('    depends_on: [api]'))).toBe("compose.yaml:4:18 services.api.depends_on[0]: service 'api' depends on itself");
  });

  it('service_healthy on a service without a healthcheck', async () => {
    const files = { 'compose.yaml': yaml('services:', '  api:', '    image: nginx', '    depends_on:', '      db:', '        condition: service_healthy', '  db:', '    image: postgres') };
    expect(await issueOf(files)).toBe("compose.yaml:5:7 services.api.depends_on.db: condition service_healthy needs a healthcheck on service 'db', but it declares no healthcheck");
  });
});

describe('many problems at once', () => {
  it('are all reported, in file order, across services and top-level keys', async () => {
    const files = {
      'compose.yaml': yaml(
        'services:',
        '  web:',
        '    image: nginx',
        '    ports: ["80:80:80"]',
        '    depends_on: [ap]',
        '  api:',
        '    build: ./api',
        '    restart: nope',
        '    volumes: ["cache:/cache"]',
        'networks:',
        '  front:',
        '    drivr: bridge',
        'x-flotilla:',
        '  wait_timeout: soon',
      ),
    };
    expect(await issuesOf(files)).toEqual([
      `compose.yaml:4:13 services.web.ports[0]: invalid port '80:80:80': '80' is not an IP address; expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], like "8080:80" or "127.0.0.1:8080:80/udp"`,
      "compose.yaml:5:18 services.web.depends_on[0]: depends on undefined service 'ap'; did you mean 'api'?",
      "compose.yaml:8:14 services.api.restart: expected one of 'no', 'always', 'on-failure', 'on-failure:N', 'unless-stopped', found 'nope'",
      "compose.yaml:9:15 services.api.volumes[0]: volume 'cache' is not declared under the top-level 'volumes:' key",
      "compose.yaml:12:5 networks.front.drivr: unknown key 'drivr'; did you mean 'driver'?",
      "compose.yaml:14:17 x-flotilla.wait_timeout: expected a duration like 10s or 1m30s, found 'soon'",
    ]);
  });
});

describe('other service settings', () => {
  it('a service with neither image nor build', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services:', '  api:', '    ports: ["80"]') })).toBe("compose.yaml:2:3 services.api: service 'api' has neither 'image' nor 'build'; add one of them");
  });

  it('a healthcheck test list that does not start with CMD', async () => {
    expect(await issueOf(api('    healthcheck:', '      test: ["curl", "-f", "http://localhost"]'))).toBe(
      `compose.yaml:5:14 services.api.healthcheck.test[0]: expected the list to start with CMD, CMD-SHELL or NONE, found 'curl' (write test: ["CMD", "curl", ...])`,
    );
  });

  it('a healthcheck both disabled and with a test', async () => {
    expect(await issueOf(api('    healthcheck:', '      test: curl localhost', '      disable: true'))).toBe(
      "compose.yaml:6:7 services.api.healthcheck.disable: 'disable: true' cannot be combined with 'test'; remove one of them",
    );
  });

  it('a memory limit with an unknown unit and CPUs that are not a number', async () => {
    expect(await issuesOf(api('    deploy:', '      resources:', '        limits:', '          memory: 512X', '          cpus: lots'))).toEqual([
      "compose.yaml:7:19 services.api.deploy.resources.limits.memory: expected a byte size like 512M, 1g or 1073741824, found '512X'",
      "compose.yaml:8:17 services.api.deploy.resources.limits.cpus: expected a positive number of CPUs like 0.5 or '1.5', found 'lots'",
    ]);
  });

  it('a command with an unterminated quote', async () => {
    expect(await issueOf(api(`    command: "sh -c 'echo hi"`))).toBe(`compose.yaml:4:14 services.api.command: unterminated single quote in 'sh -c 'echo hi'`);
  });

  it('env_file entries that do not exist, each at its place', async () => {
    expect(await issuesOf(api('    env_file: [common.env, api.env]'))).toEqual([
      'compose.yaml:4:16 services.api.env_file[0]: env file common.env does not exist',
      'compose.yaml:4:28 services.api.env_file[1]: env file api.env does not exist',
    ]);
  });

  it('an optional env_file that does not exist is skipped', async () => {
    expect(await issuesOf(api('    env_file:', '      - path: local.env', '        required: false', '    privileged: maybe'))).toEqual([
      "compose.yaml:7:17 services.api.privileged: expected true or false, found 'maybe'",
    ]);
  });

  it('scale and deploy.replicas that disagree', async () => {
    expect(await issueOf(api('    scale: 2', '    deploy:', '      replicas: 3'))).toBe("compose.yaml:4:5 services.api.scale: scale (2) and deploy.replicas (3) disagree; set only one of them");
  });

  it('a secret that is not declared', async () => {
    expect(await issueOf(api('    secrets: [db_password]'))).toBe("compose.yaml:4:15 services.api.secrets[0]: secret 'db_password' is not declared under the top-level 'secrets:' key");
  });

  it('a top-level secret without a source', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services: {}', 'secrets:', '  token:', '    name: api-token') })).toBe(
      "compose.yaml:3:3 secrets.token: secret 'token' needs a source: set 'file', 'environment' or 'external: true'",
    );
  });

  it('an invalid project name in the file', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('name: My Shop', 'services: {}') })).toBe(
      "compose.yaml:1:7 name: invalid project name 'My Shop' (name:): use only lowercase letters, digits, '-' and '_', starting with a letter or digit; try 'myshop'",
    );
  });

  it('an invalid ulimit pair', async () => {
    expect(await issueOf(api('    ulimits:', '      nofile:', '        soft: 2048', '        hard: 1024'))).toBe('compose.yaml:6:9 services.api.ulimits.nofile: soft limit 2048 is above hard limit 1024');
  });

  it('an extra_hosts entry without an IP', async () => {
    expect(await issueOf(api('    extra_hosts: ["db.local"]'))).toBe(`compose.yaml:4:19 services.api.extra_hosts[0]: expected "HOST=IP", found 'db.local'`);
  });
});
