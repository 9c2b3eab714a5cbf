/**
 * The docker driver against the real Docker Engine. Everything a test creates carries the
 * run's label and is removed by it in afterAll (and again by global teardown), even on failure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { listContext } from '../../src/build/context-files.js';
import { FlotillaError } from '../../src/core/errors.js';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import type { ExecOptions, LogLine } from '../../src/runtime/driver.js';
import { removeByLabel, testLabels, testRunId } from './helpers/cleanup.js';
import { eventually } from './helpers/cli.js';
import { containerRequest, IMAGE, networkRequest, project, serviceSpec, uniqueName, volumeRequest } from './helpers/requests.js';
import { freePort } from './helpers/ports.js';

const driver = createDockerDriver({ env: process.env });
const tempDirs: string[] = [];

afterAll(async () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  await removeByLabel(testRunId);
});

/** A temporary directory holding `files`. */
function directory(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-driver-it-'));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** A writable that keeps what it is given. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

/** Runs `command` in container `id`; returns its exit code and output. */
async function run(
  id: string,
  command: string[],
  options: Partial<Omit<ExecOptions, 'command' | 'stdout' | 'stderr'>> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await driver.exec(id, { command, tty: false, stdout: stdout.stream, stderr: stderr.stream, ...options });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Starts a container running `sleep infinity` (plus `overrides`); returns its id. */
async function sleeper(suffix: string, overrides: Parameters<typeof serviceSpec>[0] = {}, request = {}): Promise<string> {
  const id = await driver.createContainer(
    containerRequest(suffix, serviceSpec({ name: suffix, command: ['sleep', 'infinity'], ...overrides }), request),
  );
  await driver.startContainer(id);
  return id;
}

/** A TCP port nothing listens on right now. */
async function collect(lines: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const all: LogLine[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

describe('docker driver', () => {
  it('answers ping at its endpoint', async () => {
    await driver.ping();
    expect(driver.endpoint).toMatch(/^(unix|tcp):\/\//);
  });

  it('fails fast with DOCKER_UNREACHABLE naming the socket or DOCKER_HOST, and how to start the engine', async () => {
    const socket = `/tmp/flotilla-no-engine-${testRunId}.sock`;
    const missing = createDockerDriver({ env: { DOCKER_HOST: `unix://${socket}` } });
    const error = await missing.ping().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(FlotillaError);
    expect(error).toMatchObject({
      code: 'DOCKER_UNREACHABLE',
      message: `Cannot reach the Docker Engine at unix://${socket} (from DOCKER_HOST): no socket at that path (ENOENT)`,
      hint: expect.stringContaining('start it with `dockerd &` or `systemctl start docker`, or run scripts/ensure-docker.sh; set DOCKER_HOST') as string,
    });

    const refused = createDockerDriver({ env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    await expect(refused.observe(project)).rejects.toMatchObject({
      code: 'DOCKER_UNREACHABLE',
      message: expect.stringContaining('tcp://127.0.0.1:1 (from DOCKER_HOST): connection refused') as string,
    });
  });

  it('finds the host gateway address: the default bridge gateway, one of this host\'s own addresses', async () => {
    const address = await driver.hostGatewayAddress();
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // It must be local, or a collector could not listen there for the containers.
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, address, () => resolve());
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it('creates, inspects, observes and removes networks and volumes', async () => {
    const network = uniqueName('net');
    const volume = uniqueName('vol');
    await driver.createNetwork(networkRequest(network));
    await driver.createVolume(volumeRequest(volume));

    expect(await driver.inspectNetwork(network)).toMatchObject({ name: network, labels: { 'dev.flotilla.network': 'default' } });
    expect(await driver.inspectVolume(volume)).toEqual({ name: volume, labels: expect.objectContaining(testLabels()) as object });
    const state = await driver.observe(project);
    expect(state.networks.map((n) => n.name)).toContain(network);
    expect(state.volumes.map((v) => v.name)).toContain(volume);

    await expect(driver.createNetwork(networkRequest(network))).rejects.toMatchObject({ code: 'NETWORK_NAME_CONFLICT' });

    await driver.removeNetwork(network);
    await driver.removeVolume(volume);
    expect(await driver.inspectNetwork(network)).toBeUndefined();
    expect(await driver.inspectVolume(volume)).toBeUndefined();
    // Removing what is already gone is not an error.
    await driver.removeNetwork(network);
    await driver.removeVolume(volume);
  });

  it('runs a container through its lifecycle, reaching healthy', async () => {
    const service = serviceSpec({
      name: 'lifecycle',
      command: ['sleep', 'infinity'],
      healthcheck: { disable: false, test: ['CMD-SHELL', 'true'], interval: '1s', timeout: '2s', retries: 3, startPeriod: '0s', startInterval: '1s' },
    });
    const request = containerRequest('lifecycle', service);
    const id = await driver.createContainer(request);
    expect(await driver.inspectContainer(id)).toMatchObject({ id, name: request.name, state: 'created', project, service: 'lifecycle', replica: 1 });

    await expect(driver.createContainer(request)).rejects.toMatchObject({
      code: 'CONTAINER_NAME_CONFLICT',
      message: expect.stringContaining(`"${request.name}"`) as string,
    });

    await driver.startContainer(id);
    await driver.startContainer(id); // already running: no error
    const healthy = await eventually(async () => {
      const found = (await driver.observe(project)).containers.find((c) => c.id === id);
      return found?.health === 'healthy' ? found : undefined;
    });
    expect(healthy).toMatchObject({ name: request.name, state: 'running', configHash: 'test' });
    expect((await driver.inspectContainer(request.name))?.health).toBe('healthy');

    await driver.stopContainer(id, 1);
    expect(await driver.inspectContainer(id)).toMatchObject({ state: 'exited' });
    await driver.stopContainer(id, 1); // already stopped: no error

    await driver.restartContainer(id, 1);
    expect(await driver.inspectContainer(id)).toMatchObject({ state: 'running' });

    await driver.removeContainer(id, { volumes: true });
    expect(await driver.inspectContainer(id)).toBeUndefined();
    await driver.removeContainer(id, { volumes: true }); // already gone: no error
    await expect(driver.startContainer(id)).rejects.toMatchObject({ code: 'CONTAINER_NOT_FOUND' });
  });

  it('reads logs as lines from stdout and stderr, and follows until aborted', async () => {
    const script = 'echo out-1; echo err-1 >&2; echo out-2; printf no-newline';
    const id = await driver.createContainer(containerRequest('logs', serviceSpec({ name: 'logs', init: false, command: ['sh', '-c', script] })));
    await driver.startContainer(id);
    await eventually(async () => ((await driver.inspectContainer(id))?.state === 'exited' ? true : undefined));

    const lines = await collect(driver.containerLogs(id, { follow: false, timestamps: false }));
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['out-1', 'out-2', 'no-newline']);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['err-1']);
    expect(await collect(driver.containerLogs(id, { follow: false, tail: 1, timestamps: false }))).toHaveLength(1);

    const ticker = await sleeper('ticker', { command: ['sh', '-c', 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.1; done'] });
    const controller = new AbortController();
    const followed: string[] = [];
    for await (const line of driver.containerLogs(ticker, { follow: true, timestamps: false, signal: controller.signal })) {
      followed.push(line.text);
      if (followed.length === 3) controller.abort();
    }
    expect(followed.slice(0, 3)).toEqual(['tick-0', 'tick-1', 'tick-2']);
  });

  it('reads the raw output of a TTY container', async () => {
    const id = await driver.createContainer(
      containerRequest('tty', serviceSpec({ name: 'tty', init: false, tty: true, command: ['sh', '-c', 'echo hello from a tty'] })),
    );
    await driver.startContainer(id);
    await eventually(async () => ((await driver.inspectContainer(id))?.state === 'exited' ? true : undefined));
    expect(await collect(driver.containerLogs(id, { follow: false, timestamps: false }))).toEqual([{ stream: 'stdout', text: 'hello from a tty' }]);
  });

  it('execs commands: exit code, separate output streams, stdin', async () => {
    const id = await sleeper('exec');
    expect(await run(id, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3'])).toEqual({ code: 3, stdout: 'to-out\n', stderr: 'to-err\n' });
    expect(await run(id, ['true'])).toMatchObject({ code: 0 });

    const stdin = Readable.from([Buffer.from('line one\n'), Buffer.from('line two\n')]);
    expect(await run(id, ['sh', '-c', 'wc -l; cat /etc/hostname >/dev/null'], { stdin })).toMatchObject({ code: 0, stdout: '2\n' });

    expect(await run(id, ['pwd'], { workdir: '/tmp', user: 'nobody', env: ['X=1'] })).toMatchObject({ stdout: '/tmp\n' });
    const tty = sink();
    expect(await driver.exec(id, { command: ['sh', '-c', 'echo $X; exit 4'], tty: true, env: ['X=in-tty'], stdout: tty.stream, stderr: new PassThrough() })).toBe(4);
    expect(tty.text()).toBe('in-tty\r\n');

    // A command that exits without reading its stdin still reports its own exit code.
    const unread = Readable.from([Buffer.alloc(1024 * 1024, 'x')]);
    expect(await run(id, ['sh', '-c', 'exit 5'], { stdin: unread })).toMatchObject({ code: 5 });

    await driver.stopContainer(id, 1);
    await expect(run(id, ['true'])).rejects.toMatchObject({ code: 'CONTAINER_NOT_RUNNING' });
  });

  it('builds from a context that honours .dockerignore, and tags the result', async () => {
    const context = directory({
      Dockerfile: `FROM ${IMAGE}\nARG GREETING\nCOPY . /ctx\nRUN echo "$GREETING" > /greeting\n`,
      '.dockerignore': 'ignored.txt\n',
      'kept.txt': 'kept',
      'ignored.txt': 'must not be sent',
    });
    const tag = `${uniqueName('image')}:built`;
    const second = `${uniqueName('image')}:also`;
    const progress: string[] = [];
    const listing = await listContext(context, 'Dockerfile');
    expect(listing.entries).toEqual(['.dockerignore', 'Dockerfile', 'kept.txt']);
    const image = await driver.buildImage(
      { context, ...listing, args: { GREETING: 'bonjour' }, labels: { ...testLabels(), 'org.opencontainers.image.title': 'it' }, tags: [tag, second] },
      (line) => progress.push(line),
    );
    expect(image.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(image.labels).toMatchObject({ ...testLabels(), 'org.opencontainers.image.title': 'it' });
    expect(image.repoDigests).toEqual([]);
    expect(progress.some((line) => line.includes('COPY . /ctx'))).toBe(true);
    expect((await driver.inspectImage(tag))?.id).toBe(image.id);
    expect((await driver.inspectImage(second))?.id).toBe(image.id);

    const id = await sleeper('built', {}, { image: image.id });
    const inImage = await run(id, ['sh', '-c', 'ls -A /ctx; cat /greeting']);
    expect(inImage.stdout.split('\n')).toEqual(['.dockerignore', 'Dockerfile', 'kept.txt', 'bonjour', '']);
  });

  it('builds with a Dockerfile from outside the context, sent under its generated name', async () => {
    const outside = directory({ 'api.Dockerfile': `FROM ${IMAGE}\nCOPY . /ctx\n` });
    const context = directory({ 'main.txt': 'main' });
    const listing = await listContext(context, join(outside, 'api.Dockerfile'));
    expect(listing.dockerfileOutside?.path).toBe(join(outside, 'api.Dockerfile'));
    const image = await driver.buildImage({ context, ...listing, args: {}, labels: testLabels(), tags: [] });

    const id = await sleeper('outside', {}, { image: image.id });
    const inImage = await run(id, ['ls', '-A', '/ctx']);
    expect(inImage.stdout.split('\n')).toEqual([listing.dockerfile, 'main.txt', '']);
  });

  it('fails a build with BUILD_FAILED carrying the last lines of output', async () => {
    const context = directory({ Dockerfile: `FROM ${IMAGE}\nRUN echo "about to fail" && exit 7\n` });
    const failure = await driver
      .buildImage({ context, entries: ['Dockerfile'], dockerfile: 'Dockerfile', args: {}, labels: testLabels(), tags: [] })
      .then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ code: 'BUILD_FAILED' });
    const message = (failure as Error).message;
    expect(message).toContain(`Build of ${context} failed`);
    expect(message).toContain('returned a non-zero code: 7');
    expect(message).toContain('about to fail');
  });

  it('fails a pull fast with a clear message when no registry answers', async () => {
    const started = Date.now();
    const reference = `registry.invalid/flotilla/${testRunId}:1`;
    await expect(driver.pullImage(reference)).rejects.toMatchObject({
      code: expect.stringMatching(/^(PULL_FAILED|IMAGE_NOT_FOUND)$/) as string,
      message: expect.stringContaining(`Cannot pull image ${reference}: `) as string,
    });
    expect(Date.now() - started).toBeLessThan(35_000);
    expect(await driver.inspectImage(reference)).toBeUndefined();
    // Text that cannot be a reference at all (upper case) is no image either, not an engine error.
    expect(await driver.inspectImage('No_Such_Image')).toBeUndefined();
  });

  it('publishes ports, reports them, and names a port already in use', async () => {
    const port = await freePort();
    const id = await sleeper('ports', {
      ports: [
        { target: 80, published: String(port), hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' },
        { target: 81, protocol: 'udp', mode: 'ingress' },
      ],
    });
    const ports = (await driver.inspectContainer(id))?.ports ?? [];
    expect(ports).toContainEqual({ hostIp: '127.0.0.1', hostPort: port, containerPort: 80, protocol: 'tcp' });
    expect(ports.find((p) => p.containerPort === 81)?.hostPort).toBeGreaterThan(0);

    expect(await driver.publishedPorts()).toContainEqual({
      hostIp: '127.0.0.1',
      hostPort: port,
      containerPort: 80,
      protocol: 'tcp',
      containerId: id,
      containerName: uniqueName('ports'),
    });
    const observed = (await driver.observe(project)).containers.find((c) => c.id === id);
    expect(observed?.ports).toContainEqual({ hostIp: '127.0.0.1', hostPort: port, containerPort: 80, protocol: 'tcp' });

    const clash = await driver.createContainer(
      containerRequest('clash', serviceSpec({ name: 'clash', command: ['sleep', 'infinity'], ports: [{ target: 80, published: String(port), hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }] })),
    );
    await expect(driver.startContainer(clash)).rejects.toMatchObject({
      code: 'PORT_IN_USE',
      message: expect.stringContaining(`host port ${port} is already in use`) as string,
    });
  });

  it('places secret files: content copied with mode and owner, host files bind-mounted read-only', async () => {
    const hostFile = join(directory({ 'db_password.txt': 'from-the-host' }), 'db_password.txt');
    const id = await sleeper('secrets', {}, {
      files: [
        { target: '/run/secrets/api_token', content: Buffer.from('tok-123'), mode: 0o400, uid: 1000, gid: 1001 },
        { target: '/etc/app/nested/config.json', content: Buffer.from('{"a":1}'), mode: 0o444, uid: 0, gid: 0 },
        { target: '/run/secrets/db_password', hostPath: hostFile },
      ],
    });
    expect(await run(id, ['cat', '/run/secrets/api_token'])).toMatchObject({ code: 0, stdout: 'tok-123' });
    expect(await run(id, ['stat', '-c', '%a %u %g', '/run/secrets/api_token'])).toMatchObject({ stdout: '400 1000 1001\n' });
    expect(await run(id, ['cat', '/etc/app/nested/config.json'])).toMatchObject({ stdout: '{"a":1}' });
    expect(await run(id, ['cat', '/run/secrets/db_password'])).toMatchObject({ stdout: 'from-the-host' });
    expect((await run(id, ['sh', '-c', 'echo x > /run/secrets/db_password'])).code).not.toBe(0);
  });

  it('removes a half-made container when a step after create fails', async () => {
    const readOnly = containerRequest('read-only', serviceSpec({ name: 'read-only', readOnly: true, command: ['sleep', 'infinity'] }), {
      files: [{ target: '/run/secrets/token', content: Buffer.from('x'), mode: 0o400, uid: 0, gid: 0 }],
    });
    await expect(driver.createContainer(readOnly)).rejects.toMatchObject({ code: 'FILE_COPY_FAILED' });
    expect(await driver.inspectContainer(readOnly.name)).toBeUndefined();
  });

  it('names a missing network when the container starts (the Engine accepts it until then)', async () => {
    const missing = uniqueName('no-such-network');
    const request = containerRequest('lost', serviceSpec({ name: 'lost', command: ['sleep', 'infinity'] }), {
      networks: [
        { name: 'bridge', aliases: [] },
        { name: missing, aliases: ['lost'] },
      ],
    });
    const id = await driver.createContainer(request);
    await expect(driver.startContainer(id)).rejects.toMatchObject({
      code: 'NETWORK_NOT_FOUND',
      message: expect.stringContaining(missing) as string,
    });
  });

  it('connects every network with its aliases, and mounts named volumes', async () => {
    const front = uniqueName('front');
    const back = uniqueName('back');
    const data = uniqueName('data');
    await driver.createNetwork(networkRequest(front));
    await driver.createNetwork(networkRequest(back));
    await driver.createVolume(volumeRequest(data));

    await sleeper(
      'api',
      { volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: false, nocopy: false }] },
      {
        networks: [
          { name: front, aliases: ['api', 'front-api'] },
          { name: back, aliases: ['api', 'back-api'] },
        ],
        volumeNames: { data },
      },
    );
    // A client only on the second network resolves the alias given there.
    const client = await sleeper('client', {}, { networks: [{ name: back, aliases: ['client'] }], volumeNames: { data } });
    expect((await run(client, ['getent', 'hosts', 'back-api'])).code).toBe(0);
    expect((await run(client, ['getent', 'hosts', 'front-api'])).code).not.toBe(0);

    const writer = await sleeper('writer', { volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: false, nocopy: false }] }, { volumeNames: { data } });
    await run(writer, ['sh', '-c', 'echo shared > /data/file']);
    const reader = await sleeper('reader', { volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: true, nocopy: false }] }, { volumeNames: { data } });
    expect(await run(reader, ['cat', '/data/file'])).toMatchObject({ stdout: 'shared\n' });
  });

  it('observes only the objects of the project it is asked about', async () => {
    const state = await driver.observe(`${project}-nothing-here`);
    expect(state).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
