/**
 * Log levels as applications write them → OTLP severity. Names are matched case-insensitively;
 * numbers are pino's and bunyan's (10 trace … 60 fatal). The text sent is the group name
 * (`INFO`, `WARN`), so queries by level see one spelling whatever the application wrote.
 */

/** An OTLP severity: number 1–24 and its group name; 0 and '' when unknown. */
export interface Severity {
  number: number;
  text: string;
}

const UNKNOWN: Severity = { number: 0, text: '' };
const TRACE: Severity = { number: 1, text: 'TRACE' };
const DEBUG: Severity = { number: 5, text: 'DEBUG' };
const INFO: Severity = { number: 9, text: 'INFO' };
const WARN: Severity = { number: 13, text: 'WARN' };
const ERROR: Severity = { number: 17, text: 'ERROR' };
const FATAL: Severity = { number: 21, text: 'FATAL' };

const BY_NAME: Readonly<Record<string, Severity>> = {
  trace: TRACE, verbose: TRACE,
  debug: DEBUG,
  info: INFO, information: INFO, informational: INFO, notice: INFO,
  warn: WARN, warning: WARN,
  error: ERROR, err: ERROR,
  fatal: FATAL, critical: FATAL, crit: FATAL, panic: FATAL, emerg: FATAL, emergency: FATAL, alert: FATAL,
};

/** The severity of a level field's value; UNKNOWN for anything else. */
export function severityOf(level: unknown): Severity {
  if (typeof level === 'string') return BY_NAME[level.trim().toLowerCase()] ?? UNKNOWN;
  if (typeof level !== 'number' || !Number.isFinite(level) || level <= 0) return UNKNOWN;
  // pino/bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; custom levels fall in between.
  if (level < 20) return TRACE;
  if (level < 30) return DEBUG;
  if (level < 40) return INFO;
  if (level < 50) return WARN;
  if (level < 60) return ERROR;
  return FATAL;
}
