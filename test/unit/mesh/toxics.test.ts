/** Each connection-level toxic through a real proxy on 127.0.0.1, measured relative to its setting. */
import { afterEach, describe, expect, test } from 'vitest';
import * as z from 'zod';
import { createToxicCatalog, startTcpProxy, type TcpProxy, type TcpProxyOptions } from '../../../src/mesh/index.js';
import { sliceOffsets } from '../../../src/mesh/toxics/slicer.js';
import { closeAll, connect, delay, eventually, outcome, readBytes, roundTrip, startEchoServer, startServer, staysSilent } from './net-helpers.js';

const proxies: TcpProxy[] = [];
// Delays are measured from when the proxy read a chunk, a little after the test's clock started; 5 ms of slack for clock granularity.
const SLOP = 5;

async function proxyTo(upstream: string, options: Partial<TcpProxyOptions> = {}): Promise<TcpProxy> {
  const proxy = await startTcpProxy({ name: 'toxic-test', listen: '127.0.0.1:0', upstream, ...options });
  proxies.push(proxy);
  return proxy;
}

async function echoProxy(options: Partial<TcpProxyOptions> = {}): Promise<TcpProxy> {
  const echo = await startEchoServer();
  return proxyTo(echo.address, options);
}

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await closeAll();
});

describe('latency', () => {
  test('adds at least `latency` ms per direction, for connections opened before and after the toxic', async () => {
    const proxy = await echoProxy();
    const early = await connect(proxy.listen);
    await roundTrip(early, Buffer.from('ping'));
    proxy.toxics.add({ type: 'latency', stream: 'downstream', attributes: { latency: 100 } });
    expect(await roundTrip(early, Buffer.from('ping'))).toBeGreaterThanOrEqual(100 - SLOP);
    proxy.toxics.add({ type: 'latency', stream: 'upstream', attributes: { latency: 60 } });
    const late = await connect(proxy.listen);
    expect(await roundTrip(late, Buffer.from('ping'))).toBeGreaterThanOrEqual(160 - SLOP);
  });

  test('jitter moves the delay within ±jitter', async () => {
    // Up: a roll near 1 gives latency + jitter.
    const high = await echoProxy({ random: () => 0.999 });
    high.toxics.add({ type: 'latency', attributes: { latency: 100, jitter: 50 } });
    expect(await roundTrip(await connect(high.listen), Buffer.from('x'))).toBeGreaterThanOrEqual(149 - SLOP);
    // Down: a roll of 0 gives latency - jitter. With a latency no test waits out (10 min) and a jitter 50 ms short
    // of it, the echo coming back at all shows the delay moved down (unjittered, it would hang: readBytes gives up).
    const low = await echoProxy({ random: () => 0 });
    low.toxics.add({ type: 'latency', attributes: { latency: 600_000, jitter: 599_950 } });
    const client = await connect(low.listen);
    const started = performance.now();
    const echoed = readBytes(client, 1, 15_000);
    client.write('x');
    await echoed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(50 - SLOP);
  }, 30_000);

  test('delays from arrival: a burst is not delayed once per chunk', async () => {
    // An ordering, not a duration: the burst's last chunk is sent together with one chunk on a reference proxy
    // whose latency is 5 × the burst's. Delayed from arrival, the burst's last chunk leaves 4 × 100 ms before
    // the reference's; delayed once per chunk (10 × 100 ms), it would leave after it.
    const latency = 100;
    const proxy = await echoProxy();
    proxy.toxics.add({ type: 'latency', attributes: { latency } });
    const reference = await echoProxy();
    reference.toxics.add({ type: 'latency', attributes: { latency: 5 * latency } });
    const client = await connect(proxy.listen);
    const referenceClient = await connect(reference.listen);
    const order: string[] = [];
    const started = performance.now();
    const all = readBytes(client, 10, 15_000).then((data) => {
      order.push('burst');
      return data;
    });
    const referenceEcho = readBytes(referenceClient, 1, 15_000).then(() => order.push('reference'));
    for (let i = 0; i < 10; i++) {
      client.write(String(i));
      if (i < 9) await delay(10);
    }
    referenceClient.write('r');
    expect((await all).toString()).toBe('0123456789');
    expect(performance.now() - started).toBeGreaterThanOrEqual(latency - SLOP);
    await referenceEcho;
    expect(order).toEqual(['burst', 'reference']);
  }, 30_000);

  test('removing the toxic hands on a chunk it holds at once', async () => {
    // A latency no test waits out (10 min): the chunk can only come back because the removal handed it on.
    const proxy = await echoProxy();
    proxy.toxics.add({ name: 'slow', type: 'latency', attributes: { latency: 600_000 } });
    const client = await connect(proxy.listen);
    const reply = readBytes(client, 5, 15_000);
    client.write('hello');
    // Held: the proxy has read the echo and not passed it on.
    await eventually(() => proxy.stats().receivedDown === 5, 15_000);
    expect(proxy.stats().sentDown).toBe(0);
    proxy.toxics.remove('slow');
    expect((await reply).toString()).toBe('hello');
  }, 40_000);

  test('an update applies to the next chunks', async () => {
    const proxy = await echoProxy();
    proxy.toxics.add({ name: 'lat', type: 'latency', attributes: { latency: 20 } });
    const client = await connect(proxy.listen);
    await roundTrip(client, Buffer.from('a'));
    const updated = proxy.toxics.update('lat', { attributes: { latency: 200 } });
    expect(updated.attributes).toEqual({ latency: 200, jitter: 0 });
    expect(await roundTrip(client, Buffer.from('b'))).toBeGreaterThanOrEqual(200 - SLOP);
  });
});

describe('toxicity', () => {
  test('is rolled per connection: below the roll the toxic does not apply', async () => {
    // Not applied, a latency no test waits out (10 min) lets the echo through; applied, it would hang until readBytes gives up.
    const never = await echoProxy({ random: () => 0.5 });
    never.toxics.add({ type: 'latency', toxicity: 0.4, attributes: { latency: 600_000 } });
    const always = await echoProxy({ random: () => 0.5 });
    always.toxics.add({ type: 'latency', toxicity: 0.6, attributes: { latency: 200 } });
    const client = await connect(never.listen);
    const echoed = readBytes(client, 1, 15_000);
    client.write('x');
    expect((await echoed).toString()).toBe('x');
    expect(await roundTrip(await connect(always.listen), Buffer.from('x'))).toBeGreaterThanOrEqual(200 - SLOP);
  }, 30_000);

  test('toxicity 0 never applies, over many connections', async () => {
    const proxy = await echoProxy();
    proxy.toxics.add({ name: 'off', type: 'timeout', toxicity: 0, attributes: { timeout: 0 } });
    for (let i = 0; i < 5; i++) {
      const client = await connect(proxy.listen);
      // A timeout toxic that applied would hold the connection for good: the deadline only tells the two apart.
      const reply = readBytes(client, 2, 10_000);
      client.write('ok');
      expect((await reply).toString()).toBe('ok');
      client.destroy();
    }
  });
});

describe('bandwidth', () => {
  test('limits the rate to `rate` KB/s', async () => {
    const size = 60_000;
    const upstream = await startServer((socket) => socket.end(Buffer.alloc(size, 1)));
    const proxy = await proxyTo(upstream.address);
    proxy.toxics.add({ type: 'bandwidth', attributes: { rate: 100 } });
    const result = await outcome(await connect(proxy.listen));
    expect(result.data.length).toBe(size);
    // 60,000 bytes at 100 KB/s is 600 ms.
    expect(result.endedAfter).toBeGreaterThanOrEqual(600 - 2 * SLOP);
  });

  test('rate 0 means no limit', async () => {
    // Read as a rate, 0 KB/s would never send (and 1 KB/s would take over 8 minutes): all of it arriving at all
    // is the check; the deadline is far beyond an unthrottled 500 KB on loopback.
    const upstream = await startServer((socket) => socket.end(Buffer.alloc(500_000, 1)));
    const proxy = await proxyTo(upstream.address);
    proxy.toxics.add({ type: 'bandwidth', attributes: { rate: 0 } });
    const result = await outcome(await connect(proxy.listen), 20_000);
    expect(result.data.length).toBe(500_000);
    expect(result.endedAfter).toBeDefined();
  }, 30_000);
});

describe('slicer', () => {
  test('cuts data into many small writes, delay µs apart, without changing a byte', async () => {
    const payload = Buffer.from(Array.from({ length: 3_000 }, (_, i) => i % 251));
    const upstream = await startServer((socket) => socket.end(payload));
    const proxy = await proxyTo(upstream.address);
    proxy.toxics.add({ type: 'slicer', attributes: { average_size: 100, size_variation: 20, delay: 3_000 } });
    const result = await outcome(await connect(proxy.listen));
    expect(result.data.equals(payload)).toBe(true);
    // About 30 slices, 3 ms apart; reads may merge a few.
    expect(result.reads).toBeGreaterThanOrEqual(10);
    expect(result.endedAfter).toBeGreaterThanOrEqual(16 * 3);
  });

  test('slice offsets cover the chunk in order, each slice within average ± variation', () => {
    let seed = 1;
    const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const cuts = sliceOffsets(10_000, 100, 30, random);
    expect(cuts[0]).toBe(0);
    expect(cuts.at(-1)).toBe(10_000);
    for (let i = 1; i < cuts.length; i++) {
      const size = (cuts[i] ?? 0) - (cuts[i - 1] ?? 0);
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(130);
    }
    expect(sliceOffsets(50, 100, 0, random)).toEqual([0, 50]);
    expect(sliceOffsets(0, 100, 0, random)).toEqual([0, 0]);
  });
});

describe('reset_peer', () => {
  test('resets the connection `timeout` ms after data arrives', async () => {
    let serverSaw = '';
    const upstream = await startServer((socket) => socket.on('data', (data: Buffer) => (serverSaw += data.toString())));
    const proxy = await proxyTo(upstream.address);
    proxy.toxics.add({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 100 } });
    const client = await connect(proxy.listen);
    const result = outcome(client);
    client.write('doomed');
    const { error, closedAfter, data } = await result;
    expect(error?.code).toBe('ECONNRESET');
    expect(closedAfter).toBeGreaterThanOrEqual(100 - SLOP);
    expect(data.length).toBe(0);
    expect(serverSaw).toBe('');
  });

  test('timeout 0 resets at once', async () => {
    const proxy = await echoProxy();
    proxy.toxics.add({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } });
    const client = await connect(proxy.listen);
    const result = outcome(client);
    client.write('x');
    expect((await result).error?.code).toBe('ECONNRESET');
  });
});

describe('timeout', () => {
  test('lets nothing through and closes after `timeout` ms', async () => {
    const proxy = await echoProxy();
    proxy.toxics.add({ type: 'timeout', stream: 'upstream', attributes: { timeout: 150 } });
    const client = await connect(proxy.listen);
    const result = outcome(client);
    client.write('anyone there?');
    const { data, closedAfter } = await result;
    expect(data.length).toBe(0);
    expect(closedAfter).toBeGreaterThanOrEqual(150 - SLOP);
  });

  test('timeout 0 keeps the connection open and silent; removing the toxic closes it', async () => {
    const proxy = await echoProxy();
    proxy.toxics.add({ name: 'hang', type: 'timeout', attributes: { timeout: 0 } });
    const client = await connect(proxy.listen);
    client.write('hello');
    expect(await staysSilent(client, 300)).toBe(true);
    const result = outcome(client);
    proxy.toxics.remove('hang');
    expect((await result).data.length).toBe(0);
    await eventually(() => proxy.stats().active === 0);
  });
});

describe('limit_data', () => {
  test('passes exactly `bytes` bytes downstream, then closes', async () => {
    const upstream = await startServer((socket) => socket.write(Buffer.alloc(5_000, 2)));
    const proxy = await proxyTo(upstream.address);
    proxy.toxics.add({ type: 'limit_data', attributes: { bytes: 1_000 } });
    const result = await outcome(await connect(proxy.listen));
    expect(result.data.length).toBe(1_000);
    expect(result.endedAfter).toBeDefined();
  });

  test('counts upstream bytes across writes and cuts the one that crosses the limit', async () => {
    let received = 0;
    const upstream = await startServer((socket) => socket.on('data', (data: Buffer) => (received += data.length)));
    const proxy = await proxyTo(upstream.address);
    proxy.toxics.add({ type: 'limit_data', stream: 'upstream', attributes: { bytes: 250 } });
    const client = await connect(proxy.listen);
    const result = outcome(client);
    for (let i = 0; i < 3; i++) {
      client.write(Buffer.alloc(100));
      await delay(20);
    }
    await result;
    await eventually(() => received === 250);
    await delay(50);
    expect(received).toBe(250);
  });
});

describe('message-level toxics', () => {
  test('are accepted and listed, and leave the byte stream alone', async () => {
    const catalog = createToxicCatalog({
      http_abort: { level: 'message', attributes: z.strictObject({ status: z.number().int().default(503) }) },
    });
    const proxy = await echoProxy({ catalog });
    const toxic = proxy.toxics.add({ type: 'http_abort' });
    expect(toxic).toMatchObject({ name: 'http_abort_downstream', attributes: { status: 503 } });
    const client = await connect(proxy.listen);
    const reply = readBytes(client, 18, 10_000);
    client.write('GET / HTTP/1.1\r\n\r\n');
    expect((await reply).toString()).toBe('GET / HTTP/1.1\r\n\r\n');
    expect(() => createToxicCatalog({ latency: { level: 'message', attributes: z.strictObject({}) } })).toThrow(/built in/);
  });
});
