import { FlotillaError } from '../core/errors.js';
import type { PortSpec, Stack } from '../spec/types.js';
import type { HostPortUse, Observation } from './observation.js';
import type { ServiceSteps } from './plan.js';

const BINDS_PORTS = new Set(['create-container', 'recreate-container', 'start-container']);
const FREES_PORTS = new Set(['recreate-container', 'remove-container']);

/** A fixed host port a service asks for. */
interface WantedPort {
  service: string;
  hostIp: string;
  port: number;
  protocol: string;
}

/**
 * Fails, before anything is created, when a container this plan starts would publish a host port
 * that is already held — by another container, another process, or another service of the stack.
 */
export function checkPorts(stack: Stack, services: ServiceSteps[], observation: Observation): void {
  const problems: string[] = [];
  const freed = new Set(services.flatMap((steps) => steps.operations.filter((op) => FREES_PORTS.has(op.type)).map((op) => op.containerId)));
  const wanted: WantedPort[] = [];
  for (const steps of services) {
    // A mesh proxy publishes only its API, on an ephemeral port: the service's own ports are its replicas'.
    if (!steps.operations.some((op) => BINDS_PORTS.has(op.type) && op.role === undefined)) continue;
    const service = stack.services[steps.service];
    if (!service) continue;
    const fixed = service.ports.filter(isFixed);
    if (fixed.length > 0 && service.replicas > 1) {
      problems.push(`service ${service.name} runs ${service.replicas} replicas but publishes fixed host port ${describe(fixed[0] as PortSpec)}: only one replica can bind it`);
    }
    for (const port of fixed) {
      wanted.push({ service: service.name, hostIp: port.hostIp ?? '', port: Number(port.published), protocol: port.protocol });
    }
  }
  const taken: (HostPortUse | WantedPort)[] = observation.portsInUse.filter((use) => !use.containerId || !freed.has(use.containerId));
  for (const want of wanted) {
    const holder = taken.find((use) => use.port === want.port && use.protocol === want.protocol && ipsOverlap(use.hostIp, want.hostIp));
    if (holder) {
      const by = 'holder' in holder ? holder.holder : `service ${holder.service}`;
      problems.push(`service ${want.service}: host port ${want.port}/${want.protocol} is already taken by ${by}`);
    }
    taken.push(want);
  }
  if (problems.length > 0) {
    throw new FlotillaError('PORT_IN_USE', problems.join('\n'), {
      hint: 'Stop what holds the port, or publish another one (for example with a variable: "${PORT:-8080}:80").',
    });
  }
}

function isFixed(port: PortSpec): boolean {
  return port.published !== undefined && /^\d+$/.test(port.published) && port.published !== '0';
}

function describe(port: PortSpec): string {
  return `${port.published ?? ''}/${port.protocol}`;
}

const ANY = new Set(['', '0.0.0.0', '::']);

function ipsOverlap(a: string, b: string): boolean {
  return ANY.has(a) || ANY.has(b) || a === b;
}
