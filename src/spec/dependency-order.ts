/**
 * Ordering services by `depends_on`. Lives in spec, the lowest layer that needs it (the loader
 * reports cycles); graph/dependency-graph.ts is its public home for everything above.
 * Edges: node → the nodes it depends on. The nodes are the record's keys; an edge to a name that
 * is not a key is ignored by findCycle and topologicalOrder (the caller decides what a missing
 * dependency means) and followed by withDependencies.
 */
import { FlotillaError } from '../core/errors.js';

type Edges = Readonly<Record<string, readonly string[]>>;

function nodesOf(dependsOn: Edges): string[] {
  return Object.keys(dependsOn).sort();
}

/** A node's dependencies that are nodes, sorted, without repeats. */
function edgesOf(dependsOn: Edges, node: string): string[] {
  const deps = Object.hasOwn(dependsOn, node) ? (dependsOn[node] ?? []) : [];
  return [...new Set(deps)].filter((dep) => Object.hasOwn(dependsOn, dep)).sort();
}

/** The first cycle found, as a closed path (`['a', 'b', 'c', 'a']`), visiting nodes in name order; undefined when there is none. */
export function findCycle(dependsOn: Edges): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of nodesOf(dependsOn)) {
    if (state.has(root)) continue;
    // Depth-first with an explicit stack, so a long chain of services cannot overflow the call stack.
    const path: string[] = [root];
    const pending: string[][] = [edgesOf(dependsOn, root)];
    state.set(root, 'visiting');
    while (path.length > 0) {
      const next = pending[pending.length - 1]?.shift();
      if (next === undefined) {
        state.set(path.pop() as string, 'done');
        pending.pop();
        continue;
      }
      const seen = state.get(next);
      if (seen === 'visiting') return [...path.slice(path.indexOf(next)), next];
      if (seen === 'done') continue;
      state.set(next, 'visiting');
      path.push(next);
      pending.push(edgesOf(dependsOn, next));
    }
  }
  return undefined;
}

/** Every node, dependencies before dependents, ties broken by name; throws a FlotillaError (DEPENDENCY_CYCLE) on a cycle. */
export function topologicalOrder(dependsOn: Edges): string[] {
  const nodes = nodesOf(dependsOn);
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    const deps = edgesOf(dependsOn, node);
    waitingOn.set(node, deps.length);
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list) list.push(node);
      else dependents.set(dep, [node]);
    }
  }
  const ready = new MinHeap(nodes.filter((node) => waitingOn.get(node) === 0));
  const order: string[] = [];
  for (let node = ready.pop(); node !== undefined; node = ready.pop()) {
    order.push(node);
    for (const dependent of dependents.get(node) ?? []) {
      const left = (waitingOn.get(dependent) ?? 0) - 1;
      waitingOn.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }
  if (order.length < nodes.length) {
    const cycle = findCycle(dependsOn) ?? [];
    throw new FlotillaError('DEPENDENCY_CYCLE', `dependency cycle: ${cycle.join(' -> ')}`);
  }
  return order;
}

/** `roots` and everything they depend on, directly or not. */
export function withDependencies(dependsOn: Edges, roots: readonly string[]): Set<string> {
  const out = new Set<string>();
  const pending = [...roots];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (out.has(node)) continue;
    out.add(node);
    if (Object.hasOwn(dependsOn, node)) pending.push(...(dependsOn[node] ?? []));
  }
  return out;
}

/** A binary heap of strings, smallest first, so ties in the order are broken by name in O(log n). */
class MinHeap {
  private readonly items: string[] = [];

  constructor(initial: readonly string[]) {
    for (const item of initial) this.push(item);
  }

  push(item: string): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as string) <= item) break;
      items[i] = items[parent] as string;
      i = parent;
    }
    items[i] = item;
  }

  pop(): string | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as string) < (items[left] as string) ? right : left;
      if ((items[child] as string) >= last) break;
      items[i] = items[child] as string;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
