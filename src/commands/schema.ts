// `kbk schema`: the workspace JSON Schema that ships in the package (schemas/config.schema.json),
// for editors that validate kbk.yaml offline. `kbk init` writes the same text as kbk.schema.json.
import {readFile, writeFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {Flags} from '@oclif/core'
import {KbkCommand} from '../cli/base-command.js'
import {SCHEMA_URL} from '../config/index.js'
import {KbkError} from '../errors.js'

export interface SchemaResult {
  /** The schema file inside the installed package. */
  path: string
  /** Where --out wrote it. */
  out?: string
  schema?: unknown
}

export default class Schema extends KbkCommand<typeof Schema> {
  static override description = `Print the workspace JSON Schema (what kbk validate checks kbk.yaml against), so editors can validate and complete kbk.yaml offline.

Point the YAML language server at it with a first line in kbk.yaml: # yaml-language-server: $schema=./kbk.schema.json (kbk init writes both).`

  static override examples = [
    '<%= config.bin %> schema --out kbk.schema.json   # refresh the copy kbk init wrote, after upgrading kbk',
    '<%= config.bin %> schema --path                  # the file inside the installed package',
  ]

  static override flags = {
    out: Flags.string({description: 'Write the schema to this file instead of stdout.'}),
    path: Flags.boolean({description: 'Print where the schema file is in the installed package, not its text.', exclusive: ['out']}),
  }

  async run(): Promise<SchemaResult> {
    const path = fileURLToPath(SCHEMA_URL)
    if (this.flags.path) {
      this.out(path)
      return {path}
    }
    const text = await readFile(path, 'utf8')
    if (this.flags.out) {
      try {
        await writeFile(this.flags.out, text)
      } catch (e) {
        throw new KbkError('KBK_SCHEMA_OUT', `Cannot write ${this.flags.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, {suggestion: 'Pass --out a path in a directory you can write to.'})
      }
      this.info(`Wrote the workspace schema to ${this.flags.out}.`)
      return {path, out: this.flags.out}
    }
    if (!this.jsonEnabled()) process.stdout.write(text.endsWith('\n') ? text : text + '\n')
    return {path, schema: JSON.parse(text) as unknown}
  }
}
