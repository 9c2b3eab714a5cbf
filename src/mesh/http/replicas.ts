/**
 * The replicas behind an HTTP proxy: round robin among the healthy ones, and outlier ejection — a
 * replica that fails `consecutiveFailures` times in a row is skipped for `coolOffMs`, then tried
 * again (one failure then ejects it anew). When every replica is ejected, all are used (Envoy's
 * "panic" rule): a guess beats a certain 503. The list can be replaced (a name resolved again):
 * replicas at addresses that stay keep their state.
 */
import type { HostPort } from '../address.js';
import { formatHostPort } from '../address.js';

/** One upstream replica and its health. */
export interface Replica {
  readonly target: HostPort;
  /** `host:port`. */
  readonly address: string;
  consecutiveFailures: number;
  /** `performance.now()` until which the replica is skipped; 0 when it is in. */
  ejectedUntil: number;
  /** Times it was ejected. */
  ejections: number;
}

/** Ejection settings. */
export interface EjectionSettings {
  consecutiveFailures: number;
  coolOffMs: number;
}

function newReplica(target: HostPort): Replica {
  return { target, address: formatHostPort(target.host, target.port), consecutiveFailures: 0, ejectedUntil: 0, ejections: 0 };
}

/** Round robin with outlier ejection over a list of replicas. */
export class ReplicaSet {
  private list: readonly Replica[];
  private next = 0;

  constructor(
    targets: readonly HostPort[],
    private ejection: EjectionSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.list = targets.map(newReplica);
  }

  /** The replicas, in turn order. */
  get replicas(): readonly Replica[] {
    return this.list;
  }

  /** Replaces the list: a replica whose address stays keeps its health; new ones start afresh; the others go. */
  replace(targets: readonly HostPort[]): void {
    const current = new Map(this.list.map((replica) => [replica.address, replica]));
    const next: Replica[] = [];
    const seen = new Set<string>();
    for (const target of targets) {
      const address = formatHostPort(target.host, target.port);
      if (seen.has(address)) continue;
      seen.add(address);
      next.push(current.get(address) ?? newReplica(target));
    }
    if (next.length === 0) return;
    this.list = next;
    this.next %= next.length;
  }

  /** Takes new ejection settings; current state is kept. */
  configure(ejection: EjectionSettings): void {
    this.ejection = ejection;
  }

  /** The next healthy replica in turn, preferring one not in `avoid` (the replica that just failed, on a retry). */
  pick(avoid?: Replica): Replica {
    const now = this.now();
    const count = this.list.length;
    let fallback: Replica | undefined;
    for (let i = 0; i < count; i++) {
      const replica = this.list[(this.next + i) % count] as Replica;
      if (replica.ejectedUntil > now) continue;
      if (replica === avoid && count > 1) {
        fallback ??= replica;
        continue;
      }
      this.next = (this.next + i + 1) % count;
      return replica;
    }
    if (fallback) return fallback;
    // Every replica is ejected: round robin over all of them.
    const replica = this.list[this.next % count] as Replica;
    this.next = (this.next + 1) % count;
    return replica;
  }

  /** Records a success: the failure streak ends. */
  succeeded(replica: Replica): void {
    replica.consecutiveFailures = 0;
  }

  /** Records a failure; ejects the replica when its streak reaches the threshold. */
  failed(replica: Replica): void {
    replica.consecutiveFailures++;
    const threshold = this.ejection.consecutiveFailures;
    if (threshold > 0 && replica.consecutiveFailures >= threshold && replica.ejectedUntil <= this.now()) {
      replica.ejectedUntil = this.now() + this.ejection.coolOffMs;
      replica.ejections++;
      // Back in after the cool-off on probation: the next failure ejects it again.
      replica.consecutiveFailures = threshold - 1;
    }
  }

  /** Whether a replica is ejected now. */
  isEjected(replica: Replica): boolean {
    return replica.ejectedUntil > this.now();
  }
}
