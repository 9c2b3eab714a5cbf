/**
 * The link's ordering rules with scripted sockets: the destination says "full" when told to, so
 * the moments where the fast path and the toxic path meet can be forced rather than hoped for.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { Link } from '../../../src/mesh/link.js';
import { ToxicCollection } from '../../../src/mesh/toxic-collection.js';
import { createToxicCatalog } from '../../../src/mesh/toxics/catalog.js';

/** A readable side: the test emits 'data' and 'end'; pause/resume are recorded. */
class FakeSource extends EventEmitter {
  paused = false;
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  isPaused(): boolean {
    return this.paused;
  }
}

/** A writable side that reports "full" while `full` is set, and drains when told. */
class FakeDest extends EventEmitter {
  written: string[] = [];
  full = false;
  destroyed = false;
  writableEnded = false;
  write(data: Buffer): boolean {
    this.written.push(data.toString());
    return !this.full;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(bufferBytes = 1024): { source: FakeSource; dest: FakeDest; toxics: ToxicCollection; link: Link; controls: string[] } {
  const source = new FakeSource();
  const dest = new FakeDest();
  const toxics = new ToxicCollection(createToxicCatalog());
  const controls: string[] = [];
  const link = new Link({
    direction: 'upstream',
    source: source as unknown as Socket,
    dest: dest as unknown as Socket,
    toxics: toxics.chain('upstream'),
    bufferBytes,
    random: () => 0,
    controls: { close: () => controls.push('close'), reset: () => controls.push('reset'), fail: () => controls.push('fail') },
  });
  toxics.subscribe(link);
  link.start();
  return { source, dest, toxics, link, controls };
}

describe('Link ordering', () => {
  test('bytes that arrive while queued bytes wait on a full socket go behind them, even with no toxic left', async () => {
    const { source, dest, toxics } = setup();
    toxics.add({ name: 'hold', type: 'latency', stream: 'upstream', attributes: { latency: 60_000 } });
    source.emit('data', Buffer.from('A'));
    source.emit('data', Buffer.from('B'));
    source.emit('data', Buffer.from('C'));
    await settle();
    expect(dest.written).toEqual([]);
    dest.full = true;
    toxics.remove('hold'); // A is handed on at once; the socket is full, so B and C wait.
    await settle();
    expect(dest.written).toEqual(['A']);
    source.emit('data', Buffer.from('D')); // No toxic now, but B and C are still queued.
    source.emit('end');
    for (let i = 0; i < 5; i++) {
      dest.drain();
      dest.full = true;
      await settle();
    }
    expect(dest.written).toEqual(['A', 'B', 'C', 'D']);
    expect(dest.writableEnded).toBe(true);
  });

  test('with no toxic, writes go straight through and a full socket pauses the source until drain', () => {
    const { source, dest } = setup();
    source.emit('data', Buffer.from('1'));
    expect(dest.written).toEqual(['1']);
    dest.full = true;
    source.emit('data', Buffer.from('2'));
    expect(source.paused).toBe(true);
    dest.drain();
    expect(source.paused).toBe(false);
  });

  test('the queue ahead of the toxics is bounded: the source pauses at bufferBytes and resumes below it', async () => {
    const { source, dest, toxics, link } = setup(10);
    toxics.add({ name: 'hold', type: 'latency', stream: 'upstream', attributes: { latency: 60_000 } });
    source.emit('data', Buffer.from('first')); // taken by the toxic
    await settle();
    source.emit('data', Buffer.from('123456'));
    expect(source.paused).toBe(false);
    source.emit('data', Buffer.from('7890'));
    expect(link.queued).toBe(10);
    expect(source.paused).toBe(true);
    toxics.remove('hold');
    await settle();
    expect(dest.written.join('')).toBe('first1234567890');
    expect(source.paused).toBe(false);
  });

  test('a toxic added mid-stream applies to later chunks only; removal does not reorder', async () => {
    const { source, dest, toxics } = setup();
    source.emit('data', Buffer.from('a'));
    toxics.add({ name: 'slice', type: 'slicer', stream: 'upstream', attributes: { average_size: 1, size_variation: 0 } });
    source.emit('data', Buffer.from('bcd'));
    await settle();
    expect(dest.written).toEqual(['a', 'b', 'c', 'd']);
    toxics.remove('slice');
    source.emit('data', Buffer.from('ef'));
    expect(dest.written).toEqual(['a', 'b', 'c', 'd', 'ef']);
  });

  test('toxics of the other direction leave the link on its fast path', () => {
    const { source, dest, toxics, link } = setup();
    toxics.add({ type: 'latency', stream: 'downstream', attributes: { latency: 60_000 } });
    source.emit('data', Buffer.from('x'));
    expect(dest.written).toEqual(['x']);
    expect(link.activeToxics).toBe(0);
  });

  test('limit_data closes the connection once the limit is reached, after writing exactly the limit', async () => {
    const { source, dest, toxics, controls } = setup();
    toxics.add({ type: 'limit_data', stream: 'upstream', attributes: { bytes: 5 } });
    source.emit('data', Buffer.from('abc'));
    source.emit('data', Buffer.from('defg'));
    await settle();
    expect(dest.written.join('')).toBe('abcde');
    expect(controls).toEqual(['close']);
  });
});
