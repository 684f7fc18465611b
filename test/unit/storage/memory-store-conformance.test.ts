// The in-memory store that unit tests use passes the same conformance suite as the real adapters
// (test/integration/storage-conformance.test.ts runs it on fs, s3, azure and gcs): a unit test's
// assumptions about conditional writes, listings, retention and error codes hold for them too.
import type {StoreConfig} from '../../../src/storage/index.js'
import {MemoryStore} from '../../helpers/memory-store.js'
import {POSITION, storageConformanceSuite} from '../../helpers/storage-conformance.js'

const stores = new Map<string, MemoryStore>()

storageConformanceSuite({
  kind: 'memory',
  storeKind: 'fs',
  descriptionPattern: /^store "conformance" \(memory:\/\/.+\/\)$/,
  async setup() {},
  config: (prefix) => ({type: 'fs', path: 'memory', prefix}),
  // One store per prefix, the same one each time it is opened: prefixes are separate namespaces.
  open(config: StoreConfig) {
    const prefix = (config as {prefix?: string}).prefix ?? ''
    let s = stores.get(prefix)
    if (!s) {
      s = new MemoryStore({context: {name: 'conformance', position: POSITION}, location: `memory://conformance/${prefix}/`})
      stores.set(prefix, s)
    }
    return s
  },
  paginationKeys: 1105,
  async teardown() {
    stores.clear()
  },
})
