// A fault-injecting HTTP proxy on loopback in front of a real store server (versitygw): requests
// pass through untouched (headers included, so SigV4 signatures made for the proxy's host still
// verify), except those `fault` picks, which get a 500 InternalError without reaching the server,
// or no answer at all ('hang': a store that stopped responding).
import {createServer, request} from 'node:http'
import type {IncomingMessage} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface FaultProxy {
  /** http://127.0.0.1:PORT: use it as the store's endpoint. */
  url: string
  /** Decides, per request, whether to fail it (true) or never answer it ('hang'). Replace at any time. */
  fault: (req: IncomingMessage) => boolean | 'hang'
  /** Called after a request the server answered (not one the proxy failed). */
  onPassed: (req: IncomingMessage, status: number) => void
  /** Requests failed so far. */
  injected: number
  close(): Promise<void>
}

const INTERNAL_ERROR = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>Injected by the test fault proxy.</Message></Error>'

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target)
  const proxy: FaultProxy = {url: '', fault: () => false, onPassed: () => undefined, injected: 0, close: async () => undefined}
  const server = createServer((req, res) => {
    const fault = proxy.fault(req)
    if (fault === 'hang') {
      req.resume()
      return
    }
    if (fault) {
      proxy.injected++
      req.resume()
      req.on('end', () => {
        res.writeHead(500, {'content-type': 'application/xml', 'content-length': Buffer.byteLength(INTERNAL_ERROR)})
        res.end(INTERNAL_ERROR)
      })
      return
    }
    const up = request({host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers}, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers)
      ur.pipe(res)
      ur.on('end', () => proxy.onPassed(req, ur.statusCode ?? 0))
    })
    up.on('error', (e) => res.destroy(e))
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return proxy
}

/** Whether a request writes a backup segment (a PUT of an object under the prefix's data/). */
export function isSegmentPut(req: IncomingMessage): boolean {
  return req.method === 'PUT' && /\/data\/[^?]*\.kbs(\?|$)/.test(req.url ?? '')
}
