/** Dependency ordering: cycles named in order, dependencies first with ties broken by name, closures. */
import { describe, expect, it } from 'vitest';
import { FlotillaError } from '../../../src/core/errors.js';
import { findCycle, topologicalOrder, withDependencies } from '../../../src/graph/index.js';

describe('findCycle', () => {
  it('returns undefined for a graph without cycles', () => {
    expect(findCycle({ api: ['db', 'cache'], worker: ['db'], db: [], cache: [] })).toBeUndefined();
  });

  it('returns the cycle as a closed path, starting from the first node by name', () => {
    expect(findCycle({ c: ['a'], a: ['b'], b: ['c'] })).toEqual(['a', 'b', 'c', 'a']);
  });

  it('finds a cycle below an acyclic entry point', () => {
    expect(findCycle({ app: ['x'], x: ['y'], y: ['x'] })).toEqual(['x', 'y', 'x']);
  });

  it('finds a self-dependency', () => {
    expect(findCycle({ a: ['a'] })).toEqual(['a', 'a']);
  });

  it('finds a cycle through a very long chain without overflowing the stack', () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 50_000; i++) edges[`n${i}`] = [`n${(i + 1) % 50_000}`];
    expect(findCycle(edges)).toHaveLength(50_001);
  });

  it('ignores edges to names that are not nodes', () => {
    expect(findCycle({ a: ['missing'] })).toBeUndefined();
  });
});

describe('topologicalOrder', () => {
  it('puts dependencies first and breaks ties by name', () => {
    expect(topologicalOrder({ gateway: ['cart', 'catalog'], cart: ['db', 'cache'], catalog: ['db'], db: [], cache: [], admin: [] })).toEqual([
      'admin',
      'cache',
      'db',
      'cart',
      'catalog',
      'gateway',
    ]);
  });

  it('is stable whatever the order of keys and edges', () => {
    const a = topologicalOrder({ z: ['y'], y: [], x: ['y'], w: [] });
    const b = topologicalOrder({ w: [], x: ['y'], y: [], z: ['y'] });
    expect(a).toEqual(['w', 'y', 'x', 'z']);
    expect(b).toEqual(a);
  });

  it('leaves out names that are only dependencies, and tolerates repeated edges', () => {
    expect(topologicalOrder({ api: ['db', 'db', 'external'], db: [] })).toEqual(['db', 'api']);
  });

  it('throws a FlotillaError naming the cycle', () => {
    expect(() => topologicalOrder({ a: ['b'], b: ['a'], c: [] })).toThrow(new FlotillaError('DEPENDENCY_CYCLE', 'dependency cycle: a -> b -> a'));
  });

  it('orders a 20,000-service chain without overflowing the stack', () => {
    const edges: Record<string, string[]> = {};
    const names = Array.from({ length: 20000 }, (_, i) => `s${String(i).padStart(5, '0')}`);
    names.forEach((name, i) => (edges[name] = i === 0 ? [] : [names[i - 1] ?? '']));
    expect(topologicalOrder(edges)).toEqual(names);
  });
});

describe('withDependencies', () => {
  it('returns the roots and everything they depend on, transitively', () => {
    const edges = { gateway: ['cart'], cart: ['db', 'cache'], db: [], cache: [], admin: ['db'] };
    expect([...withDependencies(edges, ['gateway'])].sort()).toEqual(['cache', 'cart', 'db', 'gateway']);
    expect([...withDependencies(edges, ['admin', 'cache'])].sort()).toEqual(['admin', 'cache', 'db']);
  });

  it('terminates on cycles', () => {
    expect([...withDependencies({ a: ['b'], b: ['a'] }, ['a'])].sort()).toEqual(['a', 'b']);
  });
});
