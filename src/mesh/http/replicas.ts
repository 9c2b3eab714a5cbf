/**
 * The replicas behind an HTTP proxy: round robin among the healthy ones, and outlier ejection — a
 * replica that fails `consecutiveFailures` times in a row is skipped for `coolOffMs`, then tried
 * again (one failure then ejects it anew). When every replica is ejected, all are used (Envoy's
 * "panic" rule): a guess beats a certain 503.
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

/** Round robin with outlier ejection over a fixed list of replicas. */
export class ReplicaSet {
  readonly replicas: readonly Replica[];
  private next = 0;

  constructor(
    targets: readonly HostPort[],
    private ejection: EjectionSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.replicas = targets.map((target) => ({ target, address: formatHostPort(target.host, target.port), consecutiveFailures: 0, ejectedUntil: 0, ejections: 0 }));
  }

  /** Takes new ejection settings; current state is kept. */
  configure(ejection: EjectionSettings): void {
    this.ejection = ejection;
  }

  /** The next healthy replica in turn, preferring one not in `avoid` (the replica that just failed, on a retry). */
  pick(avoid?: Replica): Replica {
    const now = this.now();
    const count = this.replicas.length;
    let fallback: Replica | undefined;
    for (let i = 0; i < count; i++) {
      const replica = this.replicas[(this.next + i) % count] as Replica;
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
    const replica = this.replicas[this.next % count] as Replica;
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
