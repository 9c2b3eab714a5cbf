/**
 * ExportLogsServiceRequest and ExportTraceServiceRequest from the protobuf wire format, and the
 * nesting every export request shares (metrics reuse it, in protobuf-metrics.ts).
 * Field numbers follow opentelemetry-proto (collector/{logs,trace}/v1, logs/v1/logs.proto,
 * trace/v1/trace.proto, common/v1/common.proto, resource/v1/resource.proto); they were checked
 * against the official JS serializer in @opentelemetry/otlp-transformer, and the tests decode
 * bodies produced by the official exporters. Unknown fields are skipped, as protobuf requires.
 */
import type { AnyValue, KeyValue, RawLogRecord, RawResourceGroup, RawScope, RawSpan, RecordBudget } from './model.js';
import { ProtobufReader, Wire } from './protobuf-reader.js';

/** Parses an ExportLogsServiceRequest. */
export function parseLogsProtobuf(body: Buffer, budget: RecordBudget, maxDepth: number): RawResourceGroup<RawLogRecord>[] {
  return parseResourceGroups(body, maxDepth, (r, into) => {
    budget.take();
    into.push(parseLogRecord(r, maxDepth));
  });
}

/** Parses an ExportTraceServiceRequest. */
export function parseTracesProtobuf(body: Buffer, budget: RecordBudget, maxDepth: number): RawResourceGroup<RawSpan>[] {
  return parseResourceGroups(body, maxDepth, (r, into) => {
    budget.take();
    into.push(parseSpan(r, maxDepth));
  });
}

/**
 * Reads one message of a scope's repeated field 2 (a log record, a span, a metric) and appends
 * the records it holds, taking each from the budget. A metric holds many records (its points).
 */
export type ScopeItemParser<R> = (reader: ProtobufReader, into: R[]) => void;

/**
 * Every OTLP export request nests the same way: request.1 → {resource: 1, scope_*: 2 → {scope: 1,
 * items: 2}}. Parses that nesting, leaving each item to `parseItem`.
 */
export function parseResourceGroups<R>(body: Buffer, maxDepth: number, parseItem: ScopeItemParser<R>): RawResourceGroup<R>[] {
  const groups: RawResourceGroup<R>[] = [];
  const reader = new ProtobufReader(body);
  while (!reader.atEnd()) {
    const { field, wire } = reader.tag();
    if (field !== 1) { reader.skip(wire); continue; }
    reader.expect(field, wire, Wire.len);
    groups.push(parseResourceGroup(reader.message(), parseItem, maxDepth));
  }
  return groups;
}

function parseResourceGroup<R>(r: ProtobufReader, parseItem: ScopeItemParser<R>, maxDepth: number): RawResourceGroup<R> {
  const group: RawResourceGroup<R> = { resource: [], scopes: [] };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(field, wire, Wire.len);
      group.resource.push(...parseResource(r.message(), maxDepth));
    } else if (field === 2) {
      r.expect(field, wire, Wire.len);
      group.scopes.push(parseScopeGroup(r.message(), parseItem));
    } else r.skip(wire);
  }
  return group;
}

function parseScopeGroup<R>(r: ProtobufReader, parseItem: ScopeItemParser<R>): RawResourceGroup<R>['scopes'][number] {
  const scopeGroup: RawResourceGroup<R>['scopes'][number] = { scope: { name: '', version: '' }, records: [] };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(field, wire, Wire.len);
      scopeGroup.scope = parseScope(r.message());
    } else if (field === 2) {
      r.expect(field, wire, Wire.len);
      parseItem(r.message(), scopeGroup.records);
    } else r.skip(wire);
  }
  return scopeGroup;
}

function parseResource(r: ProtobufReader, maxDepth: number): KeyValue[] {
  const attributes: KeyValue[] = [];
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(field, wire, Wire.len);
      attributes.push(parseKeyValue(r.message(), 0, maxDepth));
    } else r.skip(wire);
  }
  return attributes;
}

function parseScope(r: ProtobufReader): RawScope {
  const scope: RawScope = { name: '', version: '' };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expect(field, wire, Wire.len); scope.name = r.string('scope name'); }
    else if (field === 2) { r.expect(field, wire, Wire.len); scope.version = r.string('scope version'); }
    else r.skip(wire);
  }
  return scope;
}

function parseLogRecord(r: ProtobufReader, maxDepth: number): RawLogRecord {
  const log: RawLogRecord = {
    timeUnixNano: 0n, observedTimeUnixNano: 0n, severityNumber: 0, severityText: '',
    body: { kind: 'empty' }, attributes: [], traceId: '', spanId: '',
  };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(field, wire, Wire.fixed64); log.timeUnixNano = r.fixed64(); break;
      case 2: r.expect(field, wire, Wire.varint); log.severityNumber = r.int32(); break;
      case 3: r.expect(field, wire, Wire.len); log.severityText = r.string('severity_text'); break;
      case 5: r.expect(field, wire, Wire.len); log.body = parseAnyValue(r.message(), 0, maxDepth); break;
      case 6: r.expect(field, wire, Wire.len); log.attributes.push(parseKeyValue(r.message(), 0, maxDepth)); break;
      case 9: r.expect(field, wire, Wire.len); log.traceId = r.bytes().toString('hex'); break;
      case 10: r.expect(field, wire, Wire.len); log.spanId = r.bytes().toString('hex'); break;
      case 11: r.expect(field, wire, Wire.fixed64); log.observedTimeUnixNano = r.fixed64(); break;
      default: r.skip(wire);
    }
  }
  return log;
}

function parseSpan(r: ProtobufReader, maxDepth: number): RawSpan {
  const span: RawSpan = {
    traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0,
    startTimeUnixNano: 0n, endTimeUnixNano: 0n, attributes: [], statusCode: 0, statusMessage: '',
  };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(field, wire, Wire.len); span.traceId = r.bytes().toString('hex'); break;
      case 2: r.expect(field, wire, Wire.len); span.spanId = r.bytes().toString('hex'); break;
      case 4: r.expect(field, wire, Wire.len); span.parentSpanId = r.bytes().toString('hex'); break;
      case 5: r.expect(field, wire, Wire.len); span.name = r.string('span name'); break;
      case 6: r.expect(field, wire, Wire.varint); span.kind = r.int32(); break;
      case 7: r.expect(field, wire, Wire.fixed64); span.startTimeUnixNano = r.fixed64(); break;
      case 8: r.expect(field, wire, Wire.fixed64); span.endTimeUnixNano = r.fixed64(); break;
      case 9: r.expect(field, wire, Wire.len); span.attributes.push(parseKeyValue(r.message(), 0, maxDepth)); break;
      case 15: r.expect(field, wire, Wire.len); parseStatus(r.message(), span); break;
      default: r.skip(wire);
    }
  }
  return span;
}

function parseStatus(r: ProtobufReader, span: RawSpan): void {
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 2) { r.expect(field, wire, Wire.len); span.statusMessage = r.string('status message'); }
    else if (field === 3) { r.expect(field, wire, Wire.varint); span.statusCode = r.int32(); }
    else r.skip(wire);
  }
}

/** Parses a KeyValue; `depth` counts the arrays and kvlists around it. */
export function parseKeyValue(r: ProtobufReader, depth: number, maxDepth: number): KeyValue {
  const kv: KeyValue = { key: '', value: { kind: 'empty' } };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expect(field, wire, Wire.len); kv.key = r.string('attribute key'); }
    else if (field === 2) { r.expect(field, wire, Wire.len); kv.value = parseAnyValue(r.message(), depth, maxDepth); }
    else r.skip(wire);
  }
  return kv;
}

// `depth` counts the arrays and kvlists around this value. Past the limit the bytes are not
// descended into (they were bounds-checked already), so recursion depth stays bounded.
function parseAnyValue(r: ProtobufReader, depth: number, maxDepth: number): AnyValue {
  if (depth > maxDepth) return { kind: 'tooDeep' };
  let value: AnyValue = { kind: 'empty' };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(field, wire, Wire.len); value = { kind: 'string', value: r.string('string_value') }; break;
      case 2: r.expect(field, wire, Wire.varint); value = { kind: 'bool', value: r.varint64() !== 0n }; break;
      case 3: r.expect(field, wire, Wire.varint); value = { kind: 'int', value: BigInt.asIntN(64, r.varint64()) }; break;
      case 4: r.expect(field, wire, Wire.fixed64); value = { kind: 'double', value: r.double() }; break;
      case 5: r.expect(field, wire, Wire.len); value = { kind: 'array', values: parseArray(r.message(), depth + 1, maxDepth) }; break;
      case 6: r.expect(field, wire, Wire.len); value = { kind: 'kvlist', values: parseKvList(r.message(), depth + 1, maxDepth) }; break;
      case 7: r.expect(field, wire, Wire.len); value = { kind: 'bytes', value: r.bytes() }; break;
      default: r.skip(wire);
    }
  }
  return value;
}

function parseArray(r: ProtobufReader, depth: number, maxDepth: number): AnyValue[] {
  const values: AnyValue[] = [];
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expect(field, wire, Wire.len); values.push(parseAnyValue(r.message(), depth, maxDepth)); }
    else r.skip(wire);
  }
  return values;
}

function parseKvList(r: ProtobufReader, depth: number, maxDepth: number): KeyValue[] {
  const values: KeyValue[] = [];
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expect(field, wire, Wire.len); values.push(parseKeyValue(r.message(), depth, maxDepth)); }
    else r.skip(wire);
  }
  return values;
}
