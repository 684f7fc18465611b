// The ways metrics leave a kbk run, all from the same registry: a node_exporter textfile written
// atomically (at the end, and every 15 s during a long run, so a CronJob's file is never half
// written and a stuck run is visible), and a /metrics endpoint served while the command runs.
import {createServer, type Server} from 'node:http'
import {rename, unlink, writeFile} from 'node:fs/promises'
import {KbkError} from '../errors.js'
import type {KbkMetrics} from './registry.js'

export const TEXTFILE_INTERVAL_MS = 15_000

/** temp file + rename in the same directory: the textfile collector sees the old file or the new one, never a torn one. */
export async function writeTextfile(path: string, metrics: KbkMetrics): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  try {
    await writeFile(tmp, await metrics.text(), {mode: 0o644})
    await rename(tmp, path)
  } catch (error) {
    await unlink(tmp).catch(() => {})
    throw new KbkError('KBK_METRICS_OUTPUT', `Could not write the metrics file ${path}: ${(error as Error).message}`, {
      suggestion: 'Check that the directory of --metrics-file exists and is writable.',
      cause: error,
    })
  }
}

export interface MetricsServer {
  /** host:port actually bound (port 0 picks a free one). */
  address: string
  close(): Promise<void>
}

export async function serveMetrics(metrics: KbkMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {allow: 'GET, HEAD'}).end()
      return
    }
    if (path !== '/metrics') {
      res.writeHead(404, {'content-type': 'text/plain'}).end('kbk serves /metrics only\n')
      return
    }
    metrics.text().then(
      (body) => res.writeHead(200, {'content-type': metrics.contentType}).end(req.method === 'HEAD' ? undefined : body),
      (error: unknown) => res.writeHead(500, {'content-type': 'text/plain'}).end(`${(error as Error).message}\n`),
    )
  })
  // Scrapes must never keep a finished command alive.
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void =>
      reject(
        new KbkError('KBK_METRICS_OUTPUT', `Could not serve metrics on ${host}:${port}: ${error.code ?? error.message}.`, {
          suggestion: error.code === 'EADDRINUSE' ? 'Pick a free --metrics-port (0 picks one and prints it).' : 'Check --metrics-host and --metrics-port.',
          cause: error,
        }),
      )
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const bound = server.address()
  const address = bound && typeof bound === 'object' ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : `${host}:${port}`
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

export interface MetricsSessionOptions {
  file?: string
  port?: number
  host?: string
  /** Told where /metrics is served. */
  onServing?: (url: string) => void
  intervalMs?: number
}

/** The outputs of one command run: start before the work, finish() after it (also when it failed). */
export class MetricsSession {
  private timer: NodeJS.Timeout | undefined
  private server: MetricsServer | undefined
  private writing: Promise<void> = Promise.resolve()

  private constructor(
    readonly metrics: KbkMetrics,
    private readonly options: MetricsSessionOptions,
  ) {}

  static async start(metrics: KbkMetrics, options: MetricsSessionOptions): Promise<MetricsSession> {
    const session = new MetricsSession(metrics, options)
    if (options.port !== undefined) {
      session.server = await serveMetrics(metrics, options.host ?? '127.0.0.1', options.port)
      options.onServing?.(`http://${session.server.address}/metrics`)
    }
    if (options.file) {
      const file = options.file
      // A long run keeps the file fresh; a failed periodic write is retried at the next tick and
      // at the end, where its error is reported.
      session.timer = setInterval(() => {
        session.writing = session.writing.then(() => writeTextfile(file, metrics)).catch(() => {})
      }, options.intervalMs ?? TEXTFILE_INTERVAL_MS)
      session.timer.unref()
    }
    return session
  }

  /** The final textfile write, and the server stopped. */
  async finish(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.writing
    try {
      if (this.options.file) await writeTextfile(this.options.file, this.metrics)
    } finally {
      await this.server?.close()
    }
  }
}
