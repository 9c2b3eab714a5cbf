/** `flotilla fault`: argument checks, and add/ls/rm/reset against a running control plane over fake proxy containers. */
import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from 'vitest';
import { parseAttributes, parseFaultAdd, run, selectProxies } from '../../../src/cli/commands/fault.js';
import type { GlobalOptions } from '../../../src/cli/context.js';
import type { MeshProxyJson } from '../../../src/cli/mesh-client.js';
import { FlotillaError, UsageError } from '../../../src/core/errors.js';
import { driverDiscovery } from '../../../src/mesh/control-plane-discovery.js';
import { startControlPlane, type StartedControlPlane } from '../../../src/mesh/control-plane.js';
import { fakeMeshDriver, startFakeContainer, type FakeContainer } from '../mesh/control-plane-helpers.js';
import { closeAll, startEchoServer } from '../mesh/net-helpers.js';

const global: GlobalOptions = { file: [], envFile: [], profile: [] };

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
  const out = (): string => stdout.mock.calls.map(([text]) => String(text)).join('');
  const err = (): string => stderr.mock.calls.map(([text]) => String(text)).join('');

  beforeEach(async () => {
    const echo = await startEchoServer();
    containers = [
      await startFakeContainer('shop', 'orders', [
        { name: 'orders-80', listen: '127.0.0.1:0', upstream: echo.address, kind: 'http' },
        { name: 'orders-5432', listen: '127.0.0.1:0', upstream: echo.address },
      ]),
      await startFakeContainer('shop', 'inventory', [{ name: 'inventory', listen: '127.0.0.1:0', upstream: echo.address, kind: 'http' }]),
    ];
    plane = await startControlPlane({ port: 0, discovery: driverDiscovery(fakeMeshDriver(containers)) });
    vi.stubEnv('FLOTILLA_MESH_API', plane.url);
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    await plane.close();
    for (const container of containers) await container.close();
    await closeAll();
  });

  const [orders, inventory] = [() => containers[0] as FakeContainer, () => containers[1] as FakeContainer];

  test('add puts the fault on every proxy of the service, with numbers as numbers; ls shows it; rm takes it off', async () => {
    expect(await run('add', 'orders', 'latency', { toxicity: '0.5', attr: ['latency=100', 'jitter=10'] }, global)).toBe(0);
    for (const name of ['orders-80', 'orders-5432']) {
      expect(orders().registry.get(name).toxics.get('latency_downstream')).toMatchObject({ toxicity: 0.5, attributes: { latency: 100, jitter: 10 } });
    }
    expect(err()).toContain('added latency_downstream to orders-80 (latency, downstream, toxicity 0.5, latency=100 jitter=10)');

    expect(await run('ls', undefined, {}, global)).toBe(0);
    expect(out()).toBe(
      'PROXY        FAULT               TYPE     STREAM      TOXICITY  ATTRIBUTES\n' +
      'orders-5432  latency_downstream  latency  downstream  0.5       latency=100 jitter=10\n' +
      'orders-80    latency_downstream  latency  downstream  0.5       latency=100 jitter=10\n',
    );
    stdout.mockClear();
    expect(await run('ls', 'inventory', { output: 'json' }, global)).toBe(0);
    expect(JSON.parse(out())).toEqual([{ proxy: 'inventory', project: 'shop', service: 'inventory', kind: 'http', enabled: true, faults: [] }]);

    expect(await run('rm', 'orders', 'latency_downstream', {}, global)).toBe(0);
    expect(orders().registry.list().flatMap((proxy) => proxy.toxics.list())).toEqual([]);
    await expect(run('rm', 'orders', 'latency_downstream', {}, global)).rejects.toThrow(/no fault named "latency_downstream" on orders/);
  });

  test('an HTTP fault goes to the HTTP proxies only, and is refused for a service with none', async () => {
    expect(await run('add', 'orders', 'http_abort', { name: 'abort', stream: 'upstream', toxicity: '0.2', attr: ['status=503'] }, global)).toBe(0);
    expect(orders().registry.get('orders-80').toxics.get('abort')).toMatchObject({ type: 'http_abort', toxicity: 0.2 });
    expect(orders().registry.get('orders-5432').toxics.list()).toEqual([]);
    await expect(run('add', 'orders-5432', 'http_drop', {}, global)).rejects.toThrow(/http_drop is a fault on HTTP messages, and orders-5432 is a TCP proxy/);
  });

  test('the mesh’s refusal is a usage error, and a failed add leaves nothing behind', async () => {
    await run('add', 'orders-5432', 'latency', { name: 'dup' }, global);
    // orders-80 takes it first, then orders-5432 refuses (409): orders-80 must not keep it.
    const failure = run('add', 'orders', 'latency', { name: 'dup' }, global);
    await expect(failure).rejects.toBeInstanceOf(UsageError);
    await expect(failure).rejects.toThrow(/409 \(toxic already exists\)/);
    expect(orders().registry.get('orders-80').toxics.list()).toEqual([]);
    await expect(run('add', 'payments', 'latency', {}, global)).rejects.toThrow(/no meshed service or proxy named "payments"/);
  });

  test('reset clears every container', async () => {
    await run('add', 'inventory', 'http_delay', { attr: ['delay_ms=50'] }, global);
    await run('add', 'orders', 'timeout', {}, global);
    expect(await run('reset', {}, global)).toBe(0);
    expect([...orders().registry.list(), ...inventory().registry.list()].flatMap((proxy) => proxy.toxics.list())).toEqual([]);
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
