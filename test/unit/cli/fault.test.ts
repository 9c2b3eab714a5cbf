/** `flotilla fault`: argument checks, and add/ls/rm/reset against a running control plane over fake proxy containers. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from 'vitest';
import { parseAttributes, parseFaultAdd, run } from '../../../src/cli/commands/fault.js';
import { selectProxies } from '../../../src/chaos/proxy-selection.js';
import type { GlobalOptions } from '../../../src/cli/context.js';
import type { MeshProxyJson } from '../../../src/chaos/mesh-client.js';
import { FlotillaError, UsageError } from '../../../src/core/errors.js';
import { driverDiscovery } from '../../../src/mesh/control-plane-discovery.js';
import { startControlPlane, type StartedControlPlane } from '../../../src/mesh/control-plane.js';
import { fakeMeshDriver, startFakeContainer, type FakeContainer } from '../mesh/control-plane-helpers.js';
import { closeAll, startEchoServer } from '../mesh/net-helpers.js';

const bare: GlobalOptions = { file: [], envFile: [], profile: [] };

describe('fault add: arguments', () => {
  test('numeric attributes are numbers; others stay text, split at the first =', () => {
    expect(parseAttributes(['latency=100', 'jitter=2.5', 'header=X-Test: a=b', 'mode=hang'])).toEqual({ latency: 100, jitter: 2.5, header: 'X-Test: a=b', mode: 'hang' });
    expect(() => parseAttributes(['latency'])).toThrow(/expected key=value/);
    expect(() => parseAttributes(['a=1', 'a=2'])).toThrow(/given twice/);
  });

  test('a valid fault becomes the toxic to send, with Toxiproxy’s defaults for stream and toxicity', () => {
    expect(parseFaultAdd('orders', 'latency', { attr: ['latency=100'] })).toEqual({
      service: 'orders',
      toxic: { type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100 } },
    });
    expect(parseFaultAdd('orders', 'http_abort', { name: 'boom', stream: 'upstream', toxicity: '0.2', attr: ['status=503', 'method=POST', 'path=/orders'] }).toxic).toEqual({
      name: 'boom', type: 'http_abort', stream: 'upstream', toxicity: 0.2, attributes: { status: 503, method: 'POST', path: '/orders' },
    });
    for (const type of ['bandwidth', 'slicer', 'reset_peer', 'timeout', 'limit_data', 'http_drop', 'http_duplicate', 'http_delay']) {
      const attr = type === 'slicer' ? ['average_size=100'] : [];
      expect(parseFaultAdd('s', type, { attr }).toxic.type).toBe(type);
    }
  });

  test('bad input is a usage error naming the flag, with a suggestion', () => {
    const usage = (run: () => unknown): UsageError => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return error as UsageError;
      }
      throw new Error('no error');
    };
    expect(usage(() => parseFaultAdd('orders', 'latancy', {})).message).toBe("unknown fault type \"latancy\"; did you mean 'latency'?");
    expect(usage(() => parseFaultAdd('orders', 'latency', { toxicity: '1.5' })).message).toMatch(/--toxicity "1.5": expected a probability/);
    expect(usage(() => parseFaultAdd('orders', 'latency', { toxicity: 'lots' })).message).toMatch(/--toxicity/);
    expect(usage(() => parseFaultAdd('orders', 'latency', { stream: 'sideways' })).message).toMatch(/--stream "sideways"/);
    const unknownKey = usage(() => parseFaultAdd('orders', 'latency', { attr: ['latncy=100'] }));
    expect(unknownKey.message).toMatch(/latncy.*did you mean 'latency'/);
    expect(unknownKey.hint).toBe('latency takes: latency, jitter.');
    expect(usage(() => parseFaultAdd('orders', 'latency', { attr: ['latency=-5'] })).message).toMatch(/--attr latency: /);
    expect(usage(() => parseFaultAdd('orders', 'http_abort', { attr: ['status=abc'] })).message).toMatch(/--attr status: /);
    expect(usage(() => parseFaultAdd('orders', 'latency', { name: 'a/b' })).message).toMatch(/--name/);
  });
});

describe('fault: which proxies a service means', () => {
  const proxy = (name: string, project: string, service: string, kind?: string): MeshProxyJson => ({
    name, listen: '', upstream: '', enabled: true, project, service, toxics: [], ...(kind ? { kind } : {}),
  });
  const proxies = {
    'orders-80': proxy('orders-80', 'shop', 'orders', 'http'),
    'orders-5432': proxy('orders-5432', 'shop', 'orders'),
    'shop.inventory': proxy('shop.inventory', 'shop', 'inventory'),
    'blog.inventory': proxy('blog.inventory', 'blog', 'inventory'),
    'orders-api': proxy('orders-api', 'shop', 'orders-api'),
  };
  const names = (target: string, project?: string) => selectProxies(target, proxies, project).map(({ name }) => name);

  test('a service means each of its proxies; a proxy name means that proxy', () => {
    expect(names('orders')).toEqual(['orders-80', 'orders-5432']);
    expect(names('orders-5432')).toEqual(['orders-5432']);
    expect(names('orders-api')).toEqual(['orders-api']);
    expect(names('shop.orders')).toEqual(['orders-80', 'orders-5432']);
    expect(names('blog.inventory')).toEqual(['blog.inventory']);
    expect(names('inventory', 'blog')).toEqual(['blog.inventory']);
    expect(names('payments')).toEqual([]);
  });

  test('a service in two projects must be named with its project', () => {
    expect(() => names('inventory')).toThrow(/meshed in several projects \(shop, blog\)/);
  });
});

describe('fault against a running control plane', () => {
  let containers: FakeContainer[];
  let plane: StartedControlPlane;
  let stdout: MockInstance<typeof process.stdout.write>;
  let stderr: MockInstance<typeof process.stderr.write>;
  let noCompose: string;
  /** Run where no Compose file is found: no project, bare names, as before a stack is involved. */
  let global: GlobalOptions;
  const out = (): string => stdout.mock.calls.map(([text]) => String(text)).join('');
  const err = (): string => stripVTControlCharacters(stderr.mock.calls.map(([text]) => String(text)).join(''));

  beforeEach(async () => {
    const echo = await startEchoServer();
    containers = [
      await startFakeContainer('shop', 'orders', [
        { name: 'orders-80', listen: '127.0.0.1:0', upstream: echo.address, kind: 'http' },
        { name: 'orders-5432', listen: '127.0.0.1:0', upstream: echo.address },
        { name: 'orders-5433', listen: '127.0.0.1:0', upstream: echo.address },
      ]),
      await startFakeContainer('shop', 'inventory', [{ name: 'inventory', listen: '127.0.0.1:0', upstream: echo.address, kind: 'http' }]),
      // The same service in another project on the same Engine.
      await startFakeContainer('blog', 'inventory', [{ name: 'inventory', listen: '127.0.0.1:0', upstream: echo.address, kind: 'http' }]),
    ];
    plane = await startControlPlane({ port: 0, discovery: driverDiscovery(fakeMeshDriver(containers)) });
    vi.stubEnv('FLOTILLA_MESH_API', plane.url);
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    noCompose = await mkdtemp(path.join(tmpdir(), 'flotilla-fault-'));
    global = { ...bare, projectDirectory: noCompose };
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    await plane.close();
    for (const container of containers) await container.close();
    await closeAll();
    await rm(noCompose, { recursive: true, force: true });
  });

  const [orders, inventory, blogInventory] = [() => containers[0] as FakeContainer, () => containers[1] as FakeContainer, () => containers[2] as FakeContainer];
  const toxicsOf = (container: FakeContainer) => container.registry.list().flatMap((proxy) => proxy.toxics.list().map((toxic) => `${proxy.name}/${toxic.name}`));

  /** A directory with a compose.yaml of project `shop`, as `fault` finds it when run there. */
  const inShop = async (): Promise<GlobalOptions> => {
    await writeFile(path.join(noCompose, 'compose.yaml'), 'name: shop\nservices:\n  inventory: { image: inventory }\n  orders: { image: orders }\n');
    return global;
  };

  test('add puts a connection fault on every TCP proxy of the service, with numbers as numbers; ls shows it; rm takes it off', async () => {
    expect(await run('add', 'orders', 'latency', { toxicity: '0.5', attr: ['latency=100', 'jitter=10'] }, global)).toBe(0);
    for (const name of ['orders-5432', 'orders-5433']) {
      expect(orders().registry.get(name).toxics.get('latency_downstream')).toMatchObject({ toxicity: 0.5, attributes: { latency: 100, jitter: 10 } });
    }
    expect(orders().registry.get('orders-80').toxics.list()).toEqual([]);
    expect(err()).toContain('added latency_downstream to orders-5432 (latency, downstream, toxicity 0.5, latency=100 jitter=10)');

    expect(await run('ls', undefined, {}, global)).toBe(0);
    expect(out()).toBe(
      'PROXY        FAULT               TYPE     STREAM      TOXICITY  ATTRIBUTES\n' +
      'orders-5432  latency_downstream  latency  downstream  0.5       latency=100 jitter=10\n' +
      'orders-5433  latency_downstream  latency  downstream  0.5       latency=100 jitter=10\n',
    );
    stdout.mockClear();
    expect(await run('ls', 'inventory', { output: 'json' }, { ...global, projectName: 'shop' })).toBe(0);
    expect(JSON.parse(out())).toEqual([{ proxy: 'shop.inventory', project: 'shop', service: 'inventory', kind: 'http', enabled: true, faults: [] }]);

    expect(await run('rm', 'orders', 'latency_downstream', {}, global)).toBe(0);
    expect(toxicsOf(orders())).toEqual([]);
    await expect(run('rm', 'orders', 'latency_downstream', {}, global)).rejects.toThrow(/no fault named "latency_downstream" on orders/);
  });

  test('an HTTP fault goes to the HTTP proxies only, a connection fault to the TCP ones, each refused for a service with none', async () => {
    expect(await run('add', 'orders', 'http_abort', { name: 'abort', stream: 'upstream', toxicity: '0.2', attr: ['status=503'] }, global)).toBe(0);
    expect(orders().registry.get('orders-80').toxics.get('abort')).toMatchObject({ type: 'http_abort', toxicity: 0.2 });
    expect(toxicsOf(orders())).toEqual(['orders-80/abort']);
    await expect(run('add', 'orders-5432', 'http_drop', {}, global)).rejects.toThrow(/http_drop is a fault on HTTP messages, and orders-5432 is a TCP proxy/);
    await expect(run('add', 'orders-80', 'latency', {}, global)).rejects.toThrow(/latency is a connection fault, and orders-80 is an HTTP proxy/);
  });

  test('the mesh’s refusal is a usage error, and a failed add leaves nothing behind', async () => {
    await run('add', 'orders-5433', 'latency', { name: 'dup' }, global);
    // orders-5432 takes it first, then orders-5433 refuses (409): orders-5432 must not keep it.
    const failure = run('add', 'orders', 'latency', { name: 'dup' }, global);
    await expect(failure).rejects.toBeInstanceOf(UsageError);
    await expect(failure).rejects.toThrow(/409 \(toxic already exists\)/);
    expect(orders().registry.get('orders-5432').toxics.list()).toEqual([]);
    await expect(run('add', 'payments', 'latency', {}, global)).rejects.toThrow(/no meshed service or proxy named "payments"/);
  });

  test('without a Compose file or -p, a service in two projects must be named with its project, and reset clears every container', async () => {
    await expect(run('add', 'inventory', 'http_delay', { attr: ['delay_ms=50'] }, global)).rejects.toThrow(/meshed in several projects/);
    await run('add', 'shop.inventory', 'http_delay', { attr: ['delay_ms=50'] }, global);
    await run('add', 'blog.inventory', 'http_delay', { attr: ['delay_ms=50'] }, global);
    await run('add', 'orders', 'timeout', {}, global);
    expect(await run('reset', {}, global)).toBe(0);
    expect([...containers].flatMap(toxicsOf)).toEqual([]);
    expect(err()).toContain('on every mesh proxy');
  });

  test('with a Compose file, names are its project’s, and reset leaves the other projects alone', async () => {
    const shop = await inShop();
    await run('add', 'blog.inventory', 'http_delay', { name: 'blog-slow', attr: ['delay_ms=50'] }, { ...global, projectName: 'blog' });
    // Without the project from the Compose file, `inventory` would be ambiguous (shop and blog).
    expect(await run('add', 'inventory', 'http_delay', { name: 'shop-slow', attr: ['delay_ms=50'] }, shop)).toBe(0);
    expect(await run('add', 'orders', 'timeout', {}, shop)).toBe(0);
    expect(toxicsOf(inventory())).toEqual(['inventory/shop-slow']);
    stdout.mockClear();
    expect(await run('ls', undefined, { output: 'json' }, shop)).toBe(0);
    expect((JSON.parse(out()) as { proxy: string }[]).map(({ proxy }) => proxy)).toEqual(['orders-5432', 'orders-5433', 'orders-80', 'shop.inventory']);
    expect(await run('rm', 'inventory', 'shop-slow', {}, shop)).toBe(0);
    expect(toxicsOf(inventory())).toEqual([]);

    expect(await run('reset', {}, shop)).toBe(0);
    expect(toxicsOf(orders())).toEqual([]);
    expect(toxicsOf(blogInventory())).toEqual(['inventory/blog-slow']);
    expect(err()).toContain('in project shop');
  });

  test('a broken Compose file is an error, not a silent switch to every project', async () => {
    await writeFile(path.join(noCompose, 'compose.yaml'), 'services: [');
    await expect(run('reset', {}, global)).rejects.toBeInstanceOf(FlotillaError);
    await expect(run('ls', undefined, {}, { ...global, file: [path.join(noCompose, 'missing.yaml')] })).rejects.toBeInstanceOf(FlotillaError);
  });

  test('no control plane: the error says to start flotilla serve', async () => {
    const url = plane.url;
    await plane.close();
    vi.stubEnv('FLOTILLA_MESH_API', url);
    const failure = run('ls', undefined, {}, global);
    await expect(failure).rejects.toBeInstanceOf(FlotillaError);
    await expect(failure).rejects.toMatchObject({ code: 'MESH_API_NOT_RUNNING', hint: expect.stringContaining('flotilla serve') as unknown });
    await expect(failure).rejects.toThrow(`no mesh API answers at ${url}`);
  });
});
