// Types of junit-reporter.mjs, for the TypeScript that tests it (test/unit/shop).

/** One event of node:test's reporter stream (only `type` and `data` are read). */
export interface TestEvent {
  type: string;
  data?: Record<string, unknown> | null;
}

/** Escapes text for an XML attribute or element, dropping what XML cannot carry. */
export function escapeXml(value: unknown): string;

/** Collects test:pass and test:fail events into files and cases; `report()` renders the XML. */
export class JUnitCollector {
  constructor(options?: { cwd?: string; now?: () => Date; host?: string });
  add(event: TestEvent): void;
  report(): string;
}

/** The reporter: node:test passes the events; the XML comes out once they end. */
export default function junitReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string, void, unknown>;
