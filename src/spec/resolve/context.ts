/** What resolving a validated model needs: where things are (for messages) and the environment. */
import type { Lookup } from '../interpolate.js';
import { formatPath, locate, type IssueCollector, type IssueTarget } from '../issues.js';
import { didYouMean } from '../suggest.js';
import type { PathSegment, YNode } from '../yaml-node.js';

/** Names declared at the top level, that services may refer to. */
export interface Declared {
  networks: ReadonlySet<string>;
  volumes: ReadonlySet<string>;
  secrets: ReadonlySet<string>;
  configs: ReadonlySet<string>;
}

const NOUN: Record<keyof Declared, string> = { networks: 'network', volumes: 'volume', secrets: 'secret', configs: 'config' };

/** Shared by the resolvers: positions for messages, variables, declared names. */
export class ResolveContext {
  constructor(
    /** The merged model, for positions. */
    readonly root: YNode,
    readonly issues: IssueCollector,
    private readonly onWarning: (message: string) => void,
    /** Shell and .env variables, for bare `KEY` entries in environment and args. */
    readonly lookup: Lookup,
    readonly projectName: string,
    readonly declared: Declared,
  ) {}

  /** Reports a reference to a top-level resource that is not declared; true when it is declared. */
  checkDeclared(kind: keyof Declared, name: string, path: readonly PathSegment[]): boolean {
    const names = this.declared[kind];
    if (names.has(name)) return true;
    this.fail(path, `${NOUN[kind]} '${name}' is not declared under the top-level '${kind}:' key${didYouMean(name, names)}`);
    return false;
  }

  /** Reports a problem at `path`. */
  fail(path: readonly PathSegment[], message: string, target: IssueTarget = 'value'): void {
    this.issues.at(this.root, path, message, target);
  }

  /** Reports something that works but deserves attention, with its place. */
  warn(path: readonly PathSegment[], message: string): void {
    const position = locate(this.root, path, 'key');
    const where = position ? `${position.file}:${position.line}:${position.column} ` : '';
    this.onWarning(`${where}${formatPath(path)}: ${message}`);
  }
}
