// Compile-time proof that the normalized types cover the schema: every raw key has a normalized
// home and the enums are the same sets. `npm test` type-checks this file; a drift fails it.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {RawAzureStore, RawCluster, RawFsStore, RawGcsStore, RawPolicy, RawRestore, RawRetentionTier, RawS3Store, RawSasl, RawStore, RawComplianceTag} from '../../../src/config/raw-types.js'
import type {AzureStoreConfig, ClusterConfig, FsStoreConfig, GcsStoreConfig, PolicyConfig, RestoreConfig, RetentionTier, S3StoreConfig, SaslConfig, StoreConfig} from '../../../src/config/types.js'
import type {TagRequirements} from '../../../src/config/compliance.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Expect<T extends true> = T
type Missing<Raw, Norm> = Exclude<keyof Raw, keyof Norm>

export type Checks = [
  Expect<Equal<StoreConfig['type'], RawStore['type']>>,
  Expect<Equal<SaslConfig['mechanism'], RawSasl['mechanism']>>,
  Expect<Equal<PolicyConfig['compression']['codec'], NonNullable<NonNullable<RawPolicy['compression']>['codec']>>>,
  Expect<Equal<NonNullable<PolicyConfig['masking']>['mode'], NonNullable<NonNullable<RawPolicy['masking']>['mode']>>>,
  Expect<Equal<RestoreConfig['ifTargetNotEmpty'], NonNullable<RawRestore['ifTargetNotEmpty']>>>,
  Expect<Equal<Missing<RawFsStore, FsStoreConfig>, never>>,
  Expect<Equal<Missing<RawS3Store, S3StoreConfig>, never>>,
  Expect<Equal<Missing<RawAzureStore, AzureStoreConfig>, never>>,
  Expect<Equal<Missing<RawGcsStore, GcsStoreConfig>, never>>,
  Expect<Equal<Missing<RawRetentionTier, RetentionTier>, never>>,
  Expect<Equal<Missing<RawPolicy, PolicyConfig>, never>>,
  Expect<Equal<Missing<RawRestore, RestoreConfig>, never>>,
  // connectionTimeout is normalized to connectionTimeoutMs.
  Expect<Equal<Missing<RawCluster, ClusterConfig>, 'connectionTimeout'>>,
  // Every workspace tag setting is a requirement the compliance checks know (description aside).
  Expect<Equal<Missing<RawComplianceTag, TagRequirements>, 'description'>>,
]

test('the type checks above compile (npm test type-checks this file)', () => {
  const proof: Checks['length'] = 14
  assert.equal(proof, 14)
})
