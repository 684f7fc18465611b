// kafkajs' log lines, routed to kbk's logger (stderr by default) at WARN and above. Log entries
// carry only what kafkajs puts there (broker, client id, error text); SASL secrets are never part
// of a kafkajs log entry, but we still drop the fields that could echo request payloads.
import {logLevel, type LogEntry, type logCreator} from 'kafkajs'

export interface KafkaLogger {
  warn(message: string): void
  error(message: string): void
  debug?(message: string): void
}

const DROPPED = new Set(['stack', 'payload', 'request', 'response', 'sasl', 'password', 'username'])

export function stderrLogger(prefix: string): KafkaLogger {
  return {
    warn: (m) => process.stderr.write(`${prefix} warn: ${m}\n`),
    error: (m) => process.stderr.write(`${prefix} error: ${m}\n`),
  }
}

export function formatLogEntry(entry: LogEntry): string {
  const {message, ...rest} = entry.log
  const extra = Object.entries(rest)
    .filter(([k, v]) => !DROPPED.has(k) && k !== 'timestamp' && k !== 'logger' && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`)
  return `[${entry.namespace || 'kafkajs'}] ${message}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`
}

/**
 * kafkajs logs every broker error response and every consumer crash at ERROR, then retries or
 * throws; kbk reports the final outcome as a KbkError, so those lines are debug noise, not news.
 */
export function isRoutineKafkajsError(entry: LogEntry): boolean {
  return entry.namespace === 'Connection' || entry.namespace === 'BrokerPool' || entry.log.message.startsWith('Crash:') || entry.log.message.startsWith('Restarting the consumer')
}

export function kafkajsLogCreator(logger: KafkaLogger): logCreator {
  return () => (entry) => {
    if (entry.level === logLevel.ERROR && isRoutineKafkajsError(entry)) logger.debug?.(formatLogEntry(entry))
    else if (entry.level === logLevel.ERROR) logger.error(formatLogEntry(entry))
    else if (entry.level === logLevel.WARN) logger.warn(formatLogEntry(entry))
    else logger.debug?.(formatLogEntry(entry))
  }
}
