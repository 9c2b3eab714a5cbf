/** The interrupt of work whose undo must not be skipped (chaos run): SIGTERM aborts like Ctrl-C; later signals only warn. */
import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { abortUnskippably } from '../../../src/cli/interrupt.js';

describe('abortUnskippably', () => {
  test.each(['SIGINT', 'SIGTERM'] as const)('%s aborts; every later SIGINT or SIGTERM warns and leaves the abort as it is', (first) => {
    const source = new EventEmitter();
    const written: string[] = [];
    const interrupt = abortUnskippably({ source, write: (text) => written.push(text) });
    expect(interrupt.signal.aborted).toBe(false);
    source.emit(first);
    expect(interrupt.signal.aborted).toBe(true);
    expect(written).toEqual(['\nInterrupted: stopping, then rolling back (that is not skipped)\n']);
    source.emit('SIGINT');
    source.emit('SIGTERM');
    expect(written.slice(1)).toEqual([
      'Still rolling back: it runs to its end so nothing is left behind; wait for it\n',
      'Still rolling back: it runs to its end so nothing is left behind; wait for it\n',
    ]);
    interrupt.dispose();
    expect(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM')).toBe(0);
  });
});
