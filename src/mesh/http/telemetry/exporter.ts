/**
 * Sends the mesh's telemetry to an OTLP/HTTP collector (protobuf) without ever making the proxy
 * wait: records go into a bounded queue as they are (when full, new ones are dropped and counted);
 * a timer turns a batch into spans, encodes and sends it, and metrics are collected and sent on
 * their own interval. A backlog goes out in larger batches, two requests in flight: at 9,000
 * requests/s one 512-record batch at a time kept up with only about half (bench/mesh-proxy.mjs). A failed
 * send drops that batch (counted): telemetry is best effort and must not grow memory while the
 * collector is away.
 */
import http from 'node:http';
import https from 'node:https';

/** Trace requests out at once. */
const MAX_IN_FLIGHT = 2;
/** Batches per request while a backlog is sent (512 records, 1,024 spans, are about 250 KB encoded). */
const BACKLOG_BATCHES = 4;

/** How an exporter is made. */
export interface OtlpExporterOptions<T> {
  /** Encodes a batch of records as an ExportTraceServiceRequest; runs off the request path. */
  encodeTraces: (batch: T[]) => Buffer;
  /** Collector base URL (`http://collector:4318`); `/v1/traces` and `/v1/metrics` are appended. */
  endpoint: string;
  /** Records held at most while waiting to be sent. */
  maxQueue?: number;
  /** Records per request; up to four times as many while a backlog is being sent. */
  batchSize?: number;
  /** How often queued spans are sent. */
  flushIntervalMs?: number;
  /** How often `collectMetrics` is called and its result sent. */
  metricsIntervalMs?: number;
  /** Encoded metrics since the last call, if any. */
  collectMetrics?: () => Buffer | undefined;
  /** Per request. */
  timeoutMs?: number;
}

/** What the exporter did. */
export interface ExporterStats {
  queued: number;
  sent: number;
  /** Records dropped: queue full, or their batch could not be delivered. */
  dropped: number;
  sentMetricBatches: number;
  failedMetricBatches: number;
}

/** Batches records (as spans) and metrics to a collector. */
export class OtlpExporter<T> {
  private queue: T[] = [];
  /** Requests in flight (at most MAX_IN_FLIGHT). */
  private inFlight = 0;
  /** Set by close(): the last flush sends everything. */
  private closing = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly tracesUrl: URL;
  private readonly metricsUrl: URL;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;
  private readonly counts = { sent: 0, dropped: 0, sentMetricBatches: 0, failedMetricBatches: 0 };
  private closed = false;

  constructor(private readonly options: OtlpExporterOptions<T>) {
    const base = options.endpoint.replace(/\/+$/, '');
    this.tracesUrl = new URL(`${base}/v1/traces`);
    this.metricsUrl = new URL(`${base}/v1/metrics`);
    this.maxQueue = options.maxQueue ?? 8_192;
    this.batchSize = options.batchSize ?? 512;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    const Agent = this.tracesUrl.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const flush = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    flush.unref();
    this.timers.push(flush);
    if (options.collectMetrics) {
      const metrics = setInterval(() => void this.sendMetrics(), options.metricsIntervalMs ?? 10_000);
      metrics.unref();
      this.timers.push(metrics);
    }
  }

  /** Queues a record; never waits. Past the bound it is dropped and counted. */
  push(record: T): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) this.counts.dropped++;
    else this.queue.push(record);
    // A full batch is sent soon, but not from inside the caller's call: that is a request's path.
    if (this.queue.length === this.batchSize && this.inFlight < MAX_IN_FLIGHT) setImmediate(() => void this.flush());
  }

  /** Counters. */
  stats(): ExporterStats {
    return { queued: this.queue.length, ...this.counts };
  }

  /**
   * Sends every queued record, a batch at a time, with up to MAX_IN_FLIGHT requests out; resolves
   * when the queue is empty (or a send failed) and this call's requests are answered.
   */
  async flush(): Promise<void> {
    const senders: Promise<void>[] = [];
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) senders.push(this.sendQueued());
    await Promise.all(senders);
  }

  /**
   * One sender: takes batches off the queue until it is empty or a send fails. After its first
   * batch it goes on only while a full batch waits (or the exporter is closing): the few records
   * that came in while a request was out wait for the next flush, so a collector slow to answer
   * does not turn a trickle of spans into a stream of tiny requests.
   */
  private async sendQueued(): Promise<void> {
    this.inFlight++;
    try {
      for (let first = true; this.queue.length > 0 && (first || this.closing || this.queue.length >= this.batchSize); first = false) {
        // A backlog goes in larger requests: the collector's cost is largely per request.
        const size = this.queue.length > 2 * this.batchSize ? BACKLOG_BATCHES * this.batchSize : this.batchSize;
        const batch = this.queue.splice(0, size);
        const ok = await this.post(this.tracesUrl, this.options.encodeTraces(batch));
        if (ok) this.counts.sent += batch.length;
        else {
          this.counts.dropped += batch.length;
          break;
        }
      }
    } finally {
      this.inFlight--;
    }
  }

  /** Collects and sends metrics now. */
  async sendMetrics(): Promise<void> {
    const body = this.options.collectMetrics?.();
    if (!body) return;
    if (await this.post(this.metricsUrl, body)) this.counts.sentMetricBatches++;
    else this.counts.failedMetricBatches++;
  }

  /** Stops the timers, sends what is queued (records, then metrics) and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const timer of this.timers) clearInterval(timer);
    this.closing = true;
    await this.flush();
    await this.sendMetrics();
    this.closed = true;
    this.agent.destroy();
  }

  private post(url: URL, body: Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      const request = (url.protocol === 'https:' ? https : http).request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (response) => {
          response.resume();
          response.once('end', () => resolve((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300));
          response.once('error', () => resolve(false));
        },
      );
      request.once('timeout', () => request.destroy(new Error('timeout')));
      request.once('error', () => resolve(false));
      request.end(body);
    });
  }
}
