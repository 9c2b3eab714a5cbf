/**
 * Dependency graphs of services: edges point from a node to the nodes it depends on.
 * Every function is linear in nodes plus edges, so planning stays linear in the number of services.
 */

/** A cycle as the path that closes it (`['a', 'b', 'a']`), or undefined when there is none. */
export function findCycle(dependsOn: Record<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'visiting');
    path.push(node);
    for (const next of [...(dependsOn[node] ?? [])].sort()) {
      if (!(next in dependsOn)) continue;
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of Object.keys(dependsOn).sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Nodes with every dependency before its dependents; ties broken by name. Throws on a cycle. */
export function topologicalOrder(dependsOn: Record<string, readonly string[]>): string[] {
  const cycle = findCycle(dependsOn);
  if (cycle) throw new Error(`dependency cycle: ${cycle.join(' -> ')}`);
  const order: string[] = [];
  const placed = new Set<string>();
  const place = (node: string): void => {
    if (placed.has(node)) return;
    placed.add(node);
    for (const next of [...(dependsOn[node] ?? [])].sort()) if (next in dependsOn) place(next);
    order.push(node);
  };
  for (const node of Object.keys(dependsOn).sort()) place(node);
  return order;
}

/** The roots plus everything they depend on, transitively. */
export function withDependencies(dependsOn: Record<string, readonly string[]>, roots: readonly string[]): Set<string> {
  const found = new Set<string>();
  const stack = [...roots];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (found.has(node)) continue;
    found.add(node);
    stack.push(...(dependsOn[node] ?? []));
  }
  return found;
}
