// The SchemaRegistryPort: what kbk asks of a Confluent-API-compatible schema registry
// (Confluent Schema Registry, Apicurio's /apis/ccompat/v7, Karapace). The HTTP adapter
// (http-adapter.ts) is the only implementation; the composition root opens it.

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

export interface SchemaReference {
  /** The name the referencing schema imports it by (a .proto file name, a JSON $ref, an Avro full name). */
  name: string
  subject: string
  version: number
}

/** What is registered: the schema text, its type and what it references. */
export interface SchemaPayload {
  schema: string
  schemaType: SchemaType
  references: SchemaReference[]
}

export interface RegisteredVersion extends SchemaPayload {
  subject: string
  version: number
  /** The registry-wide schema ID that records carry in their wire format. */
  id: number
}

export interface CompatibilityResult {
  compatible: boolean
  /** The registry's reasons when it gives them (verbose=true). */
  messages: string[]
}

export interface SchemaRegistryPort {
  /** Human description for errors: `schema registry "main" (http://…)`. Never contains credentials. */
  readonly description: string
  subjects(): Promise<string[]>
  /** Version numbers of a subject, ascending; [] when the subject does not exist. */
  versions(subject: string): Promise<number[]>
  version(subject: string, version: number): Promise<RegisteredVersion>
  /** Compatibility level of the subject, or the global one when subject is undefined; undefined: not set (404). */
  compatibility(subject?: string): Promise<string | undefined>
  /** Mode (READWRITE, READONLY, IMPORT); 'unsupported' when the registry has no /mode endpoint (Apicurio 2.x answers 404). */
  mode(subject?: string): Promise<string | undefined | 'unsupported'>
  /** The version of the subject holding exactly this schema, if any (POST /subjects/{subject}). */
  lookup(subject: string, payload: SchemaPayload): Promise<{id: number; version: number} | undefined>
  /** Would this schema be accepted as the subject's next version under its compatibility level? */
  testCompatibility(subject: string, payload: SchemaPayload): Promise<CompatibilityResult>
  /** Registers (or finds) the schema under the subject; returns its ID. */
  register(subject: string, payload: SchemaPayload): Promise<number>
  setCompatibility(subject: string, level: string): Promise<void>
}
