/** Callers known by address: the project's names (`X`, `X-upstream`) resolved and refreshed. */
import { describe, expect, it } from 'vitest';
import { CallerResolver, serviceOfContainerName, type LookupAll } from '../../../src/mesh/caller-resolver.js';

/** A DNS whose answers a test changes; unknown names fail as ENOTFOUND does. */
function fakeDns(initial: Record<string, string[]>): { lookup: LookupAll; answers: Record<string, string[]>; asked: string[] } {
  const answers = { ...initial };
  const asked: string[] = [];
  const lookup: LookupAll = (host) => {
    asked.push(host);
    const addresses = answers[host];
    return addresses ? Promise.resolve(addresses.map((address) => ({ address }))) : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  };
  return { lookup, answers, asked };
}

describe('CallerResolver', () => {
  it('finds a caller it was not told of by reverse lookup of its container name, for the next request', async () => {
    const dns = fakeDns({ web: ['10.0.0.5'] });
    const asked: string[] = [];
    const reverse = (address: string): Promise<string[]> => {
      asked.push(address);
      return Promise.resolve(address === '10.0.0.42' ? ['shop-worker-2.shop_default'] : ['someone-else.bridge']);
    };
    using callers = await new CallerResolver({ services: ['web'], project: 'shop', lookup: dns.lookup, reverse }).start();
    expect(callers.resolve('10.0.0.42')).toBeUndefined();
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(callers.resolve('10.0.0.42')).toBe('worker');
    // Not a container of the project: stays unknown, and is not asked again at every request.
    callers.resolve('10.0.0.77');
    callers.resolve('10.0.0.77');
    await new Promise((resolve) => setImmediate(resolve));
    expect(callers.resolve('10.0.0.77')).toBeUndefined();
    expect(asked.filter((address) => address === '10.0.0.77')).toHaveLength(1);
    // Known names need no reverse lookup.
    expect(callers.resolve('10.0.0.5')).toBe('web');
    expect(asked).not.toContain('10.0.0.5');
  });

  it('reads the service out of Flotilla\'s container names, dashes and digits in it included', () => {
    expect(serviceOfContainerName('shop-orders-1.shop_default', 'shop')).toBe('orders');
    expect(serviceOfContainerName('shop-api-v2-3.net', 'shop')).toBe('api-v2');
    expect(serviceOfContainerName('shop-web-3-1.net', 'shop')).toBe('web-3');
    expect(serviceOfContainerName('shop-orders-mesh-1.net', 'shop')).toBe('orders');
    expect(serviceOfContainerName('blog-orders-1.net', 'shop')).toBeUndefined();
    expect(serviceOfContainerName('shop-orders.net', 'shop')).toBeUndefined();
  });

  it('maps the addresses of every service and of its replicas behind a proxy to the service', async () => {
    const dns = fakeDns({ web: ['10.0.0.5'], 'api': ['10.0.0.7'], 'api-upstream': ['10.0.0.8', '10.0.0.9'] });
    using callers = await new CallerResolver({ services: ['api', 'web', 'db'], lookup: dns.lookup }).start();
    expect(callers.resolve('10.0.0.5')).toBe('web');
    expect(callers.resolve('10.0.0.9')).toBe('api');
    expect(callers.resolve('::ffff:10.0.0.8')).toBe('api');
    expect(callers.resolve('10.0.0.7')).toBe('api');
    expect(callers.resolve('10.0.0.99')).toBeUndefined();
    expect(dns.asked.sort()).toEqual(['api', 'api-upstream', 'db', 'db-upstream', 'web', 'web-upstream']);
  });

  it('follows replicas that come back with new addresses, on refresh', async () => {
    const dns = fakeDns({ web: ['10.0.0.5'] });
    using callers = await new CallerResolver({ services: ['web'], lookup: dns.lookup }).start();
    dns.answers['web'] = ['10.0.0.6'];
    await callers.refresh();
    expect(callers.resolve('10.0.0.6')).toBe('web');
    expect(callers.resolve('10.0.0.5')).toBeUndefined();
  });

  it('refreshes on its own every interval', async () => {
    const dns = fakeDns({});
    using callers = await new CallerResolver({ services: ['late'], intervalMs: 20, lookup: dns.lookup }).start();
    dns.answers['late'] = ['10.0.0.3'];
    const deadline = Date.now() + 2_000;
    while (callers.resolve('10.0.0.3') === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(callers.resolve('10.0.0.3')).toBe('late');
  });
});

describe('runMeshProxy with callers', () => {
  it('starts before its upstream resolves (503 meanwhile), then forwards and knows callers by their address', async () => {
    const { createServer } = await import('node:http');
    const { runMeshProxy } = await import('../../../src/mesh/proxy-main.js');
    const upstream = createServer((_request, response) => response.end('pong'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as { port: number }).port;
    const dns = fakeDns({ web: ['127.0.0.1'] });
    await using proxy = await runMeshProxy(
      { service: 'api', host: '127.0.0.1', listeners: [{ port: 0, kind: 'http', upstreams: [`localhost:${port}`], name: 'api' }], api: { port: 0 }, callerServices: ['web'] },
      { lookup: dns.lookup },
    );
    expect(proxy.callers.resolve('127.0.0.1')).toBe('web');
    const listen = proxy.proxies[0]?.toJSON().listen ?? '';
    const early = await fetch(`http://${listen}/ping`);
    expect(early.status).toBe(503);
    expect(await early.text()).toMatch(/no replica of "api" yet.*localhost:\d+ does not resolve/);
    dns.answers['localhost'] = ['127.0.0.1'];
    let answer = await fetch(`http://${listen}/ping`);
    while (answer.status === 503) answer = await new Promise<Response>((resolve) => setTimeout(() => resolve(fetch(`http://${listen}/ping`)), 50));
    expect(await answer.text()).toBe('pong');
    upstream.close();
  });
});
